import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Runner } from '../../tmux/commands';
import { Disposable, Emitter, Event } from '../../tmux/emitter';
import { NoServerError, TargetNotFoundError } from '../../tmux/errors';
import { findById, PaneId, Tree } from '../../tmux/model';
import { ServerAddress } from '../../tmux/server';
import type { TmuxService } from '../../tmux/service';
import { killGracefully, KillTimings } from '../kill';
import { OutputOpener } from '../output/outputHub';
import { shellQuote } from '../output/paneOutput';
import { Clock } from '../supervision/clock';
import { releaseLease, sessionLease, takeLease } from '../supervision/lease';
import { realProbes } from '../supervision/probes';
import { RecordError, SupervisionRecord } from '../supervision/record';
import { RunOutputTaps } from '../supervision/runOutput';
import { Supervisor } from '../supervision/supervisor';
import { TmuxDriver, TmuxLaunch } from '../supervision/tmuxDriver';
import { ExitInfo, UnitEvent, UnitSpec, UnitStatus } from '../supervision/types';
import { Profile, ProfilePane, ProfileWindow } from './parse';

/** Pane and session user options that tie a live session to its profile; they outlive every window. */
export const PROFILE_OPTION = '@tsm-profile';
export const RECORD_OPTION = '@tsm-supervision';
export const PANE_KEY_OPTION = '@tsm-profile-pane';
export const PANE_HASH_OPTION = '@tsm-profile-hash';
export const WINDOW_LAYOUT_OPTION = '@tsm-profile-layout';

/** What the runtime needs from its surroundings: tmux, its live tree, pane output, and permission to run the repository's commands. */
export interface ProfileHost {
  readonly run: Runner;
  readonly address: ServerAddress;
  readonly onTree: Event<Tree>;
  readonly tree: () => Tree;
  /** The shared PaneOutputHub's open: output probes read through it. */
  readonly output: OutputOpener;
  readonly clock?: Clock;
  readonly kill?: KillTimings;
  readonly log?: (line: string) => void;
  /** False in an untrusted workspace: nothing from the profile runs (services, hooks), and the error says why. */
  readonly mayRunCommands?: () => boolean;
  /** Runs the command that makes the session, starting the server when none runs (default: run). */
  readonly runStartingServer?: Runner;
  /**
   * This process's supervision lease token (lease.ts). With one, a session whose services another
   * live process supervises is not adopted (SupervisedElsewhereError), so two windows never both
   * restart a service. Without one (tests of one process), no lease is kept.
   */
  readonly leaseToken?: string;
}

/** A profile host over a live TmuxService (the window's, or a test's), with what the caller adds. */
export function serviceProfileHost(service: TmuxService, output: OutputOpener, extra: Partial<ProfileHost> = {}): ProfileHost {
  return {
    run: (argv) => service.run(argv),
    runStartingServer: (argv) => service.runStartingServer(argv),
    address: service.address,
    onTree: service.onDidChangeTree,
    tree: () => service.tree,
    output,
    ...extra,
  };
}

/** Another live process (a VS Code window, `tsm up --foreground`) supervises the session's services. */
export class SupervisedElsewhereError extends Error {
  constructor(
    readonly session: string,
    readonly holder: string,
  ) {
    super(`The services of session "${session}" are supervised by another window (process ${holder.split('-')[0]}): use that window, or close it and this one takes over.`);
    this.name = 'SupervisedElsewhereError';
  }
}

/** The profile's commands are not run in a folder the user has not trusted. */
export class UntrustedProfileError extends Error {
  constructor(file: string) {
    super(`${file} runs commands, and this workspace is not trusted: nothing was started. Trust the folder (Manage Workspace Trust) to run its profile.`);
    this.name = 'UntrustedProfileError';
  }
}

/** A session that has the profile's name but was not made from it. */
export class SessionTakenError extends Error {
  constructor(session: string, file: string) {
    super(`A session named "${session}" already runs and was not made from ${file}; rename or close it, or set another "session:" in the profile.`);
    this.name = 'SessionTakenError';
  }
}

