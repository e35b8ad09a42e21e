import { PaneMetrics, SessionMetrics } from '../../core/metrics/sample';

/** "12%", or "–" when unknown (the first sample after the view opened). */
export function percent(value: number | undefined): string {
  return value === undefined ? '–' : `${Math.round(value)}%`;
}

/** "340 MB", "1.2 GB", "512 KB": what people read in a task manager (binary units, short names). */
export function bytes(value: number): string {
  if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)} GB`;
  if (value >= 1024 ** 2) return `${Math.round(value / 1024 ** 2)} MB`;
  if (value >= 1024) return `${Math.round(value / 1024)} KB`;
  return `${Math.round(value)} B`;
}

export function rate(value: number | undefined): string {
  return value === undefined ? '–' : `${bytes(value)}/s`;
}

/** The short form for a row's description: "12% · 340 MB". */
export function shortMetrics(metrics: PaneMetrics | SessionMetrics): string {
  return `${percent(metrics.cpuPercent)} · ${bytes(metrics.rssBytes)}`;
}

/** Tooltip lines (markdown list items). */
export function metricsLines(metrics: PaneMetrics | SessionMetrics): string {
  const lines = [`- CPU: ${percent(metrics.cpuPercent)}${metrics.cpuPercent === undefined ? ' (measuring)' : ''}`];
  lines.push(`- memory (RSS): ${bytes(metrics.rssBytes)}${'processes' in metrics ? ` in ${metrics.processes} process${metrics.processes === 1 ? '' : 'es'}` : ''}`);
  if (metrics.readBytesPerSecond !== undefined || metrics.writeBytesPerSecond !== undefined) {
    lines.push(`- disk: read ${rate(metrics.readBytesPerSecond)}, write ${rate(metrics.writeBytesPerSecond)}`);
  }
  return lines.join('\n') + '\n';
}
