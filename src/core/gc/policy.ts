import { Session } from '../../tmux/model';

/**
 * What cleanup may propose. Each time-to-live of 0 turns its kind off. Stale lock and temporary
 * files have fixed ages (below): they are ours, and past those ages nothing can still be using them.
 */
export interface CleanupPolicy {
  /** A session with no activity and no client attached for this long is proposed for killing. */
  readonly idleSessionHours: number;
  /** A pane whose program exited this long ago (kept by `remain-on-exit`) is proposed for closing. */
  readonly deadPaneHours: number;
  /** Autosaves of a session that has been gone from the server for this long are proposed for deletion. */
  readonly deletedSnapshotDays: number;
  /** Session names (`*` any run of characters, `?` one) that cleanup never touches. */
  readonly protect: readonly string[];
}

/**
 * A week idle: an agent left waiting over a long weekend, or a service nobody looked at during a
 * holiday, is not proposed the first morning back. A day for dead panes: their exit status has
 * been seen by then. A month for the snapshots of a deleted session: long enough to regret it.
 */
export const DEFAULT_CLEANUP_POLICY: CleanupPolicy = {
  idleSessionHours: 168,
  deadPaneHours: 24,
  deletedSnapshotDays: 30,
  protect: [],
};

/**
 * A lock folder proper-lockfile has not refreshed for this long has no holder: a holder refreshes
 * it every few seconds (the store's stale time is 10 s), so ten minutes leaves room for a machine
 * that was asleep.
 */
export const STALE_LOCK_MS = 10 * 60_000;
/** A write-file-atomic temporary file lives for the seconds a write takes; an hour old, its writer died. */
export const STALE_TEMP_FILE_MS = 60 * 60_000;

/** The policy in one line, for "nothing to clean up" messages and logs. */
export function describePolicy(policy: CleanupPolicy): string {
  const parts = [
    policy.idleSessionHours > 0 ? `sessions idle for ${hours(policy.idleSessionHours)} with no client attached` : undefined,
    policy.deadPaneHours > 0 ? `panes dead for ${hours(policy.deadPaneHours)}` : undefined,
    'sessions whose folder is gone',
    policy.deletedSnapshotDays > 0 ? `autosaves of sessions gone for ${plural(policy.deletedSnapshotDays, 'day')}` : undefined,
    'stale lock and temporary files',
  ].filter((part): part is string => part !== undefined);
  const protect = policy.protect.length > 0 ? `; never ${policy.protect.map((p) => `"${p}"`).join(', ')}, attached or protected sessions` : '; never attached or protected sessions';
  return `${parts.join(', ')}${protect}`;
}

function hours(value: number): string {
  return value % 24 === 0 && value >= 24 ? plural(value / 24, 'day') : plural(value, 'hour');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** `*` matches any run of characters (also none), `?` exactly one; everything else is itself. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const character of glob) {
    if (character === '*') source += '[\\s\\S]*';
    else if (character === '?') source += '[\\s\\S]';
    else source += character.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

/** Whether a name matches one of the `protect` patterns. */
export function protectedByPattern(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => pattern.trim() !== '' && globToRegExp(pattern.trim()).test(name));
}

/** Why cleanup must leave the session alone, or undefined when it may propose it. */
export function untouchableBecause(session: Session, policy: CleanupPolicy): string | undefined {
  if (session.attachedClients > 0) return 'a client is attached';
  if (session.protected) return 'it is protected';
  if (protectedByPattern(session.name, policy.protect)) return 'its name matches tmuxSessionManager.cleanup.protect';
  return undefined;
}
