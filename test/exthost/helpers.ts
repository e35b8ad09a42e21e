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
 * Kills the suite's server and waits until it no longer answers: `tmux kill-server` returns before
 * the server has exited, and a client started in that moment fails with "server exited unexpectedly".
 */
export async function killServer(): Promise<void> {
  try {
    tmux('kill-server');
  } catch {
    // No server: nothing to do.
  }
  await eventually('the server gone', () => !serverRunning(), 5000);
}

export async function api(): Promise<TmuxSessionManagerApi> {
  const extension = vscode.extensions.getExtension<TmuxSessionManagerApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed in this workbench`);
  return extension.activate();
}

import { eventually } from '../unit/helpers/tmux';

export { eventually };

export function execute<T = unknown>(command: string, ...args: unknown[]): Promise<T> {
  return Promise.resolve(vscode.commands.executeCommand<T>(`tmuxSessionManager.${command}`, ...args));
}
