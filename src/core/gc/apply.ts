import * as fs from 'node:fs';
import { Runner } from '../../tmux/commands';
import { findById } from '../../tmux/model';
import { killGracefully, KillReport, KillTimings } from '../kill';
import { SnapshotStore } from '../snapshots/store';
import { CleanupCandidate, CleanupInput, findCleanupCandidates } from './candidates';
import { CleanupPolicy, STALE_LOCK_MS, STALE_TEMP_FILE_MS, untouchableBecause } from './policy';

export interface ApplyContext {
  readonly run: Runner;
  readonly store: SnapshotStore;
  readonly policy: CleanupPolicy;
  readonly timings: KillTimings;
  /** Reads everything again (a fresh tree included): acting decides on what is true now, not at the dry run. */
  readonly gather: () => Promise<CleanupInput>;
  readonly now?: () => number;
  /** Told before each candidate is acted on, for progress. */
  readonly onStart?: (candidate: CleanupCandidate, index: number, total: number) => void;
}

export type CleanupOutcome =
  | { readonly candidate: CleanupCandidate; readonly result: 'done'; readonly detail: string }
  | { readonly candidate: CleanupCandidate; readonly result: 'skipped'; readonly detail: string }
  | { readonly candidate: CleanupCandidate; readonly result: 'failed'; readonly detail: string };

/** Sessions and panes are ended a few at a time: each may wait seconds for its programs to exit. */
const KILL_CONCURRENCY = 4;

/**
 * Acts on the chosen candidates. Everything is decided again on a fresh reading first: a session
 * attached or protected since the dry run, or active again, or a file refreshed, is skipped with
 * the reason. Sessions and panes end through the graceful kill (Ctrl-C, SIGTERM, SIGKILL, close);
 * snapshots go through the store, under its locks.
 */
export async function applyCleanup(chosen: readonly CleanupCandidate[], context: ApplyContext): Promise<CleanupOutcome[]> {
  const now = context.now ?? Date.now;
  const fresh = await context.gather();
  const stillCandidates = new Map(findCleanupCandidates(fresh, context.policy, now()).map((candidate) => [candidate.key, candidate]));
  const entries = new Map(fresh.snapshots.map((entry) => [entry.id, entry]));
  const outcomes: CleanupOutcome[] = new Array(chosen.length);
  let started = 0;

  const act = async (index: number): Promise<void> => {
    const candidate = chosen[index];
    const current = stillCandidates.get(candidate.key);
    if (!current) {
      outcomes[index] = { candidate, result: 'skipped', detail: whyNotAnyMore(candidate, fresh, context.policy) };
      return;
    }
    context.onStart?.(candidate, started++, chosen.length);
    try {
      outcomes[index] = { candidate, result: 'done', detail: await actOn(current, fresh, entries, context) };
    } catch (error) {
      outcomes[index] = { candidate, result: 'failed', detail: error instanceof Error ? error.message : String(error) };
    }
  };

  // Files and snapshots first (instant), then the kills, a few at once.
  const order = chosen.map((_, index) => index).sort((a, b) => rank(chosen[a]) - rank(chosen[b]));
  let next = 0;
  const worker = async () => {
    while (next < order.length) await act(order[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(KILL_CONCURRENCY, order.length) }, worker));
  return outcomes;
}

function rank(candidate: CleanupCandidate): number {
  return candidate.target.type === 'file' || candidate.target.type === 'snapshots' ? 0 : 1;
}

async function actOn(candidate: CleanupCandidate, fresh: CleanupInput, entries: Map<string, CleanupInput['snapshots'][number]>, context: ApplyContext): Promise<string> {
  const target = candidate.target;
  switch (target.type) {
    case 'session':
    case 'pane': {
      const object = fresh.tree && findById(fresh.tree, target.id);
      if (!object) return 'already gone';
      return describeKill(await killGracefully(context.run, object, context.timings));
    }
    case 'snapshots': {
      let deleted = 0;
      for (const id of target.ids) {
        const entry = entries.get(id);
        if (!entry) continue;
        await context.store.delete(entry);
        deleted++;
      }
      return `deleted ${deleted === 1 ? '1 autosave' : `${deleted} autosaves`}`;
    }
    case 'file':
      return removeStaleFile(target.path, candidate.kind === 'staleLock');
  }
}

function describeKill(report: KillReport): string {
  switch (report.lastStep) {
    case 'close':
      return 'closed (nothing was running)';
    case 'interrupt':
      return 'ended on Ctrl-C';
    case 'terminate':
      return `ended on SIGTERM (${report.terminated} process${report.terminated === 1 ? '' : 'es'})`;
    case 'kill':
      return `ended on SIGKILL (${report.killed} process${report.killed === 1 ? '' : 'es'})`;
  }
}

/** Checks the age once more right before removing: a lock taken over meanwhile is fresh again and stays. */
async function removeStaleFile(file: string, isLock: boolean): Promise<string> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    return 'already gone';
  }
  if (Date.now() - stat.mtimeMs < (isLock ? STALE_LOCK_MS : STALE_TEMP_FILE_MS)) throw new Error('it was used again just now; left alone');
  await fs.promises.rm(file, { recursive: isLock, force: true });
  return 'removed';
}

/** Why a candidate from the dry run is no longer one. */
function whyNotAnyMore(candidate: CleanupCandidate, fresh: CleanupInput, policy: CleanupPolicy): string {
  const target = candidate.target;
  if (target.type === 'session' || target.type === 'pane') {
    const sessionId = target.type === 'session' ? target.id : target.sessionId;
    const session = fresh.tree?.sessions.find((s) => s.id === sessionId);
    if (!session || (target.type === 'pane' && !findById(fresh.tree!, target.id))) return 'already gone';
    const untouchable = untouchableBecause(session, policy);
    if (untouchable) return `left alone: ${untouchable} now`;
    return 'left alone: in use again since the list was made';
  }
  if (target.type === 'snapshots') return fresh.tree?.sessions.some((s) => s.name === target.sessionName) ? 'left alone: the session runs again' : 'left alone: no longer matches the policy';
  return 'left alone: already gone or in use again';
}
