import { Disposable, Emitter } from '../../tmux/emitter';
import { attemptAfterRun, BackoffPolicy, backoffProblem, DEFAULT_BACKOFF, jitteredDelay } from './backoff';
import { beginTrial, BreakerPolicy, breakerProblem, BreakerState, CLOSED, DEFAULT_BREAKER, recordFailure, recordSuccess } from './breaker';
import { Clock, Random, systemClock, TimerSlot } from './clock';
import { checkGraph, DependencyCondition, GraphNode, startOrder, withDependencies, withDependents } from './graph';
import { describeCheck, PROBE_DEFAULTS, ProbeLoop, probeProblem, ProbeRunner, READINESS_INTERVAL_MS, realProbes } from './probes';
import { parseRecord, RECORD_VERSION, SupervisionRecord, UnitRecord } from './record';
import { ExitInfo, ProbeResult, StartMode, StopRequest, StopWhy, UnitDriver, UnitEvent, UnitSpec, UnitState, UnitStatus } from './types';

export interface SupervisorOptions {
  readonly units: readonly UnitSpec[];
  readonly driver: UnitDriver;
  readonly clock?: Clock;
  /** For the backoff's jitter. */
  readonly random?: Random;
  /** Runs probe attempts; by default the real http, tcp and command checks (no output checks). */
  readonly probes?: ProbeRunner;
}

export class SupervisionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupervisionConfigError';
  }
}

export const DEFAULT_DEPENDENCY_TIMEOUT_MS = 60_000;
export const DEFAULT_STOP = { method: { kind: 'signal', signal: 'SIGTERM' }, timeoutMs: 10_000 } as const;
/** Exits a driver reports before its start() has returned the handle, kept until it does. */
const EARLY_EXITS_KEPT = 64;

/**
 * Keeps units running: starts them in dependency order, watches their probes, restarts failures
 * with backoff behind a circuit breaker, stops them in reverse order, and times agents out. It
 * reacts to events only (exits, probe results, its own timers on the injected clock): nothing
 * polls, and a unit without probes or timeouts costs no timer at all.
 *
 * `D` is the feature's own detail (an agent's activity), carried along with each state event.
 */
export class Supervisor<D = unknown> implements Disposable {
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly probes: ProbeRunner;
  private readonly driver: UnitDriver;
  private readonly nodes: GraphNode[];
  private readonly units = new Map<string, Unit<D>>();
  private readonly byHandle = new Map<string, Unit<D>>();
  private readonly earlyExits = new Map<string, ExitInfo>();
  private readonly stateEmitter = new Emitter<UnitEvent<D>>();
  private readonly exitSubscription: Disposable;
  private disposed = false;

  /** Every transition of every unit, once each. Persist `record()` on it to survive a reload. */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(options: SupervisorOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.probes = options.probes ?? realProbes();
    this.driver = options.driver;
    for (const spec of options.units) {
      const problem = specProblem(spec);
      if (problem) throw new SupervisionConfigError(`Unit "${spec.name}": ${problem}`);
      if (this.units.has(spec.name)) throw new SupervisionConfigError(`Two units are named "${spec.name}"; give each its own name.`);
      this.units.set(spec.name, new Unit<D>(spec, this.clock));
    }
    this.nodes = options.units.map((spec) => ({ name: spec.name, dependsOn: spec.dependsOn ?? [] }));
    try {
      checkGraph(this.nodes);
    } catch (error) {
      throw new SupervisionConfigError((error as Error).message);
    }
    this.exitSubscription = this.driver.onExit((handle, exit) => this.exited(handle, exit));
  }

  /**
   * Takes one more unit (an agent spawned while the supervisor runs). It has no dependencies on
   * units added later; a unit of that name already here is refused.
   */
  add(spec: UnitSpec): void {
    const problem = specProblem(spec);
    if (problem) throw new SupervisionConfigError(`Unit "${spec.name}": ${problem}`);
    if (this.units.has(spec.name)) throw new SupervisionConfigError(`Two units are named "${spec.name}"; give each its own name.`);
    const node = { name: spec.name, dependsOn: spec.dependsOn ?? [] };
    try {
      checkGraph([...this.nodes, node]);
    } catch (error) {
      throw new SupervisionConfigError((error as Error).message);
    }
    this.units.set(spec.name, new Unit<D>(spec, this.clock));
    this.nodes.push(node);
  }

