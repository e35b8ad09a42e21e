/**
 * A lock kept inside the tmux server, shared by every VS Code window and command-line tool on it.
 *
 * Why: tmux 3.3a (and every release before upstream added a control_state check to
 * CONTROL_SHOULD_NOTIFY_CLIENT) crashes the whole server when it sends a notification that goes
 * to every control client (%sessions-changed, %session-window-changed, %window-pane-changed…) to
 * one that is half way through identifying itself. Identifying takes tmux three passes of its
 * loop (the client's stdin and stdout descriptors arrive in messages of their own), so a window
 * that connects while another window restores sessions (after a reboot, say) could take the
 * server down. Our own bursts of changes and our own connects therefore exclude each other
 * through this lock; a user's own commands cannot be made to wait, but they are rare in the few
 * milliseconds a connect takes.
 *
 * The lock is a global user option holding "<pid>-<ms since epoch>-<random>" of its holder. tmux
 * runs a command and what `if-shell -F` inserts after it without letting another client in, so
 * one `if-shell -F` is an atomic compare-and-set. A holder whose process is gone, or that has held
 * the lock for a minute, is taken over with the same compare-and-set, so two waiters cannot both
 * take over one stale holder.
 */
import { CommandObserver, runTmux } from './exec';
import { ServerAddress } from './server';
import { sleep } from './wait';

export const SERVER_LOCK_OPTION = '@tmux-session-manager-busy';
/** Longer than any restore we make; a holder past it is taken to have hung. */
export const SERVER_LOCK_STALE_MS = 60_000;
const RETRY_MS = 25;

/** A token naming one hold: this process, when the hold began, and a random part (two services in one process differ). */
export function newLockToken(now = Date.now()): string {
  return `${process.pid}-${now}-${Math.random().toString(36).slice(2, 10)}`;
}

/** The tmux command that sets the option to `token` if it holds `expected` ('' = not set), and prints what it holds afterwards. */
export function compareAndSetArgs(expected: string, token: string): string[] {
  return [
    'if-shell', '-F', `#{==:#{${SERVER_LOCK_OPTION}},${expected}}`,
    `set-option -g ${SERVER_LOCK_OPTION} ${token} ; display-message -p ${token}`,
    `display-message -p "#{${SERVER_LOCK_OPTION}}"`,
  ];
}

/** The command that sets the lock as part of the command that starts a server (nothing to compare with yet). */
export function setLockArgs(token: string): string[] {
  return ['set-option', '-g', SERVER_LOCK_OPTION, token];
}

/** Releases the lock if `token` still holds it (a holder taken for stale must not free its successor). */
export function releaseIfHeldArgs(token: string): string[] {
  return ['if-shell', '-F', `#{==:#{${SERVER_LOCK_OPTION}},${token}}`, `set-option -gu ${SERVER_LOCK_OPTION}`];
}

/** Whether the holder named by `token` is gone or has held the lock too long. */
export function isStale(token: string, now = Date.now()): boolean {
  const match = /^(\d+)-(\d+)-/.exec(token);
  if (!match) return true;
  const [, pid, since] = match;
  if (now - Number(since) > SERVER_LOCK_STALE_MS) return true;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Takes the lock for `token`, waiting while a live holder has it. Resolves true once taken, false
 * when `waitMs` passed first (the caller goes on without it: a lock must never stop the extension).
 * Throws what tmux throws, NoServerError included.
 */
export async function acquireServerLock(address: ServerAddress, token: string, waitMs: number, observe?: CommandObserver): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  let expected = '';
  for (;;) {
    const { stdout } = await runTmux(address, compareAndSetArgs(expected, token), { timeoutMs: 3000 }, observe);
    const holder = stdout.trim();
    if (holder === token) return true;
    if (holder !== '' && isStale(holder)) {
      expected = holder;
      continue;
    }
    if (Date.now() > deadline) return false;
    // Released between our look and our try: try again at once; held: wait a little.
    if (holder !== '') await sleep(RETRY_MS);
    expected = '';
  }
}
