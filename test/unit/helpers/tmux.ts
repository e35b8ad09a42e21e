import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlClient } from '../../../src/tmux/control';
import { ServerAddress } from '../../../src/tmux/server';

/**
 * A private tmux server for one test: its own socket in its own temporary folder, so a test can
 * neither see nor touch the user's tmux. `kill()` stops only this server.
 */
export class PrivateTmux {
  readonly folder: string;
  readonly socketPath: string;
  readonly address: ServerAddress;

  constructor() {
    this.folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-test-'));
    this.socketPath = path.join(this.folder, 'sock');
    this.address = { tmuxPath: 'tmux', socketPath: this.socketPath };
  }

  /** Runs tmux as a separate process against this server, the way a user's shell would. */
  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socketPath, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      env: { ...process.env, TMUX: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Starts a detached session and returns its id. */
  newSession(name: string, ...command: string[]): string {
    return this.tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', name, '-P', '-F', '#{session_id}', ...command).trim();
  }

  isRunning(): boolean {
    try {
      this.tmux('list-sessions');
      return true;
    } catch {
      return false;
    }
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}

/** Waits until `check` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => T | Promise<T>, timeoutMs = 3000): Promise<NonNullable<T>> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * For a mocha `describe`: a private server with one session and a control client attached to it,
 * started before the block's tests and stopped after them. Read `.client` inside the tests.
 */
export function usePrivateControlClient(sessionName: string): { readonly client: ControlClient; readonly server: PrivateTmux } {
  const fixture = {} as { client: ControlClient; server: PrivateTmux };
  before(async function () {
    fixture.server = new PrivateTmux();
    fixture.server.newSession(sessionName);
    fixture.client = new ControlClient(fixture.server.address);
    await fixture.client.ready;
  });
  after(function () {
    fixture.client?.close();
    fixture.server?.kill();
  });
  return fixture;
}

// One rule for "is this process alive" in the code and its tests (a zombie counts as gone).
export { processAlive } from '../../../src/tmux/hooks';