export interface ProfileDiff {
  /** Pane keys. Unchanged panes keep their pane and process. */
  readonly unchanged: readonly string[];
  /** Services restarted, plain panes started again with their new command. */
  readonly changed: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Windows whose layout is set again (changed in the profile, or panes came or went). */
  readonly layouts: readonly string[];
}

export function diffIsEmpty(diff: ProfileDiff): boolean {
  return diff.changed.length + diff.added.length + diff.removed.length + diff.layouts.length === 0;
}

/** The difference as lines for a person, before it is applied. */
export function describeDiff(diff: ProfileDiff): string[] {
  if (diffIsEmpty(diff)) return [`Nothing to change: the session matches the profile (${diff.unchanged.length} panes).`];
  return [
    ...diff.changed.map((key) => `~ ${key}: changed, restarts`),
    ...diff.added.map((key) => `+ ${key}: new, starts`),
    ...diff.removed.map((key) => `- ${key}: removed, stops`),
    ...diff.layouts.map((window) => `▦ window ${window}: layout set again`),
    `${diff.unchanged.length} pane${diff.unchanged.length === 1 ? '' : 's'} unchanged (kept running)`,
  ];
}

/** A service's status as the views show it: the supervisor's, plus where it runs and how its last run ended. */
export interface ServiceStatus extends UnitStatus {
  readonly paneId: string | undefined;
  readonly lastExit: ExitInfo | undefined;
}

interface LivePane {
  readonly id: PaneId;
  readonly windowId: string;
  readonly windowName: string;
  readonly key: string;
  readonly hash: string;
  readonly layout: string;
}

/**
 * One profile's session in tmux: builds it, keeps its services running through the Supervisor and
 * the tmux driver (each service its pane's own process, respawned in place), applies edits to it,
 * and takes it down. Supervision state lives in a session user option, so a window that reloads
 * opens the same runtime again and adopts the running services instead of starting them twice.
 */
export class ProfileRuntime implements Disposable {
  private supervisor: Supervisor;
  private readonly driver: TmuxDriver;
  private readonly taps: RunOutputTaps;
  private readonly stateEmitter = new Emitter<UnitEvent>();
  private supervisorEvents: Disposable;
  private readonly exitSubscription: Disposable;
  /** Pane key → pane id, for the panes of the live session. */
  private panes = new Map<string, PaneId>();
  private readonly lastExits = new Map<string, ExitInfo>();
  private saving: Promise<void> | undefined;
  private saveAgain = false;
  private disposed = false;

  /** Every state change of every service, once each. */
  readonly onDidChangeState = this.stateEmitter.event;

  private constructor(
    private readonly host: ProfileHost,
    private profileNow: Profile,
    readonly sessionId: string,
  ) {
    this.taps = new RunOutputTaps(host.output);
    this.driver = new TmuxDriver(host.run, host.address, (unit) => this.launchOf(unit), host.onTree, { beforeRun: this.taps.beforeRun });
    this.exitSubscription = this.driver.onExit((handle, exit) => {
      const unit = [...this.panes].find(([, id]) => id === handle)?.[0];
      if (unit) this.lastExits.set(unit, exit);
      void this.taps.close(handle);
    });
    this.supervisor = this.newSupervisor(profileNow);
    this.supervisorEvents = this.forward();
  }

  get profile(): Profile {
    return this.profileNow;
  }