  /** Forgets a unit without stopping it (its session is gone, or it was finished): its timers go, its process is left alone. */
  remove(name: string): void {
    const unit = this.units.get(name);
    if (!unit) return;
    unit.cancelWait?.();
    unit.clearAll();
    if (unit.handle !== undefined) this.byHandle.delete(unit.handle);
    this.units.delete(name);
    const at = this.nodes.findIndex((node) => node.name === name);
    if (at >= 0) this.nodes.splice(at, 1);
  }

  has(name: string): boolean {
    return this.units.has(name);
  }

  status(name: string): UnitStatus<D> {
    const unit = this.unit(name);
    return { name, state: unit.state, detail: unit.detail, handle: unit.handle, lastProbe: unit.lastProbe, restarts: unit.restarts, breaker: unit.breaker };
  }

  statuses(): UnitStatus<D>[] {
    return [...this.units.keys()].map((name) => this.status(name));
  }

  /**
   * Brings `names` (default: all) and what they depend on up. Units free to start start at once;
   * each other waits for its dependencies' conditions. Resolves when every unit was started or
   * gave up waiting; units already up are left alone.
   */
  async up(names?: readonly string[]): Promise<void> {
    const wanted = withDependencies(this.nodes, this.known(names));
    const launches: Promise<void>[] = [];
    // In start order, so that when a unit's wait begins, each of its dependencies has already left `stopped`.
    for (const name of startOrder(this.nodes)) {
      if (!wanted.has(name)) continue;
      const unit = this.unit(name);
      if (!isIdle(unit.state)) continue;
      unit.downRequested = false;
      unit.resetRun();
      launches.push(this.bringUp(unit));
    }
    await Promise.all(launches);
  }

  /**
   * Stops `names` (default: all) and everything that depends on them, each only after its
   * dependents have stopped. Resolves when all of them have. `alone`: only `names`, leaving their
   * dependents running (a profile edit that replaces one service under running dependents).
   */
  async down(names?: readonly string[], options: { readonly alone?: boolean } = {}): Promise<void> {
    const wanted = options.alone ? new Set(this.known(names)) : withDependents(this.nodes, this.known(names));
    const stopped = new Map<string, Promise<void>>();
    const stopAfterDependents = (name: string): Promise<void> => {
      let done = stopped.get(name);
      if (done) return done;
      const dependents = this.nodes.filter((node) => wanted.has(node.name) && node.dependsOn.some((dependency) => dependency.name === name));
      done = Promise.all(dependents.map((node) => stopAfterDependents(node.name))).then(() => this.stopUnit(this.unit(name), 'requested'));
      stopped.set(name, done);
      return done;
    };
    for (const name of wanted) {
      const unit = this.unit(name);
      unit.downRequested = true;
      // Nothing waiting for a dependency may start once a down began.
      unit.cancelWait?.();
    }
    await Promise.all([...wanted].map(stopAfterDependents));
  }

  /**
   * A person asked for it: always goes through, whatever the breaker or backoff say, and starts the
   * unit's restart history afresh.
   */
  async restart(name: string): Promise<void> {
    const unit = this.unit(name);
    unit.breaker = CLOSED;
    unit.attempt = 0;
    unit.restartTimer.clear();
    unit.downRequested = false;
    unit.cancelWait?.();
    if (unit.handle !== undefined) {
      this.beginStop(unit, 'restart');
      await this.until(unit, (state) => state.phase !== 'stopping');
    } else if (!unit.launching) {
      void this.launch(unit, 'restart');
    }
  }

  /** The feature saw the unit make progress (an agent's output, a tool call): clears `stalled`, and the no-progress timeout starts over. */
  reportProgress(name: string, detail?: D): void {
    const unit = this.unit(name);
    unit.lastProgressAt = this.clock.now();
    if (detail !== undefined) unit.detail = detail;
    if (unit.state.phase === 'stalled') this.setState(unit, { phase: 'running' });
    else if (detail !== undefined) this.emitDetail(unit);
  }

  /**
   * The unit waits on a person (an agent at its prompt, or asking for a permission): no progress
   * is expected meanwhile, so the stalled and no-progress timers rest, and a `stalled` unit is
   * `running` again. Released, they start over from now.
   */
  holdProgress(name: string, held: boolean): void {
    const unit = this.unit(name);
    if (unit.progressHeld === held) return;
    unit.progressHeld = held;
    if (held) {
      unit.stallTimer.clear();
      unit.progressTimer.clear();
      if (unit.state.phase === 'stalled') this.setState(unit, { phase: 'running' });
      return;
    }
    unit.lastProgressAt = this.clock.now();
    if (unit.handle !== undefined && unit.state.phase === 'running') this.armProgress(unit);
  }

