import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { Runner } from '../../tmux/commands';
import { Disposable, Emitter, Event } from '../../tmux/emitter';
import { TargetNotFoundError } from '../../tmux/errors';
import { allPanes, Tree } from '../../tmux/model';
import { ServerAddress } from '../../tmux/server';
import { shellQuote } from '../output/paneOutput';
import { isShell, listProcesses, processTree } from '../processes';
import { ExitInfo, HandleInspection, StartMode, StopRequest, UnitDriver, UnitSpec } from './types';

/** Where and how a unit runs in tmux. */
export interface TmuxLaunch {
  /** The session its window goes in: `$3` or an exact name. */
  readonly session: string;
  readonly command: string;
  /** Run instead of `command` when the supervisor resumes the unit (an agent's `--continue`). */
  readonly resumeCommand?: string;
  readonly cwd?: string;
  /** Default: the unit's name. */
  readonly windowName?: string;
  /**
   * A pane made for the unit beforehand (a profile's layout, with remain-on-exit on): every start
   * respawns it (`respawn-pane -k`) instead of opening a window, so the unit keeps its place.
   */
  readonly pane?: string;
  /** Set in the program's environment (`-e NAME=VALUE`). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface TmuxDriverOptions {
  /**
   * Called once the unit's pane holds its new run but before the program begins (it waits at a
   * gate until this settles): an output probe opens its reader here, so it sees the run's first line.
   */
  readonly beforeRun?: (unit: UnitSpec, paneId: string) => Promise<void>;
}

interface Run {
  readonly unit: string;
  readonly pid: number;
  reported: boolean;
}

/**
 * Runs each unit as its pane's own process — `$SHELL -lc '<command>'` in a window of its own, never
 * typed into a shell — with remain-on-exit on, so the pane stays after an exit and tells its code
 * or signal (`pane_dead_status`, `pane_dead_signal`). A restart respawns that same pane. Exits are
 * learnt from the live tree, which follows tmux's pane-died hook: no polling here.
 */
export class TmuxDriver implements UnitDriver, Disposable {
  private readonly exitEmitter = new Emitter<{ handle: string; exit: ExitInfo }>();
  /** Pane id → its current run. */
  private readonly runs = new Map<string, Run>();
  /** Unit name → its pane, reused by restarts. */
  private readonly panes = new Map<string, string>();
  private readonly treeSubscription: Disposable;

  constructor(
    private readonly run: Runner,
    private readonly address: ServerAddress,
    private readonly launchOf: (unit: UnitSpec) => TmuxLaunch,
    onTree: Event<Tree>,
    private readonly options: TmuxDriverOptions = {},
  ) {
    this.treeSubscription = onTree((tree) => this.look(tree));
  }

  onExit(listener: (handle: string, exit: ExitInfo) => void): Disposable {
    return this.exitEmitter.event(({ handle, exit }) => listener(handle, exit));
  }

  async start(unit: UnitSpec, mode: StartMode): Promise<string> {
    const launch = this.launchOf(unit);
    const command = mode === 'resume' && launch.resumeCommand ? launch.resumeCommand : launch.command;
    const program = `exec "\${SHELL:-/bin/sh}" -lc ${shellQuote(command)}`;
    // The program waits at a gate until its pane is ready to be watched: remain-on-exit on (so even
    // a command that fails at once leaves a dead pane to read its exit from) and output readers open.
    const gate = `tsm-unit-${randomUUID()}`;
    const gated = `${shellQuote(this.address.tmuxPath)} wait-for ${gate}; ${program}`;
    const placement = [...(launch.cwd ? ['-c', launch.cwd] : []), ...Object.entries(launch.env ?? {}).flatMap(([name, value]) => ['-e', `${name}=${value}`])];
    const kept = launch.pane ?? (mode !== 'start' ? this.panes.get(unit.name) : undefined);
    let paneId: string;
    let fresh = false;
    // A unit's own pane (launch.pane) is always there, live or dead, and `respawn-pane -k` takes
    // both; a pane of an earlier run is reused only when it is dead (not closed meanwhile).
    const reuse = kept !== undefined && (launch.pane !== undefined || (await this.isDead(kept)));
    if (kept && reuse) {
      await this.run(['respawn-pane', '-k', '-t', kept, ...placement, gated]);
      paneId = kept;
    } else {
      [paneId = ''] = await this.run(['new-window', '-d', '-P', '-F', '#{pane_id}', '-t', `${launch.session}:`, '-n', launch.windowName ?? unit.name, ...placement, gated]);
      fresh = true;
    }
    try {
      if (fresh) await this.run(['set-option', '-p', '-t', paneId, 'remain-on-exit', 'on']);
      // Independent round trips, asked together: each start is on a dependent's critical path.
      await Promise.all([this.track(unit.name, paneId), this.options.beforeRun?.(unit, paneId)]);
    } finally {
      await this.run(['wait-for', '-S', gate]);
    }
    return paneId;
  }

  async stop(handle: string, how: StopRequest): Promise<void> {
    const run = this.runs.get(handle);
    switch (how.kind) {
      case 'keys':
        await this.run(['send-keys', '-t', handle, ...how.keys]);
        return;
      case 'command':
        await runDetached(how.command);
        return;
      case 'signal':
        if (run) await signalProgram(run.pid, how.signal);
        return;
      case 'kill':
        // The pane's process leads its own session, so its group holds what the unit started.
        if (run) signalGroup(run.pid, 'SIGKILL');
        return;
    }
  }