  /**
   * The runtime of the profile's live session, adopting its running services, or undefined when no
   * session of the profile runs. A session of that name not made from a profile is an error.
   */
  static async find(host: ProfileHost, profile: Profile): Promise<ProfileRuntime | undefined> {
    const sessionId = await sessionIdOf(host.run, profile.session);
    if (!sessionId) return undefined;
    const marker = await readOption(host.run, sessionId, PROFILE_OPTION);
    if (!marker) throw new SessionTakenError(profile.session, profile.file);
    // Before anything is restored: restoring restarts services that died meanwhile.
    await ProfileRuntime.lease(host, profile, sessionId);
    const runtime = new ProfileRuntime(host, profile, sessionId);
    const live = await readLive(host.run, sessionId);
    runtime.panes = new Map(live.map((pane) => [pane.key, pane.id]));
    // The services as they were last brought up: the record may name units the edited profile no longer has.
    const saved = await readOption(host.run, sessionId, RECORD_OPTION);
    if (saved) {
      try {
        await runtime.supervisor.restore(JSON.parse(saved));
      } catch (error) {
        if (!(error instanceof RecordError) && !(error instanceof SyntaxError)) throw error;
        host.log?.(`The supervision record of session "${profile.session}" could not be read (${(error as Error).message}); its services are adopted as not running.`);
      }
    }
    return runtime;
  }

  /**
   * Builds the profile's session (when none runs) and starts its services in dependency order.
   * `onRuntime` gets the runtime as soon as it exists, before the services are up, so views can
   * show them starting and waiting.
   */
  static async up(host: ProfileHost, profile: Profile, signal?: AbortSignal, onRuntime?: (runtime: ProfileRuntime) => void): Promise<ProfileRuntime> {
    if (host.mayRunCommands && !host.mayRunCommands()) throw new UntrustedProfileError(profile.file);
    const found = await ProfileRuntime.find(host, profile);
    if (found) {
      onRuntime?.(found);
      await found.apply(profile);
      await found.startAll(signal);
      return found;
    }
    const sessionId = await build(host.run, profile, host.runStartingServer ?? host.run);
    await ProfileRuntime.lease(host, profile, sessionId);
    const runtime = new ProfileRuntime(host, profile, sessionId);
    runtime.panes = new Map((await readLive(host.run, sessionId)).map((pane) => [pane.key, pane.id]));
    onRuntime?.(runtime);
    await runtime.startAll(signal);
    await runtime.hook('onStart');
    return runtime;
  }

  private static async lease(host: ProfileHost, profile: Profile, sessionId: string): Promise<void> {
    if (!host.leaseToken) return;
    const answer = await takeLease(host.run, sessionLease(sessionId), host.leaseToken);
    if (!answer.held) throw new SupervisedElsewhereError(profile.session, answer.holder);
  }

  statuses(): ServiceStatus[] {
    return this.supervisor.statuses().map((status) => ({ ...status, paneId: this.panes.get(status.name), lastExit: this.lastExits.get(status.name) }));
  }

  /** The pane a service or pane key runs in. */
  paneOf(key: string): PaneId | undefined {
    return this.panes.get(key);
  }

  record(): SupervisionRecord {
    return this.supervisor.record();
  }

  async restart(name: string): Promise<void> {
    this.assertMayRun();
    await this.supervisor.restart(name);
  }

  /** Stops one service (and what depends on it); the panes stay. */
  async stop(name: string): Promise<void> {
    await this.supervisor.down([name]);
  }

  /**
   * Stops every service in reverse dependency order, each gracefully (its stop method, then SIGKILL
   * of its process group), then ends the other panes the same careful way and closes the session.
   */
  async down(): Promise<void> {
    await this.supervisor.down();
    const session = findById(this.host.tree(), this.sessionId);
    try {
      if (session) await killGracefully(this.host.run, session, this.host.kill ?? { interruptWaitMs: 1500, terminateWaitMs: 3000 });
      else await this.host.run(['kill-session', '-t', this.sessionId]);
    } catch (error) {
      if (!(error instanceof TargetNotFoundError)) throw error;
    }
    await this.hook('onStop');
    this.dispose();
  }

  /** What applying `next` to the live session would change. */
  async plan(next: Profile): Promise<ProfileDiff> {
    return planOf(await readLive(this.host.run, this.sessionId), next);
  }