  /** Changes the feature's detail (an agent waiting for input, and why) without it counting as progress. */
  setDetail(name: string, detail: D | undefined): void {
    const unit = this.unit(name);
    unit.detail = detail;
    this.emitDetail(unit);
  }

  record(): SupervisionRecord {
    const units: Record<string, UnitRecord> = {};
    for (const [name, unit] of this.units) {
      units[name] = {
        state: unit.state,
        ...(unit.handle === undefined ? {} : { handle: unit.handle }),
        ...(unit.startedAt === undefined ? {} : { startedAt: unit.startedAt }),
        ...(unit.firstStartedAt === undefined ? {} : { firstStartedAt: unit.firstStartedAt }),
        ...(unit.lastProgressAt === undefined ? {} : { lastProgressAt: unit.lastProgressAt }),
        attempt: unit.attempt,
        restarts: unit.restarts,
        breaker: unit.breaker,
        ready: unit.ready,
      };
    }
    return { version: RECORD_VERSION, savedAt: this.clock.now(), units };
  }

  /**
   * Takes up where an earlier supervisor left off (call before `up`). A unit whose handle still
   * runs is adopted as it is: never started again. One that died meanwhile gets the same decision
   * its exit would have got; pending restarts and breaker trials keep their times. Units not in the
   * record, or no longer configured, are left as they are.
   */
  async restore(value: unknown): Promise<void> {
    const record = parseRecord(value);
    await Promise.all(
      Object.entries(record.units).map(async ([name, saved]) => {
        const unit = this.units.get(name);
        if (!unit || !isIdle(unit.state)) return;
        unit.attempt = saved.attempt;
        unit.restarts = saved.restarts;
        unit.breaker = saved.breaker;
        unit.firstStartedAt = saved.firstStartedAt;
        unit.lastProgressAt = saved.lastProgressAt;
        if (saved.handle !== undefined) await this.adopt(unit, saved.handle, saved);
        else this.resumePlan(unit, saved.state);
      }),
    );
  }

  dispose(): void {
    this.disposed = true;
    this.exitSubscription.dispose();
    for (const unit of this.units.values()) {
      unit.cancelWait?.();
      unit.clearAll();
    }
    this.stateEmitter.dispose();
  }

  /** The names asked for (all when none), each checked to exist. */
  private known(names: readonly string[] | undefined): string[] {
    const all = names ?? [...this.units.keys()];
    all.forEach((name) => this.unit(name));
    return [...all];
  }

  private unit(name: string): Unit<D> {
    const unit = this.units.get(name);
    if (!unit) throw new SupervisionConfigError(`No unit is named "${name}"; known units: ${[...this.units.keys()].map((known) => `"${known}"`).join(', ')}.`);
    return unit;
  }

  // ---- bringing up -------------------------------------------------------------------------

  private async bringUp(unit: Unit<D>): Promise<void> {
    const dependencies = unit.spec.dependsOn ?? [];
    if (dependencies.length > 0) {
      const problem = await this.waitForDependencies(unit);
      if (problem === 'cancelled') {
        if (unit.state.phase === 'waiting') this.setState(unit, { phase: 'stopped' });
        return;
      }
      if (problem) {
        this.setState(unit, { phase: 'failed', reason: 'dependency', message: problem });
        return;
      }
    }
    await this.launch(unit, 'start');
  }

