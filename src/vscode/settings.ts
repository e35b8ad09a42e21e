import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ServerAddress } from '../tmux/server';

export const SECTION = 'tmuxSessionManager';

export interface Settings {
  readonly address: ServerAddress;
  readonly dataDir: string;
  readonly interruptWaitMs: number;
  readonly terminateWaitMs: number;
  readonly captureLines: number;
  readonly watchPrograms: boolean;
}

/** `$XDG_STATE_HOME/tmux-session-manager`, shared with the command-line tool. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'tmux-session-manager');
}

function expandHome(value: string): string {
  return value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const text = (key: string) => (config.get<string>(key) ?? '').trim();
  const socketPath = text('socketPath');
  return {
    address: {
      tmuxPath: expandHome(text('tmuxPath') || 'tmux'),
      socketName: text('socketName') || undefined,
      socketPath: socketPath ? expandHome(socketPath) : undefined,
    },
    dataDir: text('dataDir') ? expandHome(text('dataDir')) : defaultDataDir(),
    interruptWaitMs: config.get<number>('kill.interruptWaitMs') ?? 1500,
    terminateWaitMs: config.get<number>('kill.terminateWaitMs') ?? 3000,
    captureLines: config.get<number>('capture.lines') ?? 2000,
    watchPrograms: config.get<boolean>('watchPrograms') ?? true,
  };
}

/** Settings whose change means talking to another tmux: the service is rebuilt. */
export function affectsConnection(event: vscode.ConfigurationChangeEvent): boolean {
  return ['tmuxPath', 'socketName', 'socketPath', 'watchPrograms'].some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}
