import * as os from 'node:os';
import * as path from 'node:path';
import { Pane, PaneId, Session, SessionId, Tree } from '../../tmux/model';
import type { SnapshotEntry } from '../snapshots/store';
import { CleanupPolicy, protectedByPattern, STALE_LOCK_MS, STALE_TEMP_FILE_MS, untouchableBecause } from './policy';

/**
 * Deciding what to clean up, without touching anything: the same input and clock always give the
 * same candidates, so a dry run shows exactly what acting would do (and acting decides again on a
 * fresh input, see apply.ts).
 */

export type CandidateKind = 'idleSession' | 'missingFolder' | 'deadPane' | 'deletedSessionSnapshots' | 'staleLock' | 'staleTempFile';

export type CandidateTarget =
  | { readonly type: 'session'; readonly id: SessionId; readonly name: string }
  | { readonly type: 'pane'; readonly id: PaneId; readonly sessionId: SessionId; readonly sessionName: string; readonly windowIndex: number; readonly paneIndex: number }
  | { readonly type: 'snapshots'; readonly sessionName: string; readonly ids: readonly string[] }
  | { readonly type: 'file'; readonly path: string };

export interface CleanupCandidate {
  /** Stable while the target lives: `session:$3`, `pane:%7`, `snapshots:<session name>`, `file:<path>`. */
  readonly key: string;
  readonly kind: CandidateKind;
  readonly target: CandidateTarget;
  /** What it is, for a person: `session "api"`, `pane 1.0 of "api" (exited)`. */
  readonly label: string;
  /** Why it is proposed, for a person: `idle 3 days, no client attached`. */
  readonly reason: string;
}

/** A snapshot as cleanup needs it: the store's entry. */
export type SnapshotFacts = SnapshotEntry;

export interface StaleFileFacts {
  readonly path: string;
  readonly type: 'lock' | 'temp';
  readonly mtimeMs: number;
}

