import * as path from 'node:path';
import * as vscode from 'vscode';
import { countPanes, Snapshot } from '../../core/snapshots/document';
import { PlannedProgram, planPrograms, ProgramChoice, RestoreCancelled, RestoreResult, restoreSnapshot } from '../../core/snapshots/restore';
import type { SnapshotEntry } from '../../core/snapshots/store';
import { InvalidInputError } from '../../tmux/errors';
import { Session } from '../../tmux/model';
import { firstFreeName, sessionNameProblem } from '../../tmux/names';
import { TmuxService } from '../../tmux/service';
import { eventually } from '../../tmux/wait';
import { ExtensionContextServices } from '../context';
import type { Settings } from '../settings';
import { plural } from '../format';
import { Cancelled } from '../pick';
import { entryLabel } from './describe';

/** `skip`: leave the running session alone and restore nothing (another window got there first). */
export type ConflictChoice = 'attach' | 'rename' | 'replace' | 'skip';

/** What scripts and tests pass to the restore commands instead of answering prompts. */
export interface RestoreArgs {
  /** The session name to create; default: the saved name. */
  readonly name?: string;
  /** When a session of that name exists: attach to it, restore under a free name, or replace it. Asked when omitted. */
  readonly conflict?: ConflictChoice;
  /** Start the programs outside the safe list (resume commands, and with "all" any program) or not, without asking. */
  readonly runPrograms?: boolean;
  /** No "Restored …" message (the after-reboot offer sums several restores up in one). */
  readonly quiet?: boolean;
}

export interface RestoreOutcome {
  readonly entry: SnapshotEntry;
  /** Absent when the user chose to attach to the existing session instead. */
  readonly result?: RestoreResult;
  /** The existing session attached to instead of restoring. */
  readonly attachedTo?: string;
  /** With conflict `skip`: the session was already running, nothing was restored. */
  readonly alreadyRunning?: string;
}

/**
 * Restores one snapshot the way the user expects from a button: never over an existing session
 * without asking, programs outside the safe list only after showing them, a cancellable progress
 * notification, and the whole restore under the data folder's lock (no autosave meanwhile).
 */
