import { SnapshotEntry } from '../../core/snapshots/store';
import type { SnapshotEntryOutput } from '../schemas';

export function entryJson(entry: SnapshotEntry): SnapshotEntryOutput {
  return {
    id: entry.id,
    session: entry.sessionName,
    kind: entry.kind,
    ...(entry.label !== undefined ? { label: entry.label } : {}),
    savedAt: entry.savedAt.toISOString(),
    windows: entry.windows,
    panes: entry.panes,
    bytes: entry.bytes,
    file: entry.file,
    ...(entry.broken !== undefined ? { broken: entry.broken } : {}),
  };
}

/** One line per snapshot: id first (what restore takes), then what a person scans for. */
export function entryLine(entry: SnapshotEntry): string {
  const what = entry.broken ? `broken: ${entry.broken}` : `${entry.windows} window(s), ${entry.panes} pane(s)`;
  const kind = entry.label !== undefined ? JSON.stringify(entry.label) : entry.kind === 'auto' ? 'autosave' : 'manual save';
  return `${entry.id}  ${JSON.stringify(entry.sessionName)}  ${kind}  ${entry.savedAt.toISOString()}  ${what}`;
}
