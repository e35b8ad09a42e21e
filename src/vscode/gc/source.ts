import { CleanupOutcome, CleanupSource } from '../../core/gc';
import { PaneId } from '../../tmux/model';
import { ExtensionContextServices } from '../context';

/** Dead panes tmux gave no death time for, timed from their first sighting in this window. */
const deadSeen = new Map<PaneId, number>();

/** Cleanup's view of this window: the live service (a fresh tree each time), the store, the settings' policy. */
export function cleanupSource(ctx: ExtensionContextServices): CleanupSource {
  const service = ctx.service();
  const settings = ctx.settings();
  return {
    run: (argv) => service.run(argv),
    // No server: nothing in tmux to clean, but snapshots and files still may be.
    readTree: async () => (service.state.kind === 'ok' ? service.refresh() : undefined),
    store: ctx.store(),
    policy: settings.cleanup,
    timings: settings,
    deadSeen,
  };
}

/** Kind → [one, many, what was done]. */
const DONE_TEXT: Record<string, [string, string, string]> = {
  idleSession: ['idle session', 'idle sessions', 'killed'],
  missingFolder: ['session whose folder is gone', 'sessions whose folder is gone', 'killed'],
  deadPane: ['dead pane', 'dead panes', 'closed'],
  deletedSessionSnapshots: ['deleted session’s autosaves', 'deleted sessions’ autosaves', 'deleted'],
  staleLock: ['stale lock', 'stale locks', 'removed'],
  staleTempFile: ['half-written file', 'half-written files', 'removed'],
};

/** One line for a notification: `killed 2 idle sessions, removed 1 stale lock; 1 left alone`. */
export function summarize(outcomes: readonly CleanupOutcome[]): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) if (outcome.result === 'done') counts.set(outcome.candidate.kind, (counts.get(outcome.candidate.kind) ?? 0) + 1);
  const parts = [...counts].map(([kind, count]) => {
    const [one, many, verb] = DONE_TEXT[kind];
    return `${verb} ${count} ${count === 1 ? one : many}`;
  });
  const skipped = outcomes.filter((o) => o.result === 'skipped').length;
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  const tail = [skipped ? `${skipped} left alone` : '', failed ? `${failed} failed` : ''].filter(Boolean).join(', ');
  return `${parts.length ? parts.join(', ') : 'nothing done'}${tail ? `; ${tail}` : ''}`;
}

export function logOutcomes(ctx: ExtensionContextServices, outcomes: readonly CleanupOutcome[], how: string): void {
  for (const { candidate, result, detail } of outcomes) {
    const line = `${how}: ${candidate.label} (${candidate.reason}): ${result === 'done' ? detail : `${result}, ${detail}`}`;
    if (result === 'failed') ctx.log.warn(line);
    else ctx.log.info(line);
  }
}