  /** Undefined once every condition held; 'cancelled' on down; otherwise why the unit cannot start. */
  private waitForDependencies(unit: Unit<D>): Promise<string | undefined | 'cancelled'> {
    const dependencies = unit.spec.dependsOn ?? [];
    const timeoutMs = unit.spec.dependencyTimeoutMs ?? DEFAULT_DEPENDENCY_TIMEOUT_MS;
    return new Promise((resolve) => {
      const deadline = new TimerSlot(this.clock);
      let subscription: Disposable | undefined;
      const finish = (outcome: string | undefined | 'cancelled'): void => {
        deadline.clear();
        subscription?.dispose();
        unit.cancelWait = undefined;
        resolve(outcome);
      };
      const check = (): boolean => {
        for (const dependency of dependencies) {
          const other = this.unit(dependency.name);
          if (holds(other, dependency.condition)) continue;
          const impossible = cannotHold(other, dependency.condition);
          if (impossible) {
            finish(`"${dependency.name}" ${impossible}, so "${unit.spec.name}" cannot start (it needs "${dependency.name}" ${conditionWords(dependency.condition)}).`);
            return true;
          }
          const state: UnitState = { phase: 'waiting', dependency: dependency.name, condition: dependency.condition };
          this.setState(unit, state);
          return false;
        }
        finish(undefined);
        return true;
      };
      if (check()) return;
      unit.cancelWait = () => finish('cancelled');
      subscription = this.stateEmitter.event((event) => {
        if (dependencies.some((dependency) => dependency.name === event.unit)) check();
      });
      deadline.arm(timeoutMs, () => {
        const waitingFor = dependencies.find((dependency) => !holds(this.unit(dependency.name), dependency.condition))!;
        const other = this.unit(waitingFor.name);
        const probe = other.lastProbe ? `; last probe: ${other.lastProbe.message}` : other.spec.ready ? `; its probe (${describeCheck(other.spec.ready.check)}) has not answered yet` : '';
        finish(`"${unit.spec.name}" waited ${seconds(timeoutMs)} for "${waitingFor.name}" to be ${waitingFor.condition}; it never was (it is ${describeState(other.state)}${probe}).`);
      });
    });
  }

  // ---- running -----------------------------------------------------------------------------

  private async launch(unit: Unit<D>, mode: StartMode): Promise<void> {
    if (this.disposed) return;
    const run = ++unit.run;
    unit.mode = mode;
    // A new run is expected to make progress, whatever the previous one waited for.
    unit.progressHeld = false;
    unit.launching = true;
    unit.ready = false;
    if (mode === 'start') unit.resetRun();
    this.setState(unit, { phase: 'starting', mode });
    let handle: string;
    try {
      handle = await this.driver.start(unit.spec, mode);
    } catch (error) {
      unit.launching = false;
      if (run !== unit.run || this.disposed) return;
      unit.startedAt = this.clock.now();
      this.failed(unit, `could not start: ${(error as Error).message}`, undefined);
      return;
    }
    unit.launching = false;
    if (this.disposed) return;
    if (run !== unit.run) {
      // Superseded while starting (a manual restart): this run must not linger.
      void this.driver.stop(handle, { kind: 'kill' }).catch(() => undefined);
      return;
    }
    const now = this.clock.now();
    unit.handle = handle;
    unit.startedAt = now;
    unit.firstStartedAt ??= now;
    unit.lastProgressAt = now;
    unit.started = true;
    this.byHandle.set(handle, unit);
    const early = this.earlyExits.get(handle);
    if (early) {
      this.earlyExits.delete(handle);
      this.exited(handle, early);
      return;
    }
    if (unit.downRequested || unit.pendingStop) {
      this.beginStop(unit, unit.pendingStop ?? 'requested');
      return;
    }
    this.watch(unit);
  }

  /** Probes and timeouts of a run that is up (just started, or adopted after a reload). */
  private watch(unit: Unit<D>): void {
    this.armWallClock(unit);
    this.armProgress(unit);
    const ready = unit.spec.ready;
    if (ready && !unit.ready) {
      // The handle is news to dependents waiting for `started`.
      this.setState(unit, { phase: 'starting', mode: unit.mode, handle: unit.handle! });
      unit.readyLoop = new ProbeLoop(this.clock, this.probes, { ...ready, intervalMs: ready.intervalMs ?? READINESS_INTERVAL_MS }, unit.spec.name, unit.handle!, (result) => {
        unit.lastProbe = result;
        if (!result.ok) return true;
        this.becameReady(unit);
        return false;
      });
      unit.readyLoop.start();
    } else {
      this.becameReady(unit);
    }
  }

  private becameReady(unit: Unit<D>): void {
    unit.ready = true;
    unit.readyLoop = undefined;
    if (unit.breaker.status === 'halfOpen') {
      if (unit.spec.ready) this.trialSucceeded(unit);
      // Without a readiness probe, a trial succeeds once it has run as long as a stable run.
      else unit.trialTimer.arm(this.backoffOf(unit).resetAfterMs, () => this.trialSucceeded(unit));
    }
    this.setState(unit, { phase: 'running' });
    const health = unit.spec.health;
    if (health) {
      let failures = 0;
      const threshold = health.failureThreshold ?? PROBE_DEFAULTS.failureThreshold;
      const startPeriod = health.startPeriodMs ?? PROBE_DEFAULTS.startPeriodMs;
      unit.healthLoop = new ProbeLoop(this.clock, this.probes, health, unit.spec.name, unit.handle!, (result) => {
        unit.lastProbe = result;
        if (result.ok) {
          failures = 0;
          if (unit.state.phase === 'unhealthy') this.setState(unit, { phase: 'running' });
          return true;
        }
        if (result.at - (unit.startedAt ?? 0) < startPeriod) return true;
        failures++;
        if (failures < threshold) return true;
        this.setState(unit, { phase: 'unhealthy', failures, lastProbe: result.message });
        if ((unit.spec.restart ?? 'on-failure') === 'never') return true;
        this.beginStop(unit, 'unhealthy');
        return false;
      });
      unit.healthLoop.start();
    }
  }