export async function restoreEntry(ctx: ExtensionContextServices, entry: SnapshotEntry, args: RestoreArgs = {}, alreadyRead?: Snapshot): Promise<RestoreOutcome> {
  if (entry.broken) throw new Error(`The snapshot "${entryLabel(entry)}" of session "${entry.sessionName}" cannot be restored: ${entry.broken}`);
  const store = ctx.store();
  const service = ctx.service();
  const snapshot = alreadyRead ?? (await store.read(entry));
  let name = args.name ?? snapshot.session.name;
  const problem = sessionNameProblem(name);
  if (problem) throw new InvalidInputError(problem);

  let replace = false;
  const taken = await sessionNames(service);
  if (taken.has(name)) {
    const free = firstFreeName(`${name}-restored`, taken);
    const choice = args.conflict ?? (await askConflict(name, free));
    if (choice === 'skip') return { entry, alreadyRunning: name };
    if (choice === 'attach') {
      const existing = await liveSession(service, name);
      if (!existing) throw new Error(`The session "${name}" is gone. Restore again to recreate it.`);
      await vscode.commands.executeCommand('tmuxSessionManager.attach', existing);
      return { entry, attachedTo: name };
    }
    if (choice === 'rename') name = free;
    if (choice === 'replace') {
      if (args.conflict !== 'replace') await confirmReplace(name, snapshot);
      replace = true;
    }
  }

  const choice = programChoiceOf(ctx.settings());
  const approve = await programApproval(snapshot, choice, args);

  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Restoring tmux session "${name}"`, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const cancel = token.onCancellationRequested(() => controller.abort());
      let done = 0;
      progress.report({ message: 'waiting for the snapshot folder…' });
      try {
        return await store.withLock(
          'restore',
          async () => {
            // Another window may have restored it while this one waited for the lock.
            if (args.conflict === 'skip' && !replace && (await sessionNames(service)).has(name)) return undefined;
            // The tree is read once at the end, not after each of the restore's splits.
            return service.batch(() =>
              restoreSnapshot((argv) => service.runStartingServer(argv), snapshot, {
                ...choice,
                name,
                replace,
                approve,
                signal: controller.signal,
                tempDir: path.join(store.dataDir, 'tmp'),
                onProgress: (message, fraction) => {
                  const increment = Math.max(0, Math.min(1, fraction) - done) * 100;
                  done = Math.max(done, Math.min(1, fraction));
                  progress.report({ message, increment });
                },
              }),
            );
          },
          { signal: controller.signal },
        );
      } catch (error) {
        if (error instanceof RestoreCancelled || controller.signal.aborted) {
          ctx.log.info(`restore of "${name}" cancelled`);
          void vscode.window.showInformationMessage(error instanceof RestoreCancelled ? error.message : 'Restore cancelled.');
          throw new Cancelled();
        }
        throw error;
      } finally {
        cancel.dispose();
      }
    },
  );

  if (!result) {
    ctx.log.info(`restore of "${name}" skipped: the session is already running (restored from another window?)`);
    return { entry, alreadyRunning: name };
  }
  ctx.log.info(
    `restored session "${result.name}" (${result.sessionId}) from ${entry.file}; programs started: ${result.programsStarted.join(', ') || 'none'}; not started: ${result.programsSkipped.join(', ') || 'none'}${result.warnings.length ? `; warnings: ${result.warnings.join('; ')}` : ''}`,
  );
  ctx.layoutKeeper().keep(result.windows);
  const session = await showInTree(ctx, result.sessionId);
  if (!args.quiet) {
    const skipped = result.programsSkipped.length > 0 ? ` Not started again: ${result.programsSkipped.join(', ')}.` : '';
    const warnings = result.warnings.length > 0 ? ` ${result.warnings.join('; ')}.` : '';
    const what = `${plural(snapshot.session.windows.length, 'window')}, ${plural(countPanes(snapshot), 'pane')}`;
    void vscode.window.showInformationMessage(`Restored tmux session "${result.name}" (${what}).${skipped}${warnings}`, 'Attach').then((button) => {
      if (button === 'Attach') void vscode.commands.executeCommand('tmuxSessionManager.attach', session ?? { id: result.sessionId });
    });
  }
  return { entry, result };
}

/** Names on the server now: the tree may lag a change made a moment ago, so tmux is asked too. */
async function sessionNames(service: TmuxService): Promise<Set<string>> {
  const names = new Set(service.tree.sessions.map((s) => s.name));
  const listed = await service.run(['list-sessions', '-F', '#{session_name}']).catch(() => [] as string[]);
  for (const name of listed) names.add(name);
  return names;
}

async function liveSession(service: TmuxService, name: string): Promise<Session | undefined> {
  const find = () => service.tree.sessions.find((s) => s.name === name);
  if (!find()) await service.refresh();
  return find();
}

async function askConflict(name: string, free: string): Promise<ConflictChoice> {
  const attach = 'Attach to It';
  const rename = `Restore as "${free}"`;
  const replace = 'Replace…';
  const choice = await vscode.window.showInformationMessage(
    `A tmux session named "${name}" is already running.`,
    { modal: true, detail: `Attach to the running session, restore the snapshot beside it as "${free}", or replace the running session with the snapshot.` },
    attach,
    rename,
    replace,
  );
  if (choice === attach) return 'attach';
  if (choice === rename) return 'rename';
  if (choice === replace) return 'replace';
  throw new Cancelled();
}

async function confirmReplace(name: string, snapshot: Snapshot): Promise<void> {
  const choice = await vscode.window.showWarningMessage(
    `Replace the running session "${name}"?`,
    {
      modal: true,
      detail: `The running session and every program in it are killed, then the snapshot (${plural(snapshot.session.windows.length, 'window')}, saved ${new Date(snapshot.savedAt).toLocaleString()}) is restored in its place. This cannot be undone.`,
    },
    'Replace',
  );
  if (choice !== 'Replace') throw new Cancelled();
}

/**
 * Programs the core would ask about (outside the safe list: everything else with the policy
 * "all", and resume commands such as `claude --continue` with "safe") are shown before anything
 * is built, so a dismissed prompt cancels the restore with nothing to undo. The core asks through
 * `approve`; the answer given up front is reused.
 */
async function programApproval(snapshot: Snapshot, choice: ProgramChoice, args: RestoreArgs): Promise<((programs: readonly PlannedProgram[]) => Promise<boolean>) | undefined> {
  if (choice.policy === 'none') return undefined;
  let decision = args.runPrograms;
  const unsafe = planPrograms(snapshot, choice).filter((p) => !p.safe);
  if (decision === undefined && unsafe.length > 0) decision = await askPrograms(unsafe, true);
  return async (programs) => {
    if (decision === undefined) decision = await askPrograms(programs, false);
    return decision;
  };
}

/** Asks whether to start programs outside the safe list; true: run them. */
export type ProgramQuestion = (programs: readonly PlannedProgram[]) => Promise<boolean>;

/**
 * The documents of the entries a restore of several sessions will build: broken, unreadable and
 * running ones are left out (their own restore reports or skips them).
 */
export async function readRestorable(ctx: ExtensionContextServices, entries: readonly SnapshotEntry[]): Promise<Map<SnapshotEntry, Snapshot>> {
  const running = await sessionNames(ctx.service());
  const snapshots = new Map<SnapshotEntry, Snapshot>();
  for (const entry of entries) {
    if (entry.broken || running.has(entry.sessionName)) continue;
    const snapshot = await ctx.store().read(entry).catch(() => undefined);
    if (snapshot) snapshots.set(entry, snapshot);
  }
  return snapshots;
}

/**
 * Restoring several sessions at once (after a reboot) asks about their programs once, not once
 * per session: five agent sessions would otherwise stack five modal questions. Undefined: nothing
 * to ask. A dismissed question throws Cancelled, so nothing is restored.
 */
export async function approveProgramsOfMany(
  settings: Settings,
  snapshots: Iterable<Snapshot>,
  ask: ProgramQuestion = (programs) => askPrograms(programs, true),
): Promise<boolean | undefined> {
  const choice = programChoiceOf(settings);
  if (choice.policy === 'none') return undefined;
  const unsafe: PlannedProgram[] = [];
  for (const snapshot of snapshots) {
    for (const program of planPrograms(snapshot, choice)) {
      if (!program.safe) unsafe.push({ ...program, window: `${snapshot.session.name} › ${program.window}` });
    }
  }
  return unsafe.length > 0 ? ask(unsafe) : undefined;
}

function programChoiceOf(settings: Settings): ProgramChoice {
  return { policy: settings.restorePrograms, safePrograms: settings.safePrograms, restoreCommands: settings.restoreCommands };
}

async function askPrograms(programs: readonly PlannedProgram[], dismissCancels: boolean): Promise<boolean> {
  const run = 'Run Them';
  const skip = 'Restore Without Them';
  const lines = programs.slice(0, 20).map((p) => `${p.window} · pane ${p.paneIndex}: ${p.command}`);
  if (programs.length > 20) lines.push(`… and ${programs.length - 20} more`);
  const choice = await vscode.window.showWarningMessage(
    `Start ${plural(programs.length, 'program')} that ${programs.length === 1 ? 'is' : 'are'} not in the safe list?`,
    {
      modal: true,
      detail: `The snapshot had these programs running. Restoring types these commands into the new panes:\n\n${lines.join('\n')}\n\nOnly run commands you recognise. "Restore Without Them" leaves those panes at a shell prompt in the same folder.`,
    },
    run,
    skip,
  );
  if (choice === run) return true;
  if (choice === skip) return false;
  if (dismissCancels) throw new Cancelled();
  return false;
}

/** Brings the new session into the Sessions tree now, not at the next event. */
async function showInTree(ctx: ExtensionContextServices, sessionId: string): Promise<Session | undefined> {
  const service = ctx.service();
  const find = () => service.tree.sessions.find((s) => s.id === sessionId);
  await eventually(() => !!find(), 3000).catch(() => service.refresh());
  ctx.treeProvider.refreshNow();
  ctx.statusBar.update();
  return find();
}
