import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PaneId } from '../../../src/tmux/model';
import { ServerAddress } from '../../../src/tmux/server';

/** The project's folder: the first above this file (compiled into out/ or not) with a package.json. */
function projectRoot(): string {
  let folder = __dirname;
  while (!fs.existsSync(path.join(folder, 'package.json'))) folder = path.dirname(folder);
  return folder;
}

/** The stand-in agent TUI, a plain Node script with no dependencies. */
export const STANDIN_TUI = path.join(projectRoot(), 'test', 'fixtures', 'agents', 'standin-tui.js');

/** One line of the stand-in's log: a message it took. */
export interface TakenMessage {
  readonly sha256: string;
  readonly bytes: number;
  readonly preview: string;
  readonly at: number;
}

export interface StandinAgent {
  readonly pane: PaneId;
  readonly log: string;
}

/**
 * A private tmux server (its own socket, `-f /dev/null`, /bin/sh as the shell) whose windows run
 * stand-in agent TUIs. kill() stops only this server.
 */
export class StandinServer {
  readonly folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-agents-'));
  readonly socketPath = path.join(this.folder, 'sock');
  readonly address: ServerAddress = { tmuxPath: 'tmux', socketPath: this.socketPath };
  private readonly env: NodeJS.ProcessEnv;
  private agents = 0;

  constructor() {
    const env: NodeJS.ProcessEnv = { ...process.env, SHELL: '/bin/sh' };
    delete env.TMUX;
    delete env.TMUX_PANE;
    this.env = env;
    this.tmux('new-session', '-d', '-s', 'agents', '-x', '120', '-y', '40', 'exec sleep 100000', ';', 'set-option', '-g', 'default-shell', '/bin/sh');
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socketPath, '-f', '/dev/null', ...args], { encoding: 'utf8', env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Starts a stand-in TUI in a new window with these flags (see standin-tui.js). */
  startAgent(flags: readonly string[] = []): StandinAgent {
    const log = path.join(this.folder, `agent-${++this.agents}.log`);
    fs.writeFileSync(log, '');
    const pane = this.tmux('new-window', '-d', '-t', 'agents:', '-P', '-F', '#{pane_id}', this.command(log, flags)).trim() as PaneId;
    return { pane, log };
  }

  /** Restarts the agent's program in its pane (a fresh start, log kept). */
  restartAgent(agent: StandinAgent, flags: readonly string[] = []): void {
    this.tmux('respawn-pane', '-k', '-t', agent.pane, this.command(agent.log, flags));
  }

  private command(log: string, flags: readonly string[]): string {
    const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
    return ['exec', quote(process.execPath), quote(STANDIN_TUI), '--log', quote(log), ...flags.map(quote)].join(' ');
  }

  screen(pane: PaneId): string {
    return this.tmux('capture-pane', '-p', '-t', pane);
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

export function taken(agent: StandinAgent): TakenMessage[] {
  return fs
    .readFileSync(agent.log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TakenMessage);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A prompt of about `bytes` UTF-8 bytes, unique by `tag`, with what breaks naive senders: several
 * lines, tabs, backticks, `$()`, tmux's own `#{…}` and `;`, quotes, backslashes, accents, CJK and
 * an emoji, a CRLF line ending in the middle, and a trailing line break.
 */
export function hostilePrompt(tag: string, bytes = 2048): string {
  const lines = [
    `Task ${tag}: tidy the parser — naïve café, Straße, 日本語のテスト, 🚀 launch`,
    '\tindented with a tab,\tand another tab inside',
    'run `npm test` first; $(rm -rf ~) and ${HOME} and $PATH stay text',
    'windows line ending here\r',
    "tmux's own: #{pane_id} #[fg=red] ; \\; \\ backslash \"double\" 'single'",
    '',
  ];
  let text = lines.join('\n');
  for (let i = 0; Buffer.byteLength(text) < bytes - 80; i++) {
    text += `${i}. keep \`line ${i}\` as is:\t$(echo ${i}) — ü ✓ ${'x'.repeat(i % 40)}\n`;
  }
  return text + 'last line, then a trailing line break\n';
}
