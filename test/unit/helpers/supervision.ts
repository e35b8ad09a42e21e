import { Clock, TimerHandle } from '../../../src/core/supervision/clock';
import { Disposable } from '../../../src/tmux/emitter';
import { ExitInfo, HandleInspection, StartMode, StopRequest, UnitDriver, UnitEvent, UnitSpec } from '../../../src/core/supervision/types';
import { Supervisor } from '../../../src/core/supervision/supervisor';
import { PaneOutputHub } from '../../../src/core/output/outputHub';
import { ProfileHost, serviceProfileHost } from '../../../src/core/profiles/runtime';
import { TmuxService } from '../../../src/tmux/service';

/** Time that moves only when a test says so; timers run in order of due time, then of creation. */
export class FakeClock implements Clock {
  private time: number;
  private sequence = 0;
  private readonly timers = new Map<object, { at: number; order: number; callback: () => void }>();

  constructor(start = Date.UTC(2025, 0, 1, 12, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { at: this.time + Math.max(0, ms), order: this.sequence++, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle);
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, running each timer at its due time and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      const next = [...this.timers.entries()].filter(([, timer]) => timer.at <= until).sort(([, a], [, b]) => a.at - b.at || a.order - b.order)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
    }
    this.time = until;
    await settle();
  }
}

/** Lets every pending promise chain run (they do not depend on time). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface StartCall {
  readonly unit: string;
  readonly mode: StartMode;
  readonly at: number;
  readonly handle: string;
}

export interface StopCall {
  readonly handle: string;
  readonly unit: string;
  readonly how: StopRequest;
  readonly at: number;
}

/**
 * Runs nothing: records starts and stops, and exits when told. By default a unit exits on its
 * stop request (killed by SIGTERM, or SIGKILL); `stubborn` units ignore all but the kill.
 */
export class FakeDriver implements UnitDriver {
  readonly starts: StartCall[] = [];
  readonly stops: StopCall[] = [];
  readonly exits: { unit: string; at: number; handle: string }[] = [];
  readonly stubborn = new Set<string>();
  readonly failStart = new Map<string, string>();
  readonly running = new Map<string, string>();
  private readonly listeners = new Set<(handle: string, exit: ExitInfo) => void>();
  private count = 0;
  /** Called on each start, after it is recorded (a test's script for the unit). */
  onStart: ((call: StartCall) => void) | undefined;

  constructor(private readonly clock: Clock) {}

  async start(unit: UnitSpec, mode: StartMode): Promise<string> {
    const refusal = this.failStart.get(unit.name);
    const handle = `${unit.name}#${++this.count}`;
    this.starts.push({ unit: unit.name, mode, at: this.clock.now(), handle });
    if (refusal) throw new Error(refusal);
    this.running.set(handle, unit.name);
    this.onStart?.(this.starts[this.starts.length - 1]);
    return handle;
  }

  async stop(handle: string, how: StopRequest): Promise<void> {
    const unit = this.running.get(handle) ?? '?';
    this.stops.push({ handle, unit, how, at: this.clock.now() });
    if (how.kind === 'kill') queueMicrotask(() => this.exit(handle, { code: null, signal: 'SIGKILL' }));
    else if (!this.stubborn.has(unit)) queueMicrotask(() => this.exit(handle, { code: null, signal: how.kind === 'signal' ? how.signal : 'SIGTERM' }));
  }

  onExit(listener: (handle: string, exit: ExitInfo) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  async inspect(handle: string): Promise<HandleInspection> {
    return this.running.has(handle) ? { running: true } : { running: false };
  }

  /** The unit's process ends (once: a second exit of the same handle is not reported). */
  exit(handle: string, exit: ExitInfo): void {
    const unit = this.running.get(handle);
    if (unit === undefined) return;
    this.running.delete(handle);
    this.exits.push({ unit, at: this.clock.now(), handle });
    for (const listener of this.listeners) listener(handle, exit);
  }

  /** Reports an exit again, as a faulty driver might. */
  repeatExit(handle: string, exit: ExitInfo): void {
    for (const listener of this.listeners) listener(handle, exit);
  }

  /** The handle of the unit's current run. */
  handleOf(unit: string): string {
    const found = [...this.running.entries()].filter(([, name]) => name === unit).pop();
    if (!found) throw new Error(`${unit} is not running`);
    return found[0];
  }

  exitUnit(unit: string, code: number | null, signal: string | null = null): void {
    this.exit(this.handleOf(unit), { code, signal });
  }

  startsOf(unit: string): StartCall[] {
    return this.starts.filter((call) => call.unit === unit);
  }
}

/** Every event of a supervisor, in order. */
export function recordEvents<D>(supervisor: Supervisor<D>): UnitEvent<D>[] {
  const events: UnitEvent<D>[] = [];
  supervisor.onDidChangeState((event) => events.push(event));
  return events;
}

/** What a profile runtime needs, from a live service on a private server (fast kill timings for tests). */
export function profileHostOf(service: TmuxService, hub: PaneOutputHub, extra: Partial<ProfileHost> = {}): ProfileHost {
  return serviceProfileHost(service, hub.open, { kill: { interruptWaitMs: 300, terminateWaitMs: 500 }, ...extra });
}
