import { Runner } from '../../tmux/commands';
import { NoServerError } from '../../tmux/errors';
import { PaneId, Tree } from '../../tmux/model';
import { parseSnapshot, snapshotCommands } from '../../tmux/snapshot';
import { KillTimings } from '../kill';
import { SnapshotStore } from '../snapshots/store';
import { applyCleanup, CleanupOutcome } from './apply';
import { CleanupCandidate, findCleanupCandidates } from './candidates';
import { gatherCleanupInput } from './gather';
import { CleanupPolicy } from './policy';

/**
 * Cleanup in one call, for the extension's command, its automatic runs and the command-line tool's
 * `gc`: a dry run lists candidates; acting takes the chosen ones (by key) and decides again on a
 * fresh reading before touching anything.
 */

export * from './apply';
export * from './candidates';
export * from './policy';
export { gatherCleanupInput } from './gather';
export { setProtected } from './protect';

export interface CleanupSource {
  /** Runs one tmux command (the service, or one-shot processes: {@link oneShotTree} for reading). */
  readonly run: Runner;
  /** A fresh tree, or undefined when no server runs. */
  readonly readTree: () => Promise<Tree | undefined>;
  readonly store: SnapshotStore;
  readonly policy: CleanupPolicy;
  readonly timings: KillTimings;
  /** Keep one map per long-lived caller: dead panes tmux gave no death time for are timed from their first sighting. */
  readonly deadSeen?: Map<PaneId, number>;
  readonly now?: () => number;
}

/** The dry run: what cleanup would do now and why. Changes nothing in tmux or among snapshots (it updates only the record of when sessions were first seen gone). */
export async function planCleanup(source: CleanupSource): Promise<CleanupCandidate[]> {
  const now = source.now ?? Date.now;
  const input = await gatherCleanupInput({ tree: await source.readTree(), store: source.store, now: now(), deadSeen: source.deadSeen });
  return findCleanupCandidates(input, source.policy, now());
}

/** Acts on `chosen` (candidates from {@link planCleanup}, or their keys). Unknown keys are reported as skipped. */
export async function runCleanup(source: CleanupSource, chosen: readonly (CleanupCandidate | string)[], onStart?: (candidate: CleanupCandidate, index: number, total: number) => void): Promise<CleanupOutcome[]> {
  const now = source.now ?? Date.now;
  const candidates = chosen.map((item): CleanupCandidate => (typeof item === 'string' ? { key: item, kind: kindOfKey(item), target: targetOfKey(item), label: item, reason: '' } : item));
  return applyCleanup(candidates, {
    run: source.run,
    store: source.store,
    policy: source.policy,
    timings: source.timings,
    now,
    onStart,
    gather: async () => gatherCleanupInput({ tree: await source.readTree(), store: source.store, now: now(), deadSeen: source.deadSeen }),
  });
}

/** A tree read with plain commands (no TmuxService): for the command-line tool. Undefined when no server runs. */
export async function oneShotTree(run: Runner): Promise<Tree | undefined> {
  const [panes, clients] = snapshotCommands();
  try {
    return parseSnapshot(await run(panes), await run(clients));
  } catch (error) {
    if (error instanceof NoServerError) return undefined;
    throw error;
  }
}

/** The JSON form of a candidate (what `gc --json` prints): plain data, stable field names. */
export function candidateJson(candidate: CleanupCandidate): { key: string; kind: CleanupCandidate['kind']; target: CleanupCandidate['target']; label: string; reason: string } {
  return { key: candidate.key, kind: candidate.kind, target: candidate.target, label: candidate.label, reason: candidate.reason };
}

// A key given alone (from a script) only needs to be matched against the fresh candidates; these
// placeholders are used for the "skipped" report when it matches none.
function kindOfKey(key: string): CleanupCandidate['kind'] {
  if (key.startsWith('pane:')) return 'deadPane';
  if (key.startsWith('snapshots:')) return 'deletedSessionSnapshots';
  if (key.startsWith('file:')) return key.endsWith('.lock') ? 'staleLock' : 'staleTempFile';
  return 'idleSession';
}

function targetOfKey(key: string): CleanupCandidate['target'] {
  const value = key.slice(key.indexOf(':') + 1);
  if (key.startsWith('session:')) return { type: 'session', id: value as `$${number}`, name: value };
  if (key.startsWith('pane:')) return { type: 'pane', id: value as `%${number}`, sessionId: '$-1' as `$${number}`, sessionName: '', windowIndex: -1, paneIndex: -1 };
  if (key.startsWith('snapshots:')) return { type: 'snapshots', sessionName: value, ids: [] };
  return { type: 'file', path: value };
}
