import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { TmuxSessionManagerApi } from '../../src/extension';

export const EXTENSION_ID = 'tmux-session-manager.tmux-session-manager';

/** The private server the runner made for this suite (never the user's default one). */
export const SOCKET_NAME = process.env.TSM_TEST_SOCKET_NAME ?? '';
if (!SOCKET_NAME) throw new Error('TSM_TEST_SOCKET_NAME is not set: run this suite through test/e2e/run-exthost.mjs');

/** tmux run as a separate process on the suite's server, as a user's shell would. */
export function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET_NAME, ...args], { encoding: 'utf8', env: { ...process.env, TMUX: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function tmuxLines(...args: string[]): string[] {
  return tmux(...args).split('\n').filter((line) => line.length > 0);
}

export function serverRunning(): boolean {
  try {
    tmux('list-sessions');
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills the suite's server and waits until its process has exited. `tmux kill-server` returns
 * before that, and the server lingers while a client (an attach terminal, say) has not yet left;
 * meanwhile it closes every connection, so list-sessions fails as if no server ran but a
 * new-session fails with "server exited unexpectedly".
 */
export async function killServer(): Promise<void> {
  let pid = 0;
  try {
    pid = Number(tmux('display-message', '-p', '#{pid}').trim());
    tmux('kill-server');
  } catch {
    // No server: nothing to do.
  }
  if (pid > 0) await eventually(`tmux server ${pid} to exit`, () => !processAlive(pid), 10_000);
  await eventually('the server gone', () => !serverRunning(), 5000);
}

export async function api(): Promise<TmuxSessionManagerApi> {
  const extension = vscode.extensions.getExtension<TmuxSessionManagerApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed in this workbench`);
  return extension.activate();
}

import { eventually, processAlive } from '../unit/helpers/tmux';

export { eventually };

export function execute<T = unknown>(command: string, ...args: unknown[]): Promise<T> {
  return Promise.resolve(vscode.commands.executeCommand<T>(`tmuxSessionManager.${command}`, ...args));
}
