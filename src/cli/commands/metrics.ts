import { MetricsSample, PaneMetrics, sampleOnce, sampleToJson } from '../../core/metrics/sample';
import { parseDuration, ParsedArgs } from '../args';
import { CliContext, printJson, readTree } from '../context';
import { UsageError } from '../errors';
import type { MetricsOutput } from '../schemas';
import { resolveTarget } from '../target';

/** CPU% is a rate: two readings this far apart by default, long enough to mean something. */
const DEFAULT_INTERVAL_MS = 1000;

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 1) throw new UsageError('metrics takes at most one TARGET (a session, window or pane). Quote a session name that has spaces.');
  const intervalText = args.values.get('interval');
  const intervalMs = intervalText === undefined ? DEFAULT_INTERVAL_MS : parseDuration('interval', intervalText);
  const sortText = args.values.get('sort') ?? 'cpu';
  if (sortText !== 'cpu' && sortText !== 'memory') throw new UsageError(`--sort takes cpu or memory; got "${sortText}".`);
  const tree = await readTree(ctx.address);
  let first = await sampleOnce(tree);
  let sample: MetricsSample = first;
  if (intervalMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    sample = await sampleOnce(tree, first);
  }
  first = sample;
  const scope = args.positionals[0] === undefined ? undefined : resolveTarget(tree, args.positionals[0]);
  const inScope = (pane: PaneMetrics): boolean =>
    scope === undefined || (scope.kind === 'session' ? pane.sessionId === scope.id : scope.kind === 'window' ? scope.panes.some((p) => p.id === pane.paneId) : pane.paneId === scope.id);
  const byCpu = (a: PaneMetrics, b: PaneMetrics) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || b.rssBytes - a.rssBytes;
  const byMemory = (a: PaneMetrics, b: PaneMetrics) => b.rssBytes - a.rssBytes || (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1);
  const panes = sample.panes.filter(inScope).sort(sortText === 'cpu' ? byCpu : byMemory);
  const json = sampleToJson(sample);
  const sessionIds = new Set(panes.map((pane) => pane.sessionId));
  if (ctx.json) {
    printJson(ctx, { ...json, panes, sessions: json.sessions.filter((session) => sessionIds.has(session.sessionId)) } as MetricsOutput);
    return;
  }
  const rows = panes.map((pane) => [pane.target, pane.program, percent(pane.cpuPercent), bytes(pane.rssBytes), rate(pane.readBytesPerSecond), rate(pane.writeBytesPerSecond), String(pane.pid)]);
  ctx.stdout(table([['PANE', 'PROGRAM', 'CPU', 'MEMORY', 'READ', 'WRITE', 'PID'], ...rows]));
}

function percent(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(value < 10 ? 1 : 0)}%`;
}

function bytes(value: number): string {
  if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)} GB`;
  if (value >= 1024 ** 2) return `${Math.round(value / 1024 ** 2)} MB`;
  return `${Math.round(value / 1024)} KB`;
}

function rate(value: number | undefined): string {
  return value === undefined ? '-' : `${bytes(value)}/s`;
}

/** Columns padded to their widest cell; numbers (all but the first two columns) right-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ').trimEnd()).join('\n');
}