/** Everything cleanup decides from: the server's tree and what was read from disk. */
export interface CleanupInput {
  /** The server's tree; undefined when no server runs (then only files are candidates). */
  readonly tree: Tree | undefined;
  /** Folders (session folders and pane folders) that do not exist now. */
  readonly missingFolders: ReadonlySet<string>;
  readonly snapshots: readonly SnapshotFacts[];
  /** Session name → since when (ms) it is known to be gone from the server. */
  readonly goneSince: ReadonlyMap<string, number>;
  /** Dead panes tmux gave no death time for → when (ms) they were first seen dead. */
  readonly deadSince: ReadonlyMap<PaneId, number>;
  /** Lock folders and temporary files of ours in the data folder, with their age. */
  readonly files: readonly StaleFileFacts[];
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

export function findCleanupCandidates(input: CleanupInput, policy: CleanupPolicy, now: number): CleanupCandidate[] {
  const candidates: CleanupCandidate[] = [];
  const running = new Set(input.tree?.sessions.map((session) => session.name) ?? []);

  for (const session of input.tree?.sessions ?? []) {
    if (untouchableBecause(session, policy)) continue;
    const reasons: string[] = [];
    let kind: CandidateKind | undefined;
    const folder = goneFolder(session, input.missingFolders);
    if (folder !== undefined) {
      kind = 'missingFolder';
      reasons.push(`its folder ${tilde(folder)} no longer exists`);
    }
    const idleMs = now - lastActivity(session) * 1000;
    if (policy.idleSessionHours > 0 && idleMs >= policy.idleSessionHours * HOUR) {
      kind ??= 'idleSession';
      reasons.push(`idle ${span(idleMs)}, no client attached`);
    }
    if (kind) {
      candidates.push({ key: `session:${session.id}`, kind, target: { type: 'session', id: session.id, name: session.name }, label: `session "${session.name}"`, reason: reasons.join('; ') });
      // Killing the session closes its dead panes too: they are not proposed on their own.
      continue;
    }
    if (policy.deadPaneHours <= 0) continue;
    for (const window of session.windows) {
      for (const pane of window.panes) {
        if (!pane.dead) continue;
        const diedAt = pane.deadTime !== undefined ? pane.deadTime * 1000 : input.deadSince.get(pane.id);
        if (diedAt === undefined || now - diedAt < policy.deadPaneHours * HOUR) continue;
        const ago = `${span(now - diedAt)} ago`;
        candidates.push({
          key: `pane:${pane.id}`,
          kind: 'deadPane',
          target: { type: 'pane', id: pane.id, sessionId: session.id, sessionName: session.name, windowIndex: window.index, paneIndex: pane.index },
          label: `pane ${window.index}.${pane.index} of "${session.name}" (${pane.currentCommand || 'exited'})`,
          reason: pane.deadTime === undefined ? `first seen dead ${ago}` : pane.deadStatus === undefined ? `program exited ${ago}` : `program exited with status ${pane.deadStatus}, ${ago}`,
        });
      }
    }
  }

  if (policy.deletedSnapshotDays > 0) {
    const bySession = new Map<string, SnapshotFacts[]>();
    for (const snapshot of input.snapshots) {
      // Named and manual snapshots are kept until the user deletes them (the autosaveKeep promise); broken files stay for them to see.
      if (snapshot.kind !== 'auto' || snapshot.broken) continue;
      if (running.has(snapshot.sessionName) || protectedByPattern(snapshot.sessionName, policy.protect)) continue;
      bySession.set(snapshot.sessionName, [...(bySession.get(snapshot.sessionName) ?? []), snapshot]);
    }
    for (const [name, snapshots] of [...bySession].sort(([a], [b]) => a.localeCompare(b))) {
      const gone = input.goneSince.get(name);
      if (gone === undefined || now - gone < policy.deletedSnapshotDays * DAY) continue;
      candidates.push({
        key: `snapshots:${name}`,
        kind: 'deletedSessionSnapshots',
        target: { type: 'snapshots', sessionName: name, ids: snapshots.map((s) => s.id).sort() },
        label: `${snapshots.length === 1 ? '1 autosave' : `${snapshots.length} autosaves`} of session "${name}"`,
        reason: `the session has been gone for ${span(now - gone)}`,
      });
    }
  }

  for (const file of input.files) {
    const age = now - file.mtimeMs;
    if (file.type === 'lock' && age >= STALE_LOCK_MS) {
      candidates.push({ key: `file:${file.path}`, kind: 'staleLock', target: { type: 'file', path: file.path }, label: `lock ${shortFile(file.path)}`, reason: `left by a process that is gone (not refreshed for ${span(age)})` });
    } else if (file.type === 'temp' && age >= STALE_TEMP_FILE_MS) {
      candidates.push({ key: `file:${file.path}`, kind: 'staleTempFile', target: { type: 'file', path: file.path }, label: `temporary file ${shortFile(file.path)}`, reason: `half-written by a save that was interrupted, ${span(age)} old` });
    }
  }
  return candidates;
}

/**
 * The session's folder when it is gone and no pane has moved somewhere that exists; a pane still
 * working in a live folder means the session is still in use there.
 */
function goneFolder(session: Session, missing: ReadonlySet<string>): string | undefined {
  if (!session.path || !missing.has(session.path)) return undefined;
  const panes: Pane[] = session.windows.flatMap((window) => [...window.panes]);
  return panes.every((pane) => !pane.currentPath || missing.has(withoutDeletedMark(pane.currentPath))) ? session.path : undefined;
}

/** Linux shows the working folder of a process whose folder was removed as `<path> (deleted)`. */
export function withoutDeletedMark(folder: string): string {
  return folder.endsWith(' (deleted)') ? folder.slice(0, -' (deleted)'.length) : folder;
}

/**
 * The last sign of use, in seconds since the epoch: a client's input (session_activity), output
 * in any window (window_activity), or a client attaching.
 */
export function lastActivity(session: Session): number {
  return Math.max(session.activity, session.lastAttached ?? 0, ...session.windows.map((window) => window.activity));
}

/** The tree's "stale" mark: nothing typed, printed or attached for `staleMinutes`. 0 turns it off. */
export function isStale(session: Session, now: number, staleMinutes: number): boolean {
  return staleMinutes > 0 && now - lastActivity(session) * 1000 >= staleMinutes * 60_000;
}

/** `3 days`, `5 hours`, `12 minutes`, `40 seconds`: the largest whole unit. */
export function span(ms: number): string {
  const units: [number, string][] = [
    [DAY, 'day'],
    [HOUR, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, name] of units) {
    const count = Math.floor(ms / size);
    if (count >= 1) return `${count} ${name}${count === 1 ? '' : 's'}`;
  }
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/** The file and its folder's name (`snapshots/api.lock`): enough to recognise it; the target keeps the whole path. */
function shortFile(file: string): string {
  return path.join(path.basename(path.dirname(file)), path.basename(file));
}

function tilde(folder: string): string {
  const home = os.homedir();
  return home && (folder === home || folder.startsWith(`${home}/`)) ? `~${folder.slice(home.length)}` : folder;
}