  /**
   * Brings the live session to `next`: panes whose definition did not change keep their pane and
   * process; changed services restart in their pane, new ones start, removed ones stop. Applying
   * the same profile twice changes nothing the second time.
   */
  async apply(next: Profile): Promise<ProfileDiff> {
    this.assertMayRun();
    const live = await readLive(this.host.run, this.sessionId);
    const diff = planOf(live, next);
    if (diffIsEmpty(diff)) {
      this.profileNow = next;
      return diff;
    }
    const services = new Set(this.supervisor.statuses().map((status) => status.name));
    const leaving = [...diff.changed, ...diff.removed].filter((key) => services.has(key));
    if (leaving.length > 0) await this.supervisor.down(leaving, { alone: true });
    const record = this.supervisor.record();
    const redone = new Set([...diff.changed, ...diff.added, ...diff.removed]);
    const kept: SupervisionRecord = { ...record, units: Object.fromEntries(Object.entries(record.units).filter(([name]) => !redone.has(name))) };
    this.supervisorEvents.dispose();
    this.supervisor.dispose();

    const byKey = new Map(live.map((pane) => [pane.key, pane]));
    for (const key of diff.removed) await this.closePane(byKey.get(key)!.id);
    const wanted = new Map(next.windows.flatMap((window) => window.panes.map((pane) => [pane.key, { window, pane }] as const)));
    for (const key of diff.changed) {
      const { pane } = wanted.get(key)!;
      await this.host.run(['respawn-pane', '-k', '-t', byKey.get(key)!.id, ...paneArgs(pane), ...programOf(pane)]);
      await markPane(this.host.run, byKey.get(key)!.id, pane);
    }
    const windowIds = new Map(live.map((pane) => [pane.windowName, pane.windowId]));
    const marks: PendingMarks = [];
    for (const window of next.windows) {
      for (const pane of window.panes) {
        if (!diff.added.includes(pane.key)) continue;
        const windowId = windowIds.get(window.name);
        if (windowId) {
          const inWindow = await this.host.run(['list-panes', '-t', windowId, '-F', '#{pane_id}']);
          await splitInto(this.host.run, windowId, inWindow[inWindow.length - 1], pane, marks);
        }
        else windowIds.set(window.name, (await newWindow(this.host.run, this.sessionId, window, pane, marks)).windowId);
      }
    }
    await Promise.all(marks);
    for (const window of next.windows) if (diff.layouts.includes(window.name)) await setLayout(this.host.run, windowIds.get(window.name)!, window);

    this.profileNow = next;
    this.panes = new Map((await readLive(this.host.run, this.sessionId)).map((pane) => [pane.key, pane.id]));
    this.supervisor = this.newSupervisor(next);
    this.supervisorEvents = this.forward();
    await this.supervisor.restore(kept);
    const starting = [...diff.changed, ...diff.added].filter((key) => this.supervisor.statuses().some((status) => status.name === key));
    if (starting.length > 0) await this.supervisor.up(starting);
    this.scheduleSave();
    return diff;
  }