  private trialSucceeded(unit: Unit<D>): void {
    unit.trialTimer.clear();
    unit.breaker = recordSuccess(unit.breaker);
    unit.attempt = 0;
  }

  private armWallClock(unit: Unit<D>): void {
    const limit = unit.spec.wallClockTimeoutMs;
    if (limit === undefined || unit.wallTimer.armed) return;
    const left = (unit.firstStartedAt ?? this.clock.now()) + limit - this.clock.now();
    unit.wallTimer.arm(Math.max(0, left), () => {
      if (unit.handle !== undefined) this.beginStop(unit, 'timeout');
      else {
        unit.restartTimer.clear();
        this.setState(unit, { phase: 'timedOut', afterMs: limit });
      }
    });
  }

  /**
   * One timer per limit, moved on when it fires rather than on every report: progress reports
   * (possibly many a second) touch no timer.
   */
  private armProgress(unit: Unit<D>): void {
    if (unit.progressHeld) return;
    const { stalledAfterMs, noProgressTimeoutMs } = unit.spec;
    const arm = (slot: TimerSlot, limit: number, fire: () => void): void => {
      const check = (): void => {
        if (unit.handle === undefined || unit.progressHeld) return;
        const quietFor = this.clock.now() - (unit.lastProgressAt ?? 0);
        if (quietFor >= limit) fire();
        else slot.arm(limit - quietFor, check);
      };
      slot.arm(Math.max(0, (unit.lastProgressAt ?? this.clock.now()) + limit - this.clock.now()), check);
    };
    if (stalledAfterMs !== undefined) {
      arm(unit.stallTimer, stalledAfterMs, () => {
        if (unit.state.phase === 'running') this.setState(unit, { phase: 'stalled', since: unit.lastProgressAt ?? 0 });
        // Watch for the next silence once progress comes back.
        const resume = this.stateEmitter.event((event) => {
          if (event.unit !== unit.spec.name || event.state.phase === 'stalled') return;
          resume.dispose();
          if (event.state.phase === 'running') this.armProgress(unit);
        });
        unit.onStop.push(() => resume.dispose());
      });
    }
    if (noProgressTimeoutMs !== undefined) {
      arm(unit.progressTimer, noProgressTimeoutMs, () => this.beginStop(unit, 'noProgress'));
    }
  }

  // ---- exits and restarts --------------------------------------------------------------------

  private exited(handle: string, exit: ExitInfo): void {
    if (this.disposed) return;
    const unit = this.byHandle.get(handle);
    if (!unit) {
      // The driver may report an exit before start() has handed us the handle.
      this.earlyExits.set(handle, exit);
      if (this.earlyExits.size > EARLY_EXITS_KEPT) this.earlyExits.delete(this.earlyExits.keys().next().value!);
      return;
    }
    this.byHandle.delete(handle);
    unit.handle = undefined;
    unit.stopRun();
    const why = unit.stopping;
    unit.stopping = undefined;
    unit.pendingStop = undefined;
    if (why === 'requested') {
      unit.wallTimer.clear();
      this.setState(unit, { phase: 'stopped' });
      return;
    }
    if (why === 'timeout') {
      this.setState(unit, { phase: 'timedOut', afterMs: unit.spec.wallClockTimeoutMs ?? 0 });
      return;
    }
    if (why === 'restart') {
      void this.launch(unit, 'restart');
      return;
    }
    const clean = exit.code === 0 && exit.signal === null && why === undefined;
    if (clean) {
      unit.completed = true;
      if (unit.breaker.status === 'halfOpen') this.trialSucceeded(unit);
      if ((unit.spec.restart ?? 'on-failure') === 'always') {
        this.scheduleRestart(unit, 'exited 0');
        return;
      }
      unit.wallTimer.clear();
      this.setState(unit, { phase: 'completed', exit });
      return;
    }
    const reason =
      why === 'unhealthy'
        ? `unhealthy: ${unit.lastProbe?.message ?? 'health probe failed'}`
        : why === 'noProgress'
          ? `no progress for ${seconds(unit.spec.noProgressTimeoutMs ?? 0)}`
          : describeExit(exit);
    // A run that made no progress was not a good run, however long it lasted.
    this.failed(unit, reason, exit, why === 'noProgress' ? unit.lastProgressAt : undefined);
  }

