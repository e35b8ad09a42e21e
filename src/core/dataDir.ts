import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Where this product keeps its state: `$XDG_STATE_HOME/tmux-session-manager`. One rule for the
 * extension and the command-line tool, so both find the same snapshots.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'tmux-session-manager');
}

/** `~` and `~/…` as a shell would read them; settings and options are not run through one. */
export function expandHome(value: string): string {
  return value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value;
}