  /** Lets go of the session without stopping anything (a window closing or reloading): the record stays in tmux. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Hands supervision on at once: a window that waits for the lease need not wait for this process to end.
    if (this.host.leaseToken) void releaseLease(this.host.run, sessionLease(this.sessionId), this.host.leaseToken).catch(() => undefined);
    this.supervisorEvents.dispose();
    this.supervisor.dispose();
    this.exitSubscription.dispose();
    this.driver.dispose();
    void this.taps.dispose();
    this.stateEmitter.dispose();
  }

  /** Resolves once the last state change is written to tmux (tests, and before a reload). */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }

  // ---- inside ------------------------------------------------------------------------------

  private async startAll(signal?: AbortSignal): Promise<void> {
    const abort = () => void this.supervisor.down();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await this.supervisor.up();
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    if (signal?.aborted) throw new Error('Up was cancelled; the services it had started were stopped.');
    this.scheduleSave();
  }

  private newSupervisor(profile: Profile): Supervisor {
    const units = profile.windows.flatMap((window) => window.panes.flatMap((pane) => (pane.unit ? [pane.unit] : [])));
    return new Supervisor({ units, driver: this.driver, ...(this.host.clock ? { clock: this.host.clock } : {}), probes: realProbes(this.taps.watcher) });
  }

  private forward(): Disposable {
    return this.supervisor.onDidChangeState((event) => {
      this.stateEmitter.fire(event);
      this.scheduleSave();
    });
  }

  private launchOf(unit: UnitSpec): TmuxLaunch {
    const pane = this.profileNow.windows.flatMap((window) => window.panes).find((candidate) => candidate.key === unit.name);
    const paneId = this.panes.get(unit.name);
    if (!pane || !paneId) throw new Error(`The pane of service "${unit.name}" is gone from session "${this.profileNow.session}"; apply the profile again to recreate it.`);
    return { session: this.sessionId, command: pane.command!, cwd: pane.cwd, env: pane.env, pane: paneId };
  }

  /** Writes the supervision record into the session: one write in flight, and one more for what changed meanwhile. */
  private scheduleSave(): void {
    if (this.disposed) return;
    if (this.saving) {
      this.saveAgain = true;
      return;
    }
    this.saving = (async () => {
      do {
        this.saveAgain = false;
        try {
          await this.host.run(['set-option', '-t', this.sessionId, RECORD_OPTION, JSON.stringify(this.supervisor.record())]);
        } catch (error) {
          this.host.log?.(`Could not save the supervision record of "${this.profileNow.session}": ${(error as Error).message}`);
          this.saveAgain = false;
        }
      } while (this.saveAgain && !this.disposed);
    })().finally(() => (this.saving = undefined));
  }

  private async closePane(id: PaneId): Promise<void> {
    const pane = findById(this.host.tree(), id);
    try {
      if (pane && pane.kind === 'pane' && !pane.dead) await killGracefully(this.host.run, pane, this.host.kill ?? { interruptWaitMs: 1500, terminateWaitMs: 3000 });
      else await this.host.run(['kill-pane', '-t', id]);
    } catch (error) {
      if (!(error instanceof TargetNotFoundError)) throw error;
    }
  }

  private assertMayRun(): void {
    if (this.host.mayRunCommands && !this.host.mayRunCommands()) throw new UntrustedProfileError(this.profileNow.file);
  }

  private async hook(which: 'onStart' | 'onStop'): Promise<void> {
    const command = this.profileNow.hooks[which];
    if (!command) return;
    this.assertMayRun();
    await runHook(command, this.profileNow, which, this.host.log);
  }
}

/** Runs a profile hook with the project and session in its environment; its output goes to the log. */
export function runHook(command: string, profile: Profile, which: string, log?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: profile.root,
      env: { ...process.env, ...profile.env, TSM_PROJECT: profile.root, TSM_PROFILE: profile.file, TSM_SESSION: profile.session, TSM_HOOK: which },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (output.trim()) log?.(`${which} hook: ${output.trim()}`);
      if (code === 0) resolve();
      else reject(new Error(`The ${which} hook \`${command}\` exited ${code}${output.trim() ? `: ${output.trim().split('\n').pop()}` : ''}.`));
    });
  });
}

// ---- the session in tmux ------------------------------------------------------------------------

/** A service pane waits here until its dependencies allow it to start; the driver respawns it then. */
const PLACEHOLDER = `printf '%s\\n' 'waiting to start'; exec sleep 2147483647`;

function programOf(pane: ProfilePane): string[] {
  if (pane.unit) return [PLACEHOLDER];
  if (pane.command === undefined) return [];
  // Run as the pane's process through the login shell, then a shell, so the pane stays usable.
  return [`"\${SHELL:-/bin/sh}" -lc ${shellQuote(pane.command)}; exec "\${SHELL:-/bin/sh}" -l`];
}

function paneArgs(pane: ProfilePane): string[] {
  return ['-c', pane.cwd, ...Object.entries(pane.env).flatMap(([name, value]) => ['-e', `${name}=${value}`])];
}

export function paneHash(pane: ProfilePane): string {
  const definition = JSON.stringify({ command: pane.command, cwd: pane.cwd, env: pane.env, unit: pane.unit });
  return createHash('sha256').update(definition).digest('hex').slice(0, 16);
}

