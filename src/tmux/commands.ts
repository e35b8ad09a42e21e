import * as fs from 'node:fs';
import { InvalidInputError } from './errors';
import { assertKeyName } from './keys';
import { PaneId, SessionId, WindowId } from './model';
import { assertSessionName, assertWindowName } from './names';
import { escapeFormat } from './quote';

/**
 * The tmux commands the product runs, each built from validated input. Targets are always tmux
 * ids; names and paths that tmux expands as formats are escaped, so `#{...}` in a name stays text.
 */

/** Runs one command and returns its output lines (the service: control mode or a one-shot process). */
export type Runner = (argv: readonly string[]) => Promise<string[]>;

export interface NewSessionOptions {
  readonly name: string;
  readonly cwd?: string;
  /** Program for the first pane, run by the user's shell; the default shell when omitted. */
  readonly command?: string;
  readonly windowName?: string;
  readonly width?: number;
  readonly height?: number;
}

function assertDirectory(cwd: string): void {
  if (cwd.includes('\u0000')) throw new InvalidInputError('A folder path cannot contain a NUL character.');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(cwd);
  } catch {
    throw new InvalidInputError(`The folder "${cwd}" does not exist. Choose an existing folder.`);
  }
  if (!stat.isDirectory()) throw new InvalidInputError(`"${cwd}" is not a folder. Choose a folder to start in.`);
}

/** Creates a detached session; returns its id. May start the server (run it with runStartingServer). */
export function newSessionArgs(options: NewSessionOptions): string[] {
  assertSessionName(options.name);
  const argv = ['new-session', '-d', '-P', '-F', '#{session_id}', '-s', escapeFormat(options.name)];
  if (options.cwd !== undefined) {
    assertDirectory(options.cwd);
    argv.push('-c', escapeFormat(options.cwd));
  }
  if (options.windowName !== undefined) {
    assertWindowName(options.windowName);
    argv.push('-n', escapeFormat(options.windowName));
  }
  if (options.width) argv.push('-x', String(options.width));
  if (options.height) argv.push('-y', String(options.height));
  if (options.command !== undefined) argv.push('--', options.command);
  return argv;
}

export async function sessionExists(run: Runner, name: string): Promise<boolean> {
  const names = await run(['list-sessions', '-F', '#{session_name}']).catch(() => [] as string[]);
  return names.includes(name);
}

export async function newWindow(run: Runner, sessionId: SessionId, options: { name?: string; cwd?: string; command?: string } = {}): Promise<WindowId> {
  // "$1:" is the session's next free window index.
  const argv = ['new-window', '-P', '-F', '#{window_id}', '-t', `${sessionId}:`];
  if (options.name) {
    assertWindowName(options.name);
    argv.push('-n', escapeFormat(options.name));
  }
  if (options.cwd !== undefined) {
    assertDirectory(options.cwd);
    argv.push('-c', escapeFormat(options.cwd));
  }
  if (options.command !== undefined) argv.push('--', options.command);
  const [id] = await run(argv);
  return id as WindowId;
}

export type SplitDirection = 'right' | 'down';

export async function splitPane(run: Runner, target: PaneId | WindowId, direction: SplitDirection, options: { cwd?: string } = {}): Promise<PaneId> {
  const argv = ['split-window', direction === 'right' ? '-h' : '-v', '-P', '-F', '#{pane_id}', '-t', target];
  if (options.cwd !== undefined) {
    assertDirectory(options.cwd);
    argv.push('-c', escapeFormat(options.cwd));
  }
  const [id] = await run(argv);
  return id as PaneId;
}

export async function renameSession(run: Runner, id: SessionId, name: string): Promise<void> {
  assertSessionName(name);
  await run(['rename-session', '-t', id, '--', escapeFormat(name)]);
}

export async function renameWindow(run: Runner, id: WindowId, name: string): Promise<void> {
  assertWindowName(name);
  if (name.length === 0) throw new InvalidInputError('A window name cannot be empty.');
  await run(['rename-window', '-t', id, '--', escapeFormat(name)]);
}

/** Types `text` into the pane exactly as given (no key-name lookup), then Enter if asked. */
export async function sendText(run: Runner, pane: PaneId, text: string, pressEnter: boolean): Promise<void> {
  if (text.includes('\u0000')) throw new InvalidInputError('Text sent to a pane cannot contain a NUL character.');
  if (text.length > 0) await run(['send-keys', '-t', pane, '-l', '--', text]);
  if (pressEnter) await run(['send-keys', '-t', pane, 'Enter']);
}

/** Presses named keys (`C-c`, `Enter`, `Up`…) in the pane; every name is checked first. */
export async function sendKeyNames(run: Runner, pane: PaneId, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) throw new InvalidInputError('Name at least one key to send, for example Enter or C-c.');
  keys.forEach(assertKeyName);
  await run(['send-keys', '-t', pane, '--', ...keys]);
}

export async function killSession(run: Runner, id: SessionId): Promise<void> {
  await run(['kill-session', '-t', id]);
}
export async function killWindow(run: Runner, id: WindowId): Promise<void> {
  await run(['kill-window', '-t', id]);
}
export async function killPane(run: Runner, id: PaneId): Promise<void> {
  await run(['kill-pane', '-t', id]);
}

/**
 * The pane's text: `lines` of scrollback above the screen plus the screen, wrapped lines joined,
 * without escape sequences, trailing blank lines dropped.
 */
export async function capturePane(run: Runner, pane: PaneId, lines: number): Promise<string> {
  const output = await run(['capture-pane', '-p', '-J', '-S', String(-Math.max(0, Math.floor(lines))), '-t', pane]);
  while (output.length > 0 && output[output.length - 1].trim() === '') output.pop();
  return stripEscapes(output.join('\n'));
}

/**
 * Removes terminal escape sequences (CSI, OSC, and the other ESC forms: `ESC 7`, `ESC =`, `ESC ( B`…)
 * and stray control bytes.
 */
export function stripEscapes(text: string): string {
  return text
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g, '')
    .replace(/\u001b[ -\/]*[0-~]/g, '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}