  /** A run failed (exit, start error, unhealthy, no progress): restart, wait, or give up. */
  private failed(unit: Unit<D>, reason: string, exit: ExitInfo | undefined, goodUntil?: number): void {
    if ((unit.spec.restart ?? 'on-failure') === 'never') {
      unit.wallTimer.clear();
      this.setState(unit, { phase: 'failed', reason: 'exited', message: reason, ...(exit ? { exit } : {}) });
      return;
    }
    const now = this.clock.now();
    unit.attempt = attemptAfterRun(this.backoffOf(unit), unit.attempt, (goodUntil ?? now) - (unit.startedAt ?? now));
    unit.breaker = recordFailure(this.breakerOf(unit), unit.breaker, now);
    if (unit.breaker.status === 'open') {
      const trialAt = unit.breaker.trialAt;
      this.setState(unit, { phase: 'failed', reason: 'breakerOpen', message: reason, trialAt, ...(exit ? { exit } : {}) });
      unit.restartTimer.arm(trialAt - now, () => this.trial(unit));
      return;
    }
    const max = unit.spec.maxRestarts;
    if (max !== undefined && unit.attempt >= max) {
      unit.wallTimer.clear();
      this.setState(unit, { phase: 'failed', reason: 'retriesExhausted', message: `${reason}; gave up after ${max} restart${max === 1 ? '' : 's'} in a row`, ...(exit ? { exit } : {}) });
      return;
    }
    this.scheduleRestart(unit, reason);
  }

  private scheduleRestart(unit: Unit<D>, reason: string): void {
    const delay = jitteredDelay(this.backoffOf(unit), unit.attempt, this.random);
    const mode = unit.spec.restartMode ?? 'restart';
    const attempt = ++unit.attempt;
    unit.restarts++;
    this.setState(unit, { phase: 'restarting', at: this.clock.now() + delay, mode, attempt, reason });
    // No timer for no wait: the restart call follows the exit in the same turn.
    if (delay === 0) void this.launch(unit, mode);
    else unit.restartTimer.arm(delay, () => void this.launch(unit, mode));
  }

  private trial(unit: Unit<D>): void {
    const half = beginTrial(unit.breaker, this.clock.now());
    if (!half) {
      if (unit.breaker.status === 'open') unit.restartTimer.arm(unit.breaker.trialAt - this.clock.now(), () => this.trial(unit));
      return;
    }
    unit.breaker = half;
    unit.restarts++;
    void this.launch(unit, unit.spec.restartMode ?? 'restart');
  }

  // ---- stopping ------------------------------------------------------------------------------

  private async stopUnit(unit: Unit<D>, why: StopWhy): Promise<void> {
    unit.cancelWait?.();
    unit.restartTimer.clear();
    if (unit.handle === undefined && !unit.launching) {
      unit.clearAll();
      if (unit.state.phase !== 'completed' && unit.state.phase !== 'stopped') this.setState(unit, { phase: 'stopped' });
      return;
    }
    this.beginStop(unit, why);
    await this.until(unit, (state) => state.phase !== 'stopping' && state.phase !== 'starting');
  }

  /** Asks the driver to stop the run, and kills its process group if it has not exited in time. */
  private beginStop(unit: Unit<D>, why: StopWhy): void {
    if (unit.handle === undefined) {
      // Still starting: stop it as soon as the driver hands us its handle.
      unit.pendingStop = why;
      this.setState(unit, { phase: 'stopping', why });
      return;
    }
    if (unit.stopping === 'requested' && why !== 'requested') return;
    unit.stopping = why;
    unit.stopRun();
    this.setState(unit, { phase: 'stopping', why });
    const handle = unit.handle;
    const stop = unit.spec.stop ?? DEFAULT_STOP;
    const kill = (): void => {
      if (unit.handle === handle) void this.driver.stop(handle, { kind: 'kill' }).catch(() => undefined);
    };
    unit.stopTimer.arm(stop.timeoutMs, kill);
    this.driver.stop(handle, stop.method as StopRequest).catch(kill);
  }