async function markPane(run: Runner, id: string, pane: ProfilePane): Promise<void> {
  // Asked together, so the service sends them to tmux as one burst.
  await Promise.all([
    run(['set-option', '-p', '-t', id, 'remain-on-exit', pane.unit ? 'on' : 'off']),
    run(['set-option', '-p', '-t', id, PANE_KEY_OPTION, pane.key]),
    run(['set-option', '-p', '-t', id, PANE_HASH_OPTION, paneHash(pane)]),
  ]);
}

/** Marks still on their way: awaited once the panes are all made, so marking never delays the next split. */
type PendingMarks = Promise<void>[];

/** The same promise, known to be handled: a build that fails part-way still awaits every mark, but may not get to. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Splits `after`, so the new pane comes next to it: splitting the window would split its active pane, putting panes in reverse. */
async function splitInto(run: Runner, windowId: string, after: string, pane: ProfilePane, marks: PendingMarks): Promise<PaneId> {
  const [id] = await run(['split-window', '-d', '-t', after, '-P', '-F', '#{pane_id}', ...paneArgs(pane), ...programOf(pane)]);
  marks.push(handled(markPane(run, id, pane)));
  // Room for the next split: without it each split halves the last pane until none fits.
  await run(['select-layout', '-t', windowId, 'tiled']);
  return id as PaneId;
}

async function newWindow(run: Runner, sessionId: string, window: ProfileWindow, pane: ProfilePane, marks: PendingMarks): Promise<{ paneId: PaneId; windowId: string }> {
  const [line] = await run(['new-window', '-d', '-t', `${sessionId}:`, '-n', window.name, '-P', '-F', '#{pane_id} #{window_id}', ...paneArgs(pane), ...programOf(pane)]);
  const [paneId, windowId] = line.split(' ');
  marks.push(handled(markPane(run, paneId, pane)));
  return { paneId: paneId as PaneId, windowId };
}

async function setLayout(run: Runner, windowId: string, window: ProfileWindow): Promise<void> {
  const layout = window.layout ?? 'tiled';
  await run(['select-layout', '-t', windowId, layout]);
  await run(['set-option', '-w', '-t', windowId, WINDOW_LAYOUT_OPTION, layout]);
}

/** Creates the whole session: every window and pane, service panes waiting, plain panes running. */
async function build(run: Runner, profile: Profile, runStartingServer: Runner): Promise<string> {
  const [first, ...others] = profile.windows;
  const firstPane = first.panes[0];
  const [line] = await runStartingServer([
    'new-session', '-d', '-s', profile.session, '-n', first.name, '-x', '200', '-y', '50', '-P', '-F', '#{session_id} #{window_id} #{pane_id}',
    ...paneArgs(firstPane), ...programOf(firstPane),
  ]);
  const [sessionId, windowId, paneId] = line.split(' ');
  const marks: PendingMarks = [];
  try {
    // new-session's -e also sets the session's environment, which every later pane inherits: the first
    // pane's own variables are taken back out of it before any other pane is made, so they stay that pane's.
    const ownOfFirstPane = Object.keys(firstPane.env).filter((name) => profile.env[name] !== firstPane.env[name]);
    marks.push(handled(run(['set-option', '-t', sessionId, PROFILE_OPTION, profile.file]).then(() => undefined)), handled(markPane(run, paneId, firstPane)));
    await Promise.all(ownOfFirstPane.map((name) => run(['set-environment', '-t', sessionId, ...(name in profile.env ? [name, profile.env[name]] : ['-u', name])])));
    const fill = async (window: ProfileWindow, id: string, panes: Map<string, string>) => {
      // Each pane splits the one before it, so pane indexes follow the profile's order (a layout's main pane is the first).
      let last = panes.get(window.panes[0].key)!;
      for (const pane of window.panes.slice(1)) {
        last = await splitInto(run, id, last, pane, marks);
        panes.set(pane.key, last);
      }
      await setLayout(run, id, window);
      const focused = window.panes.find((pane) => pane.focus);
      if (focused) await run(['select-pane', '-t', panes.get(focused.key)!]);
    };
    // The windows are filled side by side: each split waits only for its own window's layout.
    // Each new-window is asked before the next, in the profile's order, so their indexes follow it.
    const windows = [fill(first, windowId, new Map([[firstPane.key, paneId]]))];
    const created = others.map((window) => newWindow(run, sessionId, window, window.panes[0], marks));
    others.forEach((window, index) => windows.push(created[index].then(({ paneId: id, windowId: wid }) => fill(window, wid, new Map([[window.panes[0].key, id]])))));
    const settled = await Promise.allSettled([...windows, ...created]);
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(marks);
    const focusIndex = profile.windows.findIndex((window) => window.focus);
    if (focusIndex === 0) await run(['select-window', '-t', windowId]);
    else if (focusIndex > 0) await run(['select-window', '-t', (await created[focusIndex - 1]).windowId]);
    return sessionId;
  } catch (error) {
    // Nothing half-built stays behind.
    await Promise.allSettled(marks);
    await run(['kill-session', '-t', sessionId]).catch(() => undefined);
    throw error;
  }
}

