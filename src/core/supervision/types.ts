import type { Disposable } from '../../tmux/emitter';
import type { BackoffPolicy } from './backoff';
import type { BreakerPolicy, BreakerState } from './breaker';
import type { Dependency, DependencyCondition } from './graph';

/**
 * What the supervisor keeps running. Both dev services (from a profile) and coding agents are
 * units; the feature that owns them fills in what applies and leaves the rest out.
 */
export interface UnitSpec {
  /** Unique among the units of one supervisor; dependsOn, events and the record use it. */
  readonly name: string;
  readonly dependsOn?: readonly Dependency[];
  /** How long this unit waits for its dependencies' conditions before it fails. Default 60 s. */
  readonly dependencyTimeoutMs?: number;
  /** Readiness: until it passes the unit is `starting`; dependents waiting for `ready` wait for it. */
  readonly ready?: ProbeSpec;
  /** Liveness: failureThreshold failures in a row make the unit `unhealthy`, which is a failure. */
  readonly health?: ProbeSpec;
  /** Default `on-failure`. */
  readonly restart?: RestartPolicy;
  readonly backoff?: Partial<BackoffPolicy>;
  readonly breaker?: Partial<BreakerPolicy>;
  /** After this many restarts in a row (no stable run between them) the unit is `failed`. Default: no limit (the breaker decides). */
  readonly maxRestarts?: number;
  /** How the driver runs the unit again after a failure: `resume` picks up where it was (an agent's resume command). Default `restart`. */
  readonly restartMode?: 'restart' | 'resume';
  /** How to stop it; after `timeoutMs` the driver kills its process group. Default SIGTERM, 10 s. */
  readonly stop?: StopSpec;
  /** From the first start, across restarts: past it the unit is stopped and ends `timedOut`. */
  readonly wallClockTimeoutMs?: number;
  /** No progress reported for this long: the unit shows `stalled` (and keeps running). */
  readonly stalledAfterMs?: number;
  /** No progress reported for this long: a failure; the unit is stopped and restarted by its restart policy. */
  readonly noProgressTimeoutMs?: number;
}

/** `always` also restarts a unit that exited 0; `on-failure` only one that failed (exit ≠ 0, a signal, unhealthy, no progress). */
export type RestartPolicy = 'never' | 'on-failure' | 'always';

export type ProbeCheck =
  /** Passes on a 2xx answer. */
  | { readonly kind: 'http'; readonly url: string }
  /** Passes when the port accepts a connection. */
  | { readonly kind: 'tcp'; readonly port: number; readonly host?: string }
  /** Passes when the pattern matches output the unit printed since the probe began (not what was already on screen). */
  | { readonly kind: 'output'; readonly pattern: string; readonly flags?: string }
  /** Passes when the command exits 0. */
  | { readonly kind: 'command'; readonly command: string; readonly cwd?: string };

export interface ProbeSpec {
  readonly check: ProbeCheck;
  /** Between the end of one attempt and the start of the next. Default 1 s. */
  readonly intervalMs?: number;
  /** One attempt that takes longer fails. Default 1 s (output probes: how long one wait for the pattern lasts before it starts over). */
  readonly timeoutMs?: number;
  /** From the start of the unit to the first attempt. Default 0. Output probes begin at once (output printed meanwhile would be missed). */
  readonly initialDelayMs?: number;
  /** Health: failures in this time after a start do not count. Default 0. */
  readonly startPeriodMs?: number;
  /** Health: this many failures in a row make the unit unhealthy. Default 3. */
  readonly failureThreshold?: number;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** What happened, for a person: `HTTP 503 from http://…`, `connection refused (127.0.0.1:5432)`. */
  readonly message: string;
  readonly at: number;
}

export type StopMethod =
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  /** tmux key names sent to the unit's pane (`C-c`). */
  | { readonly kind: 'keys'; readonly keys: readonly string[] }
  /** A shell command that asks the unit to stop (`docker compose stop db`). */
  | { readonly kind: 'command'; readonly command: string };

