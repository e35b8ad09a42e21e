// A private tmux server for one test run: its own socket name (`tmux -L`), so tests never see or
// touch the user's default tmux server, and parallel runs never see each other.
//
//   const server = createPrivateTmux();
//   try { await server.tmux('new-session', '-d', '-s', 'a'); ... } finally { await server.kill(); }
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanEnv, onInterrupt, processStatus } from './project.mjs';

const execFileAsync = promisify(execFile);

/** What tmux prints when there is nothing to kill; not an error for kill(). */
const NO_SERVER = /no server running|error connecting to|no such file or directory|server exited unexpectedly/i;
const EXIT_WAIT_MS = 5000;

/**
 * `env` is merged into the environment of every tmux client we run; the server inherits it from
 * whichever client starts it (pass runEnvironment(runDir) to match the workbench's).
 */
export function createPrivateTmux({ prefix = 'tsm-e2e', env: extraEnv = {} } = {}) {
  const socketName = `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
  // Without $TMUX: started from inside tmux, the commands would otherwise act on the outer session.
  const env = { ...cleanEnv(), ...extraEnv };

  /** Runs `tmux -L <socket> ...args` (no shell, so no quoting surprises); resolves to stdout. */
  async function tmux(...args) {
    try {
      const { stdout } = await execFileAsync('tmux', ['-L', socketName, ...args], { env });
      return stdout;
    } catch (error) {
      const detail = (error.stderr || error.message || '').trim();
      const wrapped = new Error(`tmux -L ${socketName} ${args.join(' ')}: ${detail}`);
      wrapped.stderr = error.stderr ?? '';
      throw wrapped;
    }
  }

  /** The server's process id, or null when no server answers. */
  async function serverPid() {
    try {
      const pid = Number((await tmux('display-message', '-p', '#{pid}')).trim());
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /**
   * `tmux -L <socket> kill-server` (fine when none runs), then waits until the server process has
   * exited: tmux answers kill-server before its server is gone, and a client started in that
   * window fails with "server exited unexpectedly" (seen with tmux 3.3a). Resolves to
   * `{ killedAt }`, the time kill-server returned, for tests that time what follows.
   */
  async function kill() {
    forget();
    const pid = await serverPid();
    try {
      await tmux('kill-server');
    } catch (error) {
      if (!NO_SERVER.test(error.stderr || error.message)) throw error;
    }
    const killedAt = Date.now();
    if (pid) await waitForExit(pid);
    fs.rmSync(socketPath(socketName, env), { force: true }); // left behind if the server crashed
    return { killedAt };
  }

  /**
   * Kills servers a suite started next to ours, named `<our socket name>-<suffix>` (a test of
   * switching sockets, say). Only names that start with our unique name: they are this run's.
   */
  async function killRelated() {
    const dir = path.dirname(socketPath(socketName, env));
    const related = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith(`${socketName}-`)) : [];
    for (const name of related) {
      await execFileAsync('tmux', ['-L', name, 'kill-server'], { env }).catch(() => {});
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }

  const forget = onInterrupt(() => kill().then(killRelated));
  return { socketName, socketPath: socketPath(socketName, env), tmux, serverPid, kill, killRelated };
}

/** Where tmux puts a `-L` socket: $TMUX_TMPDIR (or /tmp)/tmux-<uid>/<name>. */
function socketPath(socketName, env) {
  const uid = process.getuid?.() ?? os.userInfo().uid;
  return path.join(env.TMUX_TMPDIR || '/tmp', `tmux-${uid}`, socketName);
}

async function waitForExit(pid) {
  const deadline = Date.now() + EXIT_WAIT_MS;
  while (processStatus(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
