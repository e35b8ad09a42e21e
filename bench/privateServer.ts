import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ServerAddress } from '../src/tmux/server';
import { isAlive } from '../src/core/processes';

/**
 * A private tmux server for the bench: `tmux -S <tmpdir>/sock -f /dev/null`, in a temporary folder
 * of its own. Nothing here ever addresses the user's default server, and `kill()` stops only this
 * one (by its socket, never by process name).
 */
export class PrivateServer {
  /** Every server made and not yet killed, so that an interrupted bench can kill them all. */
  private static readonly live = new Set<PrivateServer>();

  /** Kills every private server this process made and has not killed yet (for a signal handler). */
  static killAll(): void {
    for (const server of [...PrivateServer.live]) server.kill();
  }

  readonly folder: string;
  readonly socketPath: string;
  readonly address: ServerAddress;
  /** The environment of every tmux process we start: no $TMUX, a throwaway HOME (and XDG folders), a plain shell. */
  readonly env: NodeJS.ProcessEnv;
  private killed = false;
  /** The server's process id, once built: kill() waits for exactly this process to be gone. */
  private serverPid: number | undefined;

  constructor() {
    this.folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-bench-'));
    this.socketPath = path.join(this.folder, 'sock');
    this.address = { tmuxPath: 'tmux', socketPath: this.socketPath };
    const home = path.join(this.folder, 'home');
    fs.mkdirSync(home);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      SHELL: '/bin/sh',
      TMUX_TMPDIR: this.folder,
    };
    delete env.TMUX;
    delete env.TMUX_PANE;
    this.env = env;
    PrivateServer.live.add(this);
  }

  /** The argument vector for one tmux command against this server. */
  argv(args: readonly string[]): string[] {
    return ['-S', this.socketPath, '-f', '/dev/null', ...args];
  }

  /** Runs one tmux command as its own process; resolves with its stdout. */
  tmux(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('tmux', this.argv(args), { env: this.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`tmux ${args.join(' ')}: ${String(stderr).trim() || error.message}`));
        else resolve(stdout);
      });
    });
  }

  /**
   * Builds `sessions` sessions of `windows` windows of `panes` panes each. The first session starts
   * the server; one `source-file` of a generated script makes all the rest in a single client.
   */
  async build(sessions: number, windows: number, panes: number): Promise<void> {
    const name = (i: number) => `s${String(i).padStart(3, '0')}`;
    const lines: string[] = [];
    for (let s = 0; s < sessions; s++) {
      for (let w = 0; w < windows; w++) {
        if (w === 0) {
          if (s > 0) lines.push(`new-session -d -s ${name(s)} -n w0 -x 200 -y 50`);
        } else {
          lines.push(`new-window -d -t =${name(s)}:${w} -n w${w}`);
        }
        for (let p = 1; p < panes; p++) lines.push(`split-window -d -t =${name(s)}:${w}`);
      }
    }
    await this.buildScript(['new-session', '-d', '-s', name(0), '-n', 'w0', '-x', '200', '-y', '50'], lines);
  }

  /**
   * Starts the server with `first` (a new-session command) and runs `lines` (tmux commands, one a
   * line) in the same client through one `source-file`.
   */
  async buildScript(first: readonly string[], lines: readonly string[]): Promise<void> {
    const script = path.join(this.folder, 'build.tmux');
    fs.writeFileSync(script, lines.join('\n') + '\n');
    await this.tmux(...first, ';', 'source-file', script);
    await this.adopt();
  }

  /**
   * Records the process id of a server that something else started on our socket (a restore, a
   * peer tool), so that kill() waits for exactly that process.
   */
  async adopt(): Promise<void> {
    this.serverPid = Number((await this.tmux('display-message', '-p', '#{pid}')).trim()) || undefined;
  }

  /** Number of panes the server has, asked by a separate process. */
  async paneCount(): Promise<number> {
    const out = await this.tmux('list-panes', '-a', '-F', '#{pane_id}');
    return out.split('\n').filter(Boolean).length;
  }

  /** Whether a server still answers on our socket. */
  isRunning(): boolean {
    try {
      execFileSync('tmux', this.argv(['list-sessions', '-F', '#{session_id}']), { env: this.env, stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Kills this server only (`kill-server` through its socket), waits until its process has exited
   * (tmux closes 600 panes first, which takes a moment), and removes the temporary folder. Safe to
   * call twice; synchronous, so it also works from a signal handler.
   */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    PrivateServer.live.delete(this);
    try {
      execFileSync('tmux', this.argv(['kill-server']), { env: this.env, stdio: 'ignore', timeout: 10_000 });
    } catch {
      // Not running (any more).
    }
    const pid = this.serverPid;
    if (pid !== undefined) {
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
      // Still there after 10 s: this one process, by its id (it is ours: we started it).
      if (isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
    }
    fs.rmSync(this.folder, { recursive: true, force: true });
  }

  /** The server's process id (known once built). */
  get pid(): number | undefined {
    return this.serverPid;
  }

  /** True while the server's process exists (known once built). */
  processAlive(): boolean {
    return this.serverPid !== undefined && isAlive(this.serverPid);
  }
}