async function sessionIdOf(run: Runner, name: string): Promise<string | undefined> {
  const lines = await run(['list-sessions', '-F', '#{session_id}\t#{session_name}']).catch((error) => {
    // No server yet: no session either (Up starts the server with the session).
    if (error instanceof TargetNotFoundError || error instanceof NoServerError) return [] as string[];
    throw error;
  });
  for (const line of lines) {
    const tab = line.indexOf('\t');
    if (line.slice(tab + 1) === name) return line.slice(0, tab);
  }
  return undefined;
}

async function readOption(run: Runner, target: string, option: string): Promise<string | undefined> {
  const [value = ''] = await run(['show-options', '-v', '-q', '-t', target, option]);
  return value === '' ? undefined : value;
}

async function readLive(run: Runner, sessionId: string): Promise<LivePane[]> {
  const lines = await run(['list-panes', '-s', '-t', sessionId, '-F', `#{pane_id}\t#{window_id}\t#{${WINDOW_LAYOUT_OPTION}}\t#{${PANE_KEY_OPTION}}\t#{${PANE_HASH_OPTION}}\t#{window_name}`]);
  return lines.flatMap((line) => {
    const [id, windowId, layout, key, hash, ...name] = line.split('\t');
    // Panes made by hand in the session are not the profile's: apply leaves them alone.
    return key ? [{ id: id as PaneId, windowId, layout, key, hash, windowName: name.join('\t') }] : [];
  });
}

function planOf(live: readonly LivePane[], next: Profile): ProfileDiff {
  const byKey = new Map(live.map((pane) => [pane.key, pane]));
  const unchanged: string[] = [];
  const changed: string[] = [];
  const added: string[] = [];
  const layouts: string[] = [];
  const wantedKeys = new Set<string>();
  for (const window of next.windows) {
    let touched = false;
    for (const pane of window.panes) {
      wantedKeys.add(pane.key);
      const current = byKey.get(pane.key);
      if (!current || current.windowName !== window.name) {
        added.push(pane.key);
        touched = true;
      } else if (current.hash !== paneHash(pane)) changed.push(pane.key);
      else unchanged.push(pane.key);
    }
    const panesNow = live.filter((pane) => pane.windowName === window.name);
    if (panesNow.some((pane) => !window.panes.some((wanted) => wanted.key === pane.key))) touched = true;
    const layoutNow = panesNow[0]?.layout;
    if (panesNow.length > 0 && (touched || layoutNow !== (window.layout ?? 'tiled'))) layouts.push(window.name);
  }
  // A pane that moved to another window is made again there.
  const removed = live.filter((pane) => !wantedKeys.has(pane.key) || added.includes(pane.key)).map((pane) => pane.key);
  return { unchanged, changed, added, removed, layouts };
}
