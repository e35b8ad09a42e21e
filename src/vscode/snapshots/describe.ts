import type { SnapshotEntry } from '../../core/snapshots/store';
import { ago, plural } from '../format';

/** How a snapshot is named on screen: the user's label, else what kind of save made it. */
export function entryLabel(entry: SnapshotEntry): string {
  if (entry.label) return entry.label;
  return entry.kind === 'auto' ? 'Autosave' : 'Manual save';
}

/** "5 min ago · 2 windows · 3 panes", or "broken". */
export function entryDescription(entry: SnapshotEntry, now = Date.now()): string {
  if (entry.broken) return 'broken';
  return [ago(entry.savedAt.getTime() / 1000, now), plural(entry.windows, 'window'), plural(entry.panes, 'pane')].join(' · ');
}

/** "10:42" today, else "3 Mar, 10:42": what the after-reboot offer and messages show. */
export function savedAtText(date: Date, now = new Date()): string {
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === now.toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}, ${time}`;
}

/** Groups entries (already newest first) by session name, sessions sorted by name. */
export function groupBySession(entries: readonly SnapshotEntry[]): Map<string, SnapshotEntry[]> {
  const groups = new Map<string, SnapshotEntry[]>();
  for (const name of [...new Set(entries.map((e) => e.sessionName))].sort((a, b) => a.localeCompare(b))) groups.set(name, []);
  for (const entry of entries) groups.get(entry.sessionName)!.push(entry);
  return groups;
}