export interface StopSpec {
  readonly method: StopMethod;
  /** After this long without an exit, SIGKILL to the unit's process group. */
  readonly timeoutMs: number;
}

/** What the supervisor asks a driver to do: the unit's own stop method, or the final SIGKILL of its process group. */
export type StopRequest = StopMethod | { readonly kind: 'kill' };

export type StartMode = 'start' | 'restart' | 'resume';

/** How a unit's process ended: an exit code, or the signal that ended it (then code is null). */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
}

/** What the driver could tell about a handle from an earlier life of the supervisor. */
export type HandleInspection = { readonly running: true } | { readonly running: false; readonly exit?: ExitInfo };

/**
 * Where units run: tmux panes, or anything else that starts a process and reports its exit. A
 * handle is a string the driver can find its unit by again after a reload (a pane id), since the
 * record keeps it.
 */
export interface UnitDriver {
  start(unit: UnitSpec, mode: StartMode): Promise<string>;
  /** Asks the unit to stop; resolves once asked (the exit arrives through onExit). */
  stop(handle: string, how: StopRequest): Promise<void>;
  /** Every exit of a unit the driver started, exactly once each. */
  onExit(listener: (handle: string, exit: ExitInfo) => void): Disposable;
  /** After a reload: is this handle's process still running, and if not, how did it end (when known)? `unit` is whose handle it was. */
  inspect(handle: string, unit?: UnitSpec): Promise<HandleInspection>;
}

/**
 * A unit's state: one phase shared by every feature. Labels are the feature's (a service that is
 * `running` shows "ready", an agent "working" or "waiting for input" from its detail).
 */
export type UnitState =
  /** Not running, and nothing planned (never started, or stopped on request). */
  | { readonly phase: 'stopped' }
  | { readonly phase: 'waiting'; readonly dependency: string; readonly condition: DependencyCondition }
  /** Being started (no handle yet), or started and its readiness probe has not passed yet. */
  | { readonly phase: 'starting'; readonly mode: StartMode; readonly handle?: string }
  /** Running, and ready when it has a readiness probe. */
  | { readonly phase: 'running' }
  /** Its health probe failed failureThreshold times in a row. */
  | { readonly phase: 'unhealthy'; readonly failures: number; readonly lastProbe: string }
  /** Running, but no progress reported since `since`. */
  | { readonly phase: 'stalled'; readonly since: number }
  /** Failed; restarts at `at` (the backoff), through `mode` (`resume`: recovering). */
  | { readonly phase: 'restarting'; readonly at: number; readonly mode: StartMode; readonly attempt: number; readonly reason: string }
  | { readonly phase: 'failed'; readonly reason: FailReason; readonly message: string; readonly exit?: ExitInfo; readonly trialAt?: number }
  | { readonly phase: 'stopping'; readonly why: StopWhy }
  /** Exited 0 and not restarted. */
  | { readonly phase: 'completed'; readonly exit: ExitInfo }
  | { readonly phase: 'timedOut'; readonly afterMs: number };

export type Phase = UnitState['phase'];

export type FailReason =
  /** Failed with restart `never`. */
  | 'exited'
  /** The breaker is open: no restarts until its trial at `trialAt`. */
  | 'breakerOpen'
  /** maxRestarts restarts in a row all failed. */
  | 'retriesExhausted'
  /** A dependency's condition did not hold in time, or can no longer hold. */
  | 'dependency';

export type StopWhy = 'requested' | 'restart' | 'unhealthy' | 'noProgress' | 'timeout';

/** One transition, fired exactly once. `detail` is the feature's own (an agent's activity). */
export interface UnitEvent<D = unknown> {
  readonly unit: string;
  readonly at: number;
  readonly previous: UnitState;
  readonly state: UnitState;
  readonly detail: D | undefined;
}

export interface UnitStatus<D = unknown> {
  readonly name: string;
  readonly state: UnitState;
  readonly detail: D | undefined;
  readonly handle: string | undefined;
  readonly lastProbe: ProbeResult | undefined;
  readonly restarts: number;
  readonly breaker: BreakerState;
}