  /** `unit`, when given, links the handle back to its unit, so its next restart respawns that pane. */
  async inspect(handle: string, unit?: UnitSpec): Promise<HandleInspection> {
    if (unit) this.panes.set(unit.name, handle);
    try {
      const seen = await this.readExit(handle);
      if (seen === 'running') {
        if (!this.runs.has(handle)) this.runs.set(handle, { unit: unit?.name ?? '', pid: await this.panePid(handle), reported: false });
        return { running: true };
      }
      return seen === 'gone' ? { running: false } : { running: false, exit: seen };
    } catch (error) {
      if (error instanceof TargetNotFoundError) return { running: false };
      throw error;
    }
  }

  dispose(): void {
    this.treeSubscription.dispose();
    this.exitEmitter.dispose();
  }

  private async track(unit: string, paneId: string): Promise<void> {
    this.runs.set(paneId, { unit, pid: await this.panePid(paneId), reported: false });
    this.panes.set(unit, paneId);
  }

  private async panePid(paneId: string): Promise<number> {
    const [pid = ''] = await this.run(['display-message', '-p', '-t', paneId, '#{pane_pid}']);
    return Number(pid);
  }

  private async isDead(paneId: string): Promise<boolean> {
    try {
      const [dead] = await this.run(['display-message', '-p', '-t', paneId, '#{pane_dead}']);
      return dead === '1';
    } catch (error) {
      if (error instanceof TargetNotFoundError) return false;
      throw error;
    }
  }

  /** Each tree the service reads: report runs whose pane died (or vanished), once per run. */
  private look(tree: Tree): void {
    const panes = new Map(allPanes(tree).map((pane) => [pane.id as string, pane]));
    for (const [paneId, run] of this.runs) {
      if (run.reported) continue;
      const pane = panes.get(paneId);
      if (pane && !pane.dead) continue;
      // A tree read before a respawn may still show the previous run's dead pane.
      if (pane && pane.pid !== run.pid) continue;
      run.reported = true;
      // A tree read before the pane was made does not show it: ask tmux itself before reporting.
      void this.readExit(paneId)
        .catch((): ExitInfo => ({ code: null, signal: null }))
        .then((exit) => {
          if (exit === 'running') run.reported = false;
          else if (this.runs.get(paneId) === run) this.exitEmitter.fire({ handle: paneId, exit: exit === 'gone' ? { code: null, signal: null } : exit });
        });
    }
  }

  /**
   * How the pane's current run ended, 'running', or 'gone' when the pane is. tmux marks a pane
   * dead when its terminal closes, and knows the status only once it has reaped the process on
   * SIGCHLD. tmux 3.3a–3.5a, built with libutempter (Debian, Ubuntu), can lose that SIGCHLD for
   * good: closing the terminal calls utempter_remove_record, which swaps in libutempter's own
   * SIGCHLD handler while it forks and waits for its helper; a program that exits in that moment
   * is never reaped, its pane stays dead with no status, and pane-died (which waits for the
   * status) never fires. tmux 3.6 sends itself a SIGCHLD after that call; for older servers we
   * do the same: a SIGCHLD to a tmux server only makes it reap the children that have exited.
   */
  private async readExit(paneId: string): Promise<ExitInfo | 'running' | 'gone'> {
    const started = Date.now();
    for (let tries = 0; ; tries++) {
      // display-message of a pane that is gone prints empty fields rather than failing, hence the id.
      const [line = ''] = await this.run(['display-message', '-p', '-t', paneId, '#{pane_id} #{pane_dead} #{pid} #{pane_dead_status} #{pane_dead_signal}']);
      const [id, dead, serverPid, status, signal] = line.split(' ');
      if (id !== paneId) return 'gone';
      if (dead !== '1') return 'running';
      if (status || signal) return exitOf(status, signal);
      if (Date.now() - started >= STATUS_WAIT_MS) return { code: null, signal: null };
      remindToReap(Number(serverPid));
      await new Promise((resolve) => setTimeout(resolve, STATUS_RETRY_MS[Math.min(tries, STATUS_RETRY_MS.length - 1)]));
    }
  }
}

/**
 * How long a dead pane may go without a status before its exit is reported as unknown: the
 * reminder is lost too while libutempter's helper still runs, which on a loaded machine can take
 * a while, so it is sent again at each retry.
 */
const STATUS_WAIT_MS = 5000;
const STATUS_RETRY_MS = [5, 10, 20, 50, 100, 200];

function remindToReap(serverPid: number): void {
  if (!(serverPid > 1)) return;
  try {
    process.kill(serverPid, 'SIGCHLD');
  } catch {
    // Gone, or not ours to signal: its answer to the next read says which.
  }
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number as number, name]));

function exitOf(status: string | undefined, signal: string | undefined): ExitInfo {
  // A number on Linux; a name (`kill`, `KILL`) where libc has sys_signame (BSD, macOS).
  if (signal) return { code: null, signal: /^\d+$/.test(signal) ? (SIGNAL_NAMES.get(Number(signal)) ?? `signal ${signal}`) : `SIG${signal.toUpperCase()}` };
  return { code: status ? Number(status) : null, signal: null };
}

/**
 * The stop signal goes to the unit's program, not to the login shell that started it: a shell that
 * dies first makes tmux close the pane's terminal, and the hangup would kill the program before its
 * own handler for the signal (saving, closing connections) could run. The shell ends by itself once
 * its program has. A leader that is the program itself (or has no children) gets the whole group.
 */
async function signalProgram(pid: number, signal: NodeJS.Signals): Promise<void> {
  if (!(pid > 1)) return;
  const tree = processTree(await listProcesses(), pid);
  const [leader, ...descendants] = tree;
  if (!leader || !isShell(leader.command) || descendants.length === 0) {
    signalGroup(pid, signal);
    return;
  }
  for (const info of descendants) {
    try {
      process.kill(info.pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (!(pid > 1)) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone: the exit is on its way.
  }
}

function runDetached(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
