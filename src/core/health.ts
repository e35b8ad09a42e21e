import * as fs from 'node:fs';
import * as path from 'node:path';
import { TmuxService } from '../tmux/service';
import { describeServer } from '../tmux/server';

/** What the user can do about a failing check; the UI and the CLI each map it to an action. */
export type Fix = 'installTmux' | 'setTmuxPath' | 'startServer' | 'reconnect' | 'createDataDir' | 'setDataDir' | 'showLog';

export interface HealthCheck {
  readonly id: 'binary' | 'version' | 'server' | 'socket' | 'connection' | 'dataDir';
  readonly label: string;
  readonly ok: boolean;
  /** One sentence: what was found, or what is wrong and what to do. */
  readonly detail: string;
  readonly fixes: readonly Fix[];
}

/** Every check of the health report, in the order a user would fix them. */
export async function runHealthChecks(service: TmuxService, dataDir: string): Promise<HealthCheck[]> {
  const state = service.state;
  const stats = service.getStats();
  const checks: HealthCheck[] = [];
  const missing = state.kind === 'tmuxMissing';
  checks.push({
    id: 'binary',
    label: 'tmux program',
    ok: !missing,
    detail: missing ? state.message : `found "${service.address.tmuxPath}"`,
    fixes: missing ? ['installTmux', 'setTmuxPath'] : [],
  });
  const tooOld = state.kind === 'versionTooOld';
  checks.push({
    id: 'version',
    label: 'tmux version',
    ok: !missing && !tooOld,
    detail: tooOld ? state.message : missing ? 'unknown until tmux is found' : `tmux ${stats.version?.text ?? '?'} (3.2 or newer needed)`,
    fixes: tooOld ? ['installTmux', 'setTmuxPath'] : [],
  });
  const serverUp = state.kind === 'ok';
  checks.push({
    id: 'server',
    label: 'tmux server',
    ok: serverUp,
    detail: serverUp
      ? `running on the ${describeServer(service.address)} with ${service.tree.sessions.length} session(s)`
      : state.kind === 'noServer'
        ? `no server is running on the ${describeServer(service.address)}; start one by creating a session`
        : `not reachable (${state.kind})`,
    fixes: serverUp || missing || tooOld ? [] : ['startServer'],
  });
  checks.push(socketCheck(stats.socket, serverUp));
  const connected = state.kind === 'ok';
  checks.push({
    id: 'connection',
    label: 'live connection (control mode)',
    ok: connected,
    detail: connected
      ? `connected since ${stats.connectedAt ? new Date(stats.connectedAt).toLocaleTimeString() : '?'}; ${stats.snapshots} snapshot(s), ${stats.commandsSent} command(s)`
      : state.kind === 'reconnecting'
        ? `reconnecting: ${state.reason}`
        : 'not connected',
    fixes: connected || state.kind === 'noServer' || missing || tooOld ? [] : ['reconnect', 'showLog'],
  });
  checks.push(await dataDirCheck(dataDir));
  return checks;
}

function socketCheck(socket: string, serverUp: boolean): HealthCheck {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(socket);
  } catch {
    stat = undefined;
  }
  if (!stat) {
    return { id: 'socket', label: 'socket', ok: !serverUp, detail: `${socket} does not exist (it appears when a server starts)`, fixes: [] };
  }
  if (!stat.isSocket()) return { id: 'socket', label: 'socket', ok: false, detail: `${socket} exists but is not a socket`, fixes: ['showLog'] };
  return {
    id: 'socket',
    label: 'socket',
    ok: serverUp,
    detail: serverUp ? socket : `${socket} exists but no server answers on it (a crashed server leaves it behind; starting a session replaces it)`,
    fixes: serverUp ? [] : ['startServer'],
  };
}

async function dataDirCheck(dataDir: string): Promise<HealthCheck> {
  const base = { id: 'dataDir' as const, label: 'data folder' };
  try {
    await fs.promises.mkdir(dataDir, { recursive: true });
    const probe = path.join(dataDir, `.write-test-${process.pid}`);
    await fs.promises.writeFile(probe, 'ok');
    await fs.promises.rm(probe, { force: true });
    return { ...base, ok: true, detail: `${dataDir} is writable`, fixes: [] };
  } catch (error) {
    return { ...base, ok: false, detail: `${dataDir} is not writable: ${(error as Error).message}`, fixes: ['createDataDir', 'setDataDir'] };
  }
}
