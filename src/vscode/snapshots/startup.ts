import * as vscode from 'vscode';
import type { AutosaveManifest, SnapshotEntry } from '../../core/snapshots/store';
import { ExtensionContextServices } from '../context';
import { plural } from '../format';
import { Cancelled } from '../pick';
import { entryDescription, entryLabel, savedAtText } from './describe';
import { approveProgramsOfMany, ProgramQuestion, readRestorable, restoreEntry } from './restoreFlow';

/** States in which the server's sessions are known: the offer can be decided. */
const SETTLED = new Set(['ok', 'noServer']);
/** States that will not turn into a known list of sessions soon: no offer, but autosave may start. */
const GIVEN_UP = new Set(['tmuxMissing', 'versionTooOld', 'error', 'stopped']);

/**
 * After a reboot: once the service first knows the server's sessions, reads the manifest the last
 * autosave wrote; when the server has none of the sessions it lists, offers to restore them (or
 * restores them, or does nothing, as `restoreOnStartup` says). Once per activation. `onRead` is
 * called as soon as the manifest was read (or there is nothing to read), before any question: the
 * autosaver must not overwrite the manifest before that.
 */
export function offerRestoreAfterReboot(ctx: ExtensionContextServices, onRead: () => void): vscode.Disposable {
  let decided = false;
  let subscription: { dispose(): void } | undefined;
  const decide = async () => {
    const kind = ctx.service().state.kind;
    if (decided || !(SETTLED.has(kind) || GIVEN_UP.has(kind))) return;
    decided = true;
    subscription?.dispose();
    let offer: Autosaved | undefined;
    try {
      if (SETTLED.has(kind)) offer = await readOffer(ctx);
    } catch (error) {
      ctx.log.warn(`after-reboot restore: cannot read the autosave manifest: ${(error as Error).message}`);
    } finally {
      onRead();
    }
    if (offer) await presentOffer(ctx, offer).catch((error) => ctx.log.warn(`after-reboot restore failed: ${(error as Error).message}`));
  };
  subscription = ctx.service().onDidChangeState(() => void decide());
  void decide();
  return {
    dispose: () => {
      decided = true;
      subscription?.dispose();
    },
  };
}

/** The last autosave, seen from now. */
interface Autosaved {
  readonly manifest: AutosaveManifest;
  /** A snapshot for each listed session not running now: the one the autosave wrote, else its newest good one. */
  readonly entries: readonly SnapshotEntry[];
  /** Listed sessions that are running now. */
  readonly running: readonly string[];
}

async function readAutosaved(ctx: ExtensionContextServices): Promise<Autosaved | undefined> {
  const store = ctx.store();
  const manifest = await store.readManifest();
  const names = Object.keys(manifest?.sessions ?? {});
  if (!manifest || names.length === 0) return undefined;
  const runningNow = new Set(ctx.service().tree.sessions.map((s) => s.name));
  const listing = await store.list();
  const entries: SnapshotEntry[] = [];
  for (const name of names) {
    if (runningNow.has(name)) continue;
    const listed = listing.find((e) => e.id === manifest.sessions[name] && !e.broken);
    const entry = listed ?? (await store.latestGood(name))?.entry;
    if (entry) entries.push(entry);
    else ctx.log.warn(`no readable snapshot of "${name}" to restore (the last autosave wrote ${manifest.sessions[name]})`);
  }
  return { manifest, entries, running: names.filter((name) => runningNow.has(name)) };
}

/** Only after a reboot: when the server has none of the autosaved sessions. */
async function readOffer(ctx: ExtensionContextServices): Promise<Autosaved | undefined> {
  if (ctx.settings().restoreOnStartup === 'never') return undefined;
  const autosaved = await readAutosaved(ctx);
  if (!autosaved || autosaved.running.length > 0 || autosaved.entries.length === 0) return undefined;
  ctx.log.info(`after-reboot restore: the server has none of the ${plural(autosaved.entries.length, 'session')} autosaved at ${autosaved.manifest.savedAt}`);
  return autosaved;
}

async function presentOffer(ctx: ExtensionContextServices, offer: Autosaved): Promise<void> {
  if (ctx.settings().restoreOnStartup === 'always') {
    await restoreMany(ctx, offer.entries);
    return;
  }
  const count = offer.entries.length;
  const what = count === 1 ? `session "${offer.entries[0].sessionName}"` : `${count} sessions`;
  const choice = await vscode.window.showInformationMessage(`Restore ${what} saved at ${savedAtText(new Date(offer.manifest.savedAt))}?`, 'Restore', 'Choose…', 'Not now');
  if (choice === 'Restore') {
    await restoreMany(ctx, offer.entries);
  } else if (choice === 'Choose…') {
    const picked = await chooseEntries(offer.entries, 'Restore tmux Sessions', 'Restore which sessions?').catch(() => []);
    if (picked.length > 0) await restoreMany(ctx, picked);
  }
}

