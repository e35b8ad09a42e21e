import * as vscode from 'vscode';
import { captureSessions } from '../../core/snapshots/capture';
import type { SnapshotEntry } from '../../core/snapshots/store';
import { Session } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { plural, tildePath } from '../format';
import { Cancelled, pickSession, resolveNode } from '../pick';
import { entryDescription, entryLabel, groupBySession } from './describe';
import { restoreEntry, RestoreArgs, RestoreOutcome } from './restoreFlow';
import { restoreAutosaved, RestoreAutosavedArgs } from './startup';
import { isSnapshotNode } from './view';

type Handler = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SaveArgs {
  /** The snapshot's name ("before refactor"); '' saves it unnamed. Asked when omitted (Save Session only). */
  readonly label?: string;
}

export interface DeleteArgs {
  /** Scripts and tests that already asked can skip the confirmation. */
  readonly confirm?: boolean;
}

/** The snapshot commands, by id; registered by the command table behind its one error boundary. */
export function snapshotCommands(ctx: ExtensionContextServices): Record<string, Handler> {
  return {
    'tmuxSessionManager.saveSession': (node?: unknown, args?: unknown) => saveSession(ctx, ...targetAndArgs<SaveArgs>(node, args)),
    'tmuxSessionManager.saveAll': (args?: unknown) => saveAll(ctx, optionsOf<SaveArgs>(args)),
    'tmuxSessionManager.restoreSession': (args?: unknown) => restoreSession(ctx, optionsOf<RestoreArgs>(args)),
    'tmuxSessionManager.restoreLast': (target?: unknown, args?: unknown) => restoreLast(ctx, ...targetAndArgs<RestoreArgs>(target, args)),
    'tmuxSessionManager.restoreAutosaved': (args?: unknown) => restoreAutosaved(ctx, optionsOf<RestoreAutosavedArgs>(args)),
    'tmuxSessionManager.restoreSnapshot': (target?: unknown, args?: unknown) => restoreSnapshot(ctx, ...targetAndArgs<RestoreArgs>(target, args)),
    'tmuxSessionManager.openSnapshot': (target?: unknown) => openSnapshot(ctx, target),
    'tmuxSessionManager.renameSnapshot': (target?: unknown, args?: unknown) => renameSnapshot(ctx, ...targetAndArgs<SaveArgs>(target, args)),
    'tmuxSessionManager.deleteSnapshot': (target?: unknown, args?: unknown) => deleteSnapshot(ctx, ...targetAndArgs<DeleteArgs>(target, args)),
    'tmuxSessionManager.refreshSnapshots': () => ctx.snapshotTree.refresh(),
  };
}

// ------------------------------------------------------------------ saving

/** The clicked session (or a pick), then an optional name for the snapshot. */
export async function saveSession(ctx: ExtensionContextServices, node?: unknown, args: SaveArgs = {}): Promise<SnapshotEntry[]> {
  const service = ctx.service();
  const resolved = resolveNode(service, node);
  const session = resolved
    ? service.tree.sessions.find((s) => s.id === (resolved.kind === 'session' ? resolved.id : resolved.sessionId))!
    : await pickSession(service, 'Save which tmux session?');
  let label = args.label;
  if (label === undefined) {
    label = await vscode.window.showInputBox({
      title: `Save Session "${session.name}"`,
      prompt: 'A name for this snapshot (optional). Named snapshots are kept until you delete them.',
      placeHolder: 'before refactor',
    });
    if (label === undefined) throw new Cancelled();
  }
  const entries = await saveSessions(ctx, [session], label.trim() || undefined);
  void vscode.window.showInformationMessage(`Saved tmux session "${session.name}"${label.trim() ? ` as "${label.trim()}"` : ''}.`);
  return entries;
}

/** Every session on the server, unnamed, in one click. */
export async function saveAll(ctx: ExtensionContextServices, args: SaveArgs = {}): Promise<SnapshotEntry[]> {
  const service = ctx.service();
  if (service.state.kind !== 'ok') {
    throw new Error(service.state.kind === 'noServer' ? 'No tmux server is running: there is nothing to save.' : `tmux is not available (${service.state.kind}). Run "Tmux: Show Health Report" for details.`);
  }
  const sessions = service.tree.sessions;
  if (sessions.length === 0) throw new Error('There are no tmux sessions to save.');
  const entries = await saveSessions(ctx, sessions, args.label?.trim() || undefined);
  void vscode.window.showInformationMessage(`Saved ${plural(entries.length, 'tmux session')}.`);
  return entries;
}

