import * as os from 'node:os';

/** A path as users read it: the home folder as `~`. */
export function tildePath(value: string, home = os.homedir()): string {
  if (home && (value === home || value.startsWith(home + '/'))) return '~' + value.slice(home.length);
  return value;
}

export function plural(count: number, one: string, many = one + 's'): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago(epochSeconds: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round(now / 1000 - epochSeconds));
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return plural(Math.round(seconds / 86_400), 'day') + ' ago';
}
