/**
 * Time and chance, injected: the supervisor never reads the system clock or Math.random itself, so
 * every decision it takes can be replayed step by step under a fake clock in tests.
 */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Milliseconds since the epoch. Persisted records hold such times, so they must survive a restart. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A number in [0, 1), like Math.random. */
export type Random = () => number;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * One timer slot: arming it again replaces the previous timer, so a unit can never hold two timers
 * for the same purpose, and clearing an empty slot costs nothing.
 */
export class TimerSlot {
  private handle: TimerHandle | undefined;

  constructor(private readonly clock: Clock) {}

  get armed(): boolean {
    return this.handle !== undefined;
  }

  arm(ms: number, callback: () => void): void {
    this.clear();
    const handle = this.clock.setTimeout(() => {
      if (this.handle !== handle) return;
      this.handle = undefined;
      callback();
    }, ms);
    this.handle = handle;
  }

  clear(): void {
    if (this.handle === undefined) return;
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
