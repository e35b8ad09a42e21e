import * as os from 'node:os';
import * as path from 'node:path';

/** Which tmux program and which server to talk to. Empty socket fields mean the user's default server. */
export interface ServerAddress {
  readonly tmuxPath: string;
  /** `tmux -L NAME`. */
  readonly socketName?: string;
  /** `tmux -S PATH`; wins over socketName, as in tmux. */
  readonly socketPath?: string;
}

/** The global flags that select the server, in the order tmux documents them. */
export function serverFlags(address: ServerAddress): string[] {
  if (address.socketPath) return ['-S', address.socketPath];
  if (address.socketName) return ['-L', address.socketName];
  return [];
}

/**
 * Where the server's socket lives. Mirrors tmux's own rule (tmux.c, expand_paths/make_label):
 * `$TMUX_TMPDIR` or `/tmp`, then `tmux-<uid>/<name>`.
 */
export function socketFilePath(address: ServerAddress, env: NodeJS.ProcessEnv = process.env): string {
  if (address.socketPath) return path.resolve(address.socketPath);
  const base = env.TMUX_TMPDIR && env.TMUX_TMPDIR.length > 0 ? env.TMUX_TMPDIR : '/tmp';
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().uid;
  return path.join(base, `tmux-${uid}`, address.socketName || 'default');
}

/** A short label for messages and the status bar. */
export function describeServer(address: ServerAddress): string {
  if (address.socketPath) return `socket ${address.socketPath}`;
  if (address.socketName) return `socket name "${address.socketName}"`;
  return 'default server';
}

/**
 * The environment for tmux processes we start: without `TMUX`, so a VS Code launched from inside
 * tmux neither nests nor picks the surrounding server instead of the one configured; and without
 * the editor's own variables, because a server we start passes its environment to every shell in
 * it (ELECTRON_RUN_AS_NODE there would turn Electron apps into plain Node, and the VSCODE_* IPC
 * handles point at an editor window that may be gone).
 */
export function tmuxEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (key === 'TMUX' || key === 'TMUX_PANE' || key.startsWith('VSCODE_') || key.startsWith('ELECTRON_')) continue;
    clean[key] = value;
  }
  return clean;
}
