import { candidateJson, DEFAULT_CLEANUP_POLICY, oneShotTree, planCleanup, runCleanup } from '../../core/gc';
import { CleanupSource } from '../../core/gc';
import { SnapshotStore } from '../../core/snapshots/store';
import { parseCount, ParsedArgs } from '../args';
import { CliContext, printJson } from '../context';
import { EXIT, ExitCode, UsageError } from '../errors';
import type { GcOutput } from '../schemas';

type Candidate = GcOutput['candidates'][number];
/** The candidate as printed: plain, mutable JSON data. */
const printable = (candidate: Parameters<typeof candidateJson>[0]): Candidate => JSON.parse(JSON.stringify(candidateJson(candidate))) as Candidate;

/** The extension's defaults (settings kill.interruptWaitMs and kill.terminateWaitMs). */
const TIMINGS = { interruptWaitMs: 1500, terminateWaitMs: 3000 };

/**
 * A dry run unless --yes: lists what cleanup would remove and why. With --yes it acts on every
 * candidate (or only on the keys given), deciding again on a fresh reading first, gracefully.
 */
export async function run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode> {
  const act = args.flags.has('yes');
  if (act && args.flags.has('dry-run')) throw new UsageError('--dry-run and --yes contradict each other: --dry-run (the default) lists, --yes acts.');
  if (!act && args.positionals.length > 0) throw new UsageError('Keys name what to clean up, and only act with --yes: "gc --yes KEY…". Without --yes, gc lists the candidates and their keys.');
  const hours = (name: string, fallback: number) => (args.values.has(name) ? parseCount(name, args.values.get(name)!) : fallback);
  const source: CleanupSource = {
    run: ctx.run,
    readTree: () => oneShotTree(ctx.run),
    store: new SnapshotStore(ctx.dataDir),
    policy: {
      idleSessionHours: hours('idle-hours', DEFAULT_CLEANUP_POLICY.idleSessionHours),
      deadPaneHours: hours('dead-pane-hours', DEFAULT_CLEANUP_POLICY.deadPaneHours),
      deletedSnapshotDays: hours('deleted-snapshot-days', DEFAULT_CLEANUP_POLICY.deletedSnapshotDays),
      protect: args.lists.get('protect') ?? [],
    },
    timings: TIMINGS,
  };
  const candidates = await planCleanup(source);
  if (!act) {
    if (ctx.json) printJson(ctx, { dryRun: true, candidates: candidates.map(printable) } satisfies GcOutput);
    else if (candidates.length === 0) ctx.stderr('Nothing to clean up under this policy.');
    else ctx.stdout([...candidates.map((c) => `${c.key}\t${c.label}: ${c.reason}`), '', 'A dry run: nothing was changed. Run "gc --yes" to clean up all of these, or "gc --yes KEY…" for some.'].join('\n'));
    return EXIT.ok;
  }
  const chosen = args.positionals.length > 0 ? args.positionals : candidates;
  const outcomes = await runCleanup(source, chosen);
  if (ctx.json) {
    printJson(ctx, { dryRun: false, candidates: candidates.map(printable), outcomes: outcomes.map((o) => ({ key: o.candidate.key, result: o.result, detail: o.detail })) } satisfies GcOutput);
  } else {
    ctx.stdout(outcomes.length === 0 ? 'Nothing to clean up under this policy.' : outcomes.map((o) => `${o.result}\t${o.candidate.label}: ${o.detail}`).join('\n'));
  }
  return outcomes.some((o) => o.result === 'failed') ? EXIT.failed : EXIT.ok;
}
