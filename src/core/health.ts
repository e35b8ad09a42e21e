import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServerState, TmuxService } from '../tmux/service';
import { describeServer, ServerAddress } from '../tmux/server';
import { TmuxVersion } from '../tmux/version';

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

/**
 * What the checks look at. The extension reads it from its live service; the command-line tool,
 * which keeps no connection, from one-shot commands (and has no `connection` to report).
 */
export interface HealthFacts {
  readonly address: ServerAddress;
  readonly state: ServerState;
  readonly version?: TmuxVersion;
  readonly socket: string;
  readonly sessions: number;
  /** The live connection, for a caller that keeps one. */
  readonly connection?: { readonly connectedAt?: number; readonly snapshots: number; readonly commandsSent: number };
}

/** Every check of the health report, in the order a user would fix them. */
export async function runHealthChecks(service: TmuxService, dataDir: string): Promise<HealthCheck[]> {
  const stats = service.getStats();
  return healthChecks(
    {
      address: service.address,
      state: service.state,
      version: stats.version,
      socket: stats.socket,
      sessions: service.tree.sessions.length,
      connection: { connectedAt: stats.connectedAt, snapshots: stats.snapshots, commandsSent: stats.commandsSent },
    },
    dataDir,
  );
}

export async function healthChecks(facts: HealthFacts, dataDir: string): Promise<HealthCheck[]> {
  const state = facts.state;
  const checks: HealthCheck[] = [];
  const missing = state.kind === 'tmuxMissing';
  checks.push({
    id: 'binary',
    label: 'tmux program',
    ok: !missing,
    detail: missing ? state.message : `found "${facts.address.tmuxPath}"`,
    fixes: missing ? ['installTmux', 'setTmuxPath'] : [],
  });
  const tooOld = state.kind === 'versionTooOld';
  checks.push({
    id: 'version',
    label: 'tmux version',
    ok: !missing && !tooOld,
    detail: tooOld ? state.message : missing ? 'unknown until tmux is found' : `tmux ${facts.version?.text ?? '?'} (3.2 or newer needed)`,
    fixes: tooOld ? ['installTmux', 'setTmuxPath'] : [],
  });
  const serverUp = state.kind === 'ok';
  checks.push({
    id: 'server',
    label: 'tmux server',
    ok: serverUp,
    detail: serverUp
      ? `running on the ${describeServer(facts.address)} with ${facts.sessions} session(s)`
      : state.kind === 'noServer'
        ? `no server is running on the ${describeServer(facts.address)}; start one by creating a session`
        : `not reachable (${state.kind})`,
    fixes: serverUp || missing || tooOld ? [] : ['startServer'],
  });
  checks.push(socketCheck(facts.socket, serverUp));
  const connection = facts.connection;
  if (connection) {
    const connected = state.kind === 'ok';
    checks.push({
      id: 'connection',
      label: 'live connection (control mode)',
      ok: connected,
      detail: connected
        ? `connected since ${connection.connectedAt ? new Date(connection.connectedAt).toLocaleTimeString() : '?'}; ${connection.snapshots} snapshot(s), ${connection.commandsSent} command(s)`
        : state.kind === 'reconnecting'
          ? `reconnecting: ${state.reason}`
          : 'not connected',
      fixes: connected || state.kind === 'noServer' || missing || tooOld ? [] : ['reconnect', 'showLog'],
    });
  }
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