  private until(unit: Unit<D>, done: (state: UnitState) => boolean): Promise<void> {
    if (done(unit.state)) return Promise.resolve();
    return new Promise((resolve) => {
      const subscription = this.stateEmitter.event((event) => {
        if (event.unit !== unit.spec.name || !done(event.state)) return;
        subscription.dispose();
        resolve();
      });
    });
  }

  // ---- after a reload ------------------------------------------------------------------------

  private async adopt(unit: Unit<D>, handle: string, saved: UnitRecord): Promise<void> {
    const seen = await this.driver.inspect(handle, unit.spec);
    unit.startedAt = saved.startedAt;
    unit.started = true;
    if (seen.running) {
      unit.handle = handle;
      unit.ready = saved.ready;
      this.byHandle.set(handle, unit);
      if (saved.ready || !unit.spec.ready) this.setState(unit, { phase: 'running' });
      this.watch(unit);
      return;
    }
    if (seen.exit) {
      // It ended while nobody watched: the decision its exit would have had.
      unit.handle = handle;
      this.byHandle.set(handle, unit);
      unit.stopping = saved.state.phase === 'stopping' ? saved.state.why : undefined;
      this.exited(handle, seen.exit);
      return;
    }
    // The pane is gone altogether: someone closed it on purpose.
    this.setState(unit, { phase: 'stopped' });
  }

  private resumePlan(unit: Unit<D>, state: UnitState): void {
    const now = this.clock.now();
    if (state.phase === 'restarting') {
      this.setState(unit, state);
      unit.restartTimer.arm(Math.max(0, state.at - now), () => void this.launch(unit, state.mode));
    } else if (state.phase === 'failed' && state.reason === 'breakerOpen' && unit.breaker.status === 'open') {
      this.setState(unit, state);
      unit.restartTimer.arm(Math.max(0, unit.breaker.trialAt - now), () => this.trial(unit));
    } else if (state.phase === 'completed' || state.phase === 'failed' || state.phase === 'timedOut') {
      this.setState(unit, state);
    }
  }

  // ---- state -----------------------------------------------------------------------------------

  private setState(unit: Unit<D>, state: UnitState): void {
    const previous = unit.state;
    if (sameState(previous, state)) return;
    unit.state = state;
    this.stateEmitter.fire({ unit: unit.spec.name, at: this.clock.now(), previous, state, detail: unit.detail });
  }

  /** A detail change is an event too (the same state, its new detail), for the views to repaint. */
  private emitDetail(unit: Unit<D>): void {
    this.stateEmitter.fire({ unit: unit.spec.name, at: this.clock.now(), previous: unit.state, state: unit.state, detail: unit.detail });
  }

  private backoffOf(unit: Unit<D>): BackoffPolicy {
    return { ...DEFAULT_BACKOFF, ...unit.spec.backoff };
  }

  private breakerOf(unit: Unit<D>): BreakerPolicy {
    return { ...DEFAULT_BREAKER, ...unit.spec.breaker };
  }
}

/** One unit's life inside the supervisor. */
class Unit<D> {
  state: UnitState = { phase: 'stopped' };
  detail: D | undefined;
  handle: string | undefined;
  /** Counts launches, so a start that returns after it was superseded is recognised. */
  run = 0;
  launching = false;
  mode: StartMode = 'start';
  startedAt: number | undefined;
  firstStartedAt: number | undefined;
  lastProgressAt: number | undefined;
  /** See Supervisor.holdProgress. */
  progressHeld = false;
  attempt = 0;
  restarts = 0;
  breaker: BreakerState = CLOSED;
  ready = false;
  lastProbe: ProbeResult | undefined;
  /** What dependents wait for; they stay true for the rest of the unit's time up. */
  started = false;
  completed = false;
  downRequested = false;
  stopping: StopWhy | undefined;
  pendingStop: StopWhy | undefined;
  cancelWait: (() => void) | undefined;
  readyLoop: ProbeLoop | undefined;
  healthLoop: ProbeLoop | undefined;
  onStop: (() => void)[] = [];
  readonly restartTimer: TimerSlot;
  readonly stopTimer: TimerSlot;
  readonly wallTimer: TimerSlot;
  readonly stallTimer: TimerSlot;
  readonly progressTimer: TimerSlot;
  readonly trialTimer: TimerSlot;