/**
 * Captures the sessions as the service sees them now and writes one file each. Holds the data
 * folder's lock, so a save never captures a session a restore is still building.
 */
async function saveSessions(ctx: ExtensionContextServices, sessions: readonly Session[], label: string | undefined): Promise<SnapshotEntry[]> {
  const service = ctx.service();
  const store = ctx.store();
  const settings = ctx.settings();
  const ids = new Set(sessions.map((s) => s.id));
  const entries = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Saving ${plural(sessions.length, 'tmux session')}` }, () =>
    store.withLock('save', async () => {
      const current = (await service.refresh()).sessions.filter((s) => ids.has(s.id));
      if (current.length === 0) throw new Error('The session is gone: there is nothing to save.');
      const snapshots = await captureSessions((argv) => service.run(argv), current, {
        kind: 'manual',
        label,
        scrollbackLines: settings.scrollbackLines,
        tmuxVersion: service.getStats().version?.text ?? 'unknown',
      });
      return store.saveMany(snapshots);
    }),
  );
  for (const entry of entries) ctx.log.info(`saved session "${entry.sessionName}" to ${entry.file}`);
  ctx.snapshotTree.refresh();
  return entries;
}

// ------------------------------------------------------------------ restoring

/** A pick of every snapshot, grouped by session; then the restore. */
export async function restoreSession(ctx: ExtensionContextServices, args: RestoreArgs = {}): Promise<RestoreOutcome> {
  const entry = await pickEntry(ctx, { title: 'Restore tmux Session', placeHolder: 'Restore which snapshot?', allowBroken: false });
  return restoreEntry(ctx, entry, args);
}

/** The newest good snapshot (of the clicked group's session, or of any), past broken ones. */
export async function restoreLast(ctx: ExtensionContextServices, target?: unknown, args: RestoreArgs = {}): Promise<RestoreOutcome> {
  const sessionName = isSnapshotNode(target) ? (target.type === 'snapshotGroup' ? target.sessionName : target.entry.sessionName) : undefined;
  const latest = await ctx.store().latestGood(sessionName);
  if (!latest) {
    const where = sessionName ? ` of session "${sessionName}"` : '';
    const broken = (await ctx.store().list()).filter((e) => e.broken && (!sessionName || e.sessionName === sessionName)).length;
    throw new Error(`There is no snapshot${where} to restore${broken > 0 ? ` (${plural(broken, 'file')} cannot be read; see the Snapshots view)` : ''}. Save one with "Tmux: Save All Sessions".`);
  }
  return restoreEntry(ctx, latest.entry, args);
}

/** The clicked snapshot (a tree row, an entry, or an entry's id), or a pick. */
export async function restoreSnapshot(ctx: ExtensionContextServices, target?: unknown, args: RestoreArgs = {}): Promise<RestoreOutcome> {
  const entry = await entryFor(ctx, target, { title: 'Restore tmux Session', placeHolder: 'Restore which snapshot?', allowBroken: false });
  return restoreEntry(ctx, entry, args);
}

// ------------------------------------------------------------------ managing

/** Opens the snapshot's file as JSON in an editor (broken ones too: that is how to see why). */
export async function openSnapshot(ctx: ExtensionContextServices, target?: unknown): Promise<vscode.TextDocument> {
  const entry = await entryFor(ctx, target, { title: 'Open Snapshot as JSON', placeHolder: 'Open which snapshot?', allowBroken: true });
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(entry.file));
  await vscode.window.showTextDocument(document, { preview: true });
  return document;
}

/** Names (or unnames) a snapshot; a named autosave is kept until deleted. */
export async function renameSnapshot(ctx: ExtensionContextServices, target?: unknown, args: SaveArgs = {}): Promise<SnapshotEntry> {
  const entry = await entryFor(ctx, target, { title: 'Rename Snapshot', placeHolder: 'Rename which snapshot?', allowBroken: false });
  if (entry.broken) throw new Error(`The snapshot cannot be read, so it cannot be renamed: ${entry.broken}`);
  let label = args.label;
  if (label === undefined) {
    label = await vscode.window.showInputBox({
      title: `Rename Snapshot of "${entry.sessionName}"`,
      prompt: entry.kind === 'auto' ? 'A named autosave becomes a manual snapshot: it is kept until you delete it. Empty: no name.' : 'Empty: no name.',
      value: entry.label ?? '',
      placeHolder: 'before refactor',
    });
    if (label === undefined) throw new Cancelled();
  }
  const renamed = await ctx.store().rename(entry, label.trim() || undefined);
  ctx.snapshotTree.refresh();
  return renamed;
}

export async function deleteSnapshot(ctx: ExtensionContextServices, target?: unknown, args: DeleteArgs = {}): Promise<void> {
  const entry = await entryFor(ctx, target, { title: 'Delete Snapshot', placeHolder: 'Delete which snapshot?', allowBroken: true });
  if (args.confirm !== false) {
    const choice = await vscode.window.showWarningMessage(
      `Delete the snapshot "${entryLabel(entry)}" of session "${entry.sessionName}"?`,
      { modal: true, detail: `${entry.broken ? 'It cannot be read anyway' : `Saved ${entry.savedAt.toLocaleString()}`}. The file ${tildePath(entry.file)} is deleted; this cannot be undone.` },
      'Delete',
    );
    if (choice !== 'Delete') throw new Cancelled();
  }
  await ctx.store().delete(entry);
  ctx.log.info(`deleted snapshot ${entry.file}`);
  ctx.snapshotTree.refresh();
}

// ------------------------------------------------------------------ arguments and picks

interface PickOptions {
  readonly title: string;
  readonly placeHolder: string;
  readonly allowBroken: boolean;
}

/** A tree row, an entry, or an id resolved against the store's current listing; nothing: a pick. */
async function entryFor(ctx: ExtensionContextServices, target: unknown, pick: PickOptions): Promise<SnapshotEntry> {
  const id = idOf(target);
  if (id === undefined) return pickEntry(ctx, pick);
  const entry = (await ctx.store().list()).find((e) => e.id === id);
  if (!entry) throw new Error(`The snapshot ${id} is no longer there (deleted or pruned). Pick another from the Snapshots view.`);
  return entry;
}

function idOf(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (isSnapshotNode(target)) return target.type === 'snapshot' ? target.entry.id : undefined;
  if (typeof target === 'object' && target !== null && typeof (target as { id?: unknown }).id === 'string' && 'file' in target) return (target as SnapshotEntry).id;
  return undefined;
}

type EntryPick = vscode.QuickPickItem & { readonly entry?: SnapshotEntry };

/** Every snapshot, grouped by session under separators, newest first; broken ones say why. */
async function pickEntry(ctx: ExtensionContextServices, options: PickOptions): Promise<SnapshotEntry> {
  const entries = await ctx.store().list();
  if (entries.length === 0) throw new Error('There are no snapshots yet. Save sessions with "Tmux: Save All Sessions" first.');
  const running = new Set(ctx.service().tree.sessions.map((s) => s.name));
  const items: EntryPick[] = [];
  for (const [sessionName, group] of groupBySession(entries)) {
    items.push({ label: running.has(sessionName) ? `${sessionName} (running)` : sessionName, kind: vscode.QuickPickItemKind.Separator });
    for (const entry of group) {
      items.push(
        entry.broken
          ? { label: `$(error) ${entryLabel(entry)}`, description: `broken${options.allowBroken ? '' : ' · cannot be restored'}`, detail: entry.broken, entry }
          : { label: `$(${entry.kind === 'auto' ? 'history' : 'bookmark'}) ${entryLabel(entry)}`, description: entryDescription(entry), entry },
      );
    }
  }
  const quickPick = vscode.window.createQuickPick<EntryPick>();
  quickPick.title = options.title;
  quickPick.placeholder = options.placeHolder;
  quickPick.matchOnDescription = true;
  quickPick.items = items;
  try {
    return await new Promise<SnapshotEntry>((resolve, reject) => {
      quickPick.onDidAccept(() => {
        const entry = quickPick.selectedItems[0]?.entry;
        if (!entry) return;
        if (entry.broken && !options.allowBroken) {
          // Stays open: the user picks another one.
          quickPick.title = `${options.title}: "${entryLabel(entry)}" of ${entry.sessionName} is broken and cannot be restored`;
          return;
        }
        resolve(entry);
        quickPick.hide();
      });
      quickPick.onDidHide(() => reject(new Cancelled()));
      quickPick.show();
    });
  } finally {
    quickPick.dispose();
  }
}

/** The palette passes nothing; a tree click passes the element; scripts pass an options object. */
function optionsOf<T>(value: unknown): T {
  return (isOptions(value) ? value : {}) as T;
}

function isOptions(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('kind' in value) && !isSnapshotNode(value) && !('file' in value);
}

/** (target, options), or (options) alone from a script. */
function targetAndArgs<T>(first: unknown, second: unknown): [unknown, T] {
  if (second === undefined && isOptions(first)) return [undefined, first as T];
  return [first, optionsOf<T>(second)];
}