/** Every entry starts picked: the usual answer is "all of them, maybe minus one". */
async function chooseEntries(entries: readonly SnapshotEntry[], title: string, placeHolder: string): Promise<SnapshotEntry[]> {
  const picked = await vscode.window.showQuickPick(
    entries.map((entry) => ({ label: entry.sessionName, description: `${entryLabel(entry)} · ${entryDescription(entry)}`, picked: true, entry })),
    { canPickMany: true, title, placeHolder },
  );
  if (!picked || picked.length === 0) throw new Cancelled();
  return picked.map((p) => p.entry);
}

export interface RestoreAutosavedArgs {
  /** Restore these sessions of the last autosave without asking which (scripts and tests). */
  readonly sessions?: readonly string[];
}

/**
 * The sessions of the last autosave that are not running: what a user wants back after a
 * mistaken kill-server or a crash, when no reboot offer comes. Returns the names restored.
 */
export async function restoreAutosaved(ctx: ExtensionContextServices, args: RestoreAutosavedArgs = {}): Promise<string[]> {
  const autosaved = await readAutosaved(ctx);
  if (!autosaved) {
    void vscode.window.showInformationMessage(
      'Nothing has been autosaved yet: autosave runs every few minutes while a tmux server is up (tmuxSessionManager.autosaveMinutes). "Restore Session…" restores any snapshot.',
    );
    return [];
  }
  const at = savedAtText(new Date(autosaved.manifest.savedAt));
  if (autosaved.entries.length === 0) {
    void vscode.window.showInformationMessage(
      autosaved.running.length > 0
        ? `Every session of the autosave at ${at} that can be restored is running: ${autosaved.running.join(', ')}.`
        : `The snapshots the autosave at ${at} wrote were deleted or cannot be read. "Restore Session…" restores any other snapshot.`,
    );
    return [];
  }
  const running = autosaved.running.length > 0 ? ` (running, so not listed: ${autosaved.running.join(', ')})` : '';
  const chosen = args.sessions
    ? autosaved.entries.filter((entry) => args.sessions!.includes(entry.sessionName))
    : await chooseEntries(autosaved.entries, `Restore Sessions Autosaved at ${at}`, `Restore which sessions?${running}`);
  return restoreMany(ctx, chosen);
}

/** For the no-server welcome view and the status bar: is there an autosave to restore from? */
export async function hasAutosave(ctx: ExtensionContextServices): Promise<boolean> {
  const manifest = await ctx.store().readManifest();
  return Object.keys(manifest?.sessions ?? {}).length > 0;
}

/**
 * One after the other; a cancelled restore stops the rest, a failed one does not. A session that
 * is running by then is left alone: after a reboot every open VS Code window makes the offer, and
 * accepting it in two of them must not restore each session twice. Programs outside the safe list
 * are asked about once, for all the sessions, before any is built.
 */
export async function restoreMany(ctx: ExtensionContextServices, entries: readonly SnapshotEntry[], askPrograms?: ProgramQuestion): Promise<string[]> {
  // Each document is read once, for the question and for its restore.
  const snapshots = await readRestorable(ctx, entries);
  let runPrograms: boolean | undefined;
  try {
    runPrograms = await approveProgramsOfMany(ctx.settings(), snapshots.values(), askPrograms);
  } catch (error) {
    if (error instanceof Cancelled) return [];
    throw error;
  }
  const restored: string[] = [];
  const running: string[] = [];
  const failed: string[] = [];
  for (const entry of entries) {
    try {
      const outcome = await restoreEntry(ctx, entry, { quiet: true, conflict: 'skip', runPrograms }, snapshots.get(entry));
      if (outcome.result) restored.push(outcome.result.name);
      if (outcome.alreadyRunning) running.push(outcome.alreadyRunning);
    } catch (error) {
      if (error instanceof Cancelled) break;
      failed.push(`${entry.sessionName}: ${(error as Error).message}`);
      ctx.log.error(`restoring "${entry.sessionName}" from ${entry.file} failed: ${(error as Error).message}`);
    }
  }
  const alreadyText = running.length > 0 ? ` Already running, left as they are: ${running.join(', ')}.` : '';
  if (restored.length > 0) void vscode.window.showInformationMessage(`Restored ${plural(restored.length, 'tmux session')}: ${restored.join(', ')}.${alreadyText}`);
  else if (running.length > 0) void vscode.window.showInformationMessage(`Nothing to restore:${alreadyText}`);
  if (failed.length > 0) {
    void vscode.window.showErrorMessage(`${plural(failed.length, 'session')} could not be restored. ${failed.join(' ')}`, 'Show Log').then((button) => {
      if (button === 'Show Log') ctx.log.show();
    });
  }
  return restored;
}