  constructor(
    readonly spec: UnitSpec,
    clock: Clock,
  ) {
    this.restartTimer = new TimerSlot(clock);
    this.stopTimer = new TimerSlot(clock);
    this.wallTimer = new TimerSlot(clock);
    this.stallTimer = new TimerSlot(clock);
    this.progressTimer = new TimerSlot(clock);
    this.trialTimer = new TimerSlot(clock);
  }

  /** A fresh time up: what dependents saw of the previous one no longer counts. */
  resetRun(): void {
    this.started = false;
    this.completed = false;
    this.ready = false;
    this.firstStartedAt = undefined;
    this.wallTimer.clear();
  }

  /** What belongs to the current run only: probes and progress timers. */
  stopRun(): void {
    this.readyLoop?.stop();
    this.healthLoop?.stop();
    this.readyLoop = this.healthLoop = undefined;
    this.stallTimer.clear();
    this.progressTimer.clear();
    this.trialTimer.clear();
    this.stopTimer.clear();
    for (const undo of this.onStop.splice(0)) undo();
  }

  clearAll(): void {
    this.stopRun();
    this.restartTimer.clear();
    this.wallTimer.clear();
  }
}

function holds<D>(unit: Unit<D>, condition: DependencyCondition): boolean {
  switch (condition) {
    case 'started':
      return unit.started;
    case 'ready':
      return unit.started && (unit.ready || unit.state.phase === 'running');
    case 'completed':
      return unit.completed;
  }
}

/** Why a condition not yet met never will be, or undefined while it still may. */
function cannotHold<D>(unit: Unit<D>, condition: DependencyCondition): string | undefined {
  const state = unit.state;
  if (unit.downRequested) return 'was stopped';
  if (state.phase === 'failed' && state.reason !== 'breakerOpen') return `failed (${state.message})`;
  if (state.phase === 'timedOut') return 'timed out';
  if (state.phase === 'completed' && condition !== 'completed') return 'exited 0 before it was ready';
  return undefined;
}

function isIdle(state: UnitState): boolean {
  return state.phase === 'stopped' || state.phase === 'completed' || state.phase === 'timedOut' || (state.phase === 'failed' && state.reason !== 'breakerOpen');
}

function sameState(a: UnitState, b: UnitState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function conditionWords(condition: DependencyCondition): string {
  return condition === 'completed' ? 'to complete (exit 0)' : `to be ${condition}`;
}

export function describeExit(exit: ExitInfo): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  if (exit.code === 127) return 'exited 127 (command not found)';
  if (exit.code === 126) return 'exited 126 (command not executable)';
  if (exit.code !== null && exit.code > 128 && exit.code < 160) return `exited ${exit.code} (signal ${exit.code - 128} in its shell)`;
  return `exited ${exit.code ?? '?'}`;
}

export function describeState(state: UnitState): string {
  switch (state.phase) {
    case 'waiting':
      return `waiting for "${state.dependency}"`;
    case 'restarting':
      return 'restarting';
    case 'failed':
      return `failed: ${state.message}`;
    default:
      return state.phase;
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function specProblem(spec: UnitSpec): string | undefined {
  if (typeof spec.name !== 'string' || spec.name.trim() === '') return 'needs a name.';
  for (const [what, probe] of [
    ['ready', spec.ready],
    ['health', spec.health],
  ] as const) {
    const problem = probe && probeProblem(probe);
    if (problem) return `${what} probe: ${problem}`;
  }
  const backoff = backoffProblem({ ...DEFAULT_BACKOFF, ...spec.backoff });
  if (backoff) return backoff;
  const breaker = breakerProblem({ ...DEFAULT_BREAKER, ...spec.breaker });
  if (breaker) return breaker;
  for (const key of ['dependencyTimeoutMs', 'wallClockTimeoutMs', 'stalledAfterMs', 'noProgressTimeoutMs'] as const) {
    const value = spec[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) return `${key} must be 0 ms or more; got ${value}.`;
  }
  if (spec.maxRestarts !== undefined && !(Number.isInteger(spec.maxRestarts) && spec.maxRestarts >= 0)) return `maxRestarts must be a whole number, 0 or more; got ${spec.maxRestarts}.`;
  if (spec.restart !== undefined && !['never', 'on-failure', 'always'].includes(spec.restart)) return `restart must be never, on-failure or always; got "${spec.restart}".`;
  if (spec.stop && !(Number.isFinite(spec.stop.timeoutMs) && spec.stop.timeoutMs >= 0)) return `stop timeout must be 0 ms or more; got ${spec.stop.timeoutMs}.`;
  return undefined;
}

