import timers = require('node:timers');
import { ControlClient } from '../src/tmux/control';
import { Logger } from '../src/tmux/log';

/**
 * Counts what every ControlClient in this process writes to and reads from tmux, by wrapping the
 * client's private `send` (one call per command line written) and `line` (one call per line
 * read). TmuxService builds its ControlClient itself, so this is the one way to see its traffic
 * without changing src/. If those methods are ever renamed, `installed` says so and the bench
 * reports the counts as unavailable instead of 0.
 */
export class ControlTraffic {
  linesWritten = 0;
  linesRead = 0;
  /** Sees every notification line (starting with `%`, not `%output`) as it is read, if set. */
  onNotificationLine: ((text: string) => void) | undefined;
  readonly installed: boolean;

  constructor() {
    const proto = ControlClient.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    const send = proto.send;
    const line = proto.line;
    this.installed = typeof send === 'function' && typeof line === 'function';
    if (!this.installed) return;
    const traffic = this;
    proto.send = function (this: unknown, ...args: unknown[]) {
      traffic.linesWritten++;
      return send.apply(this, args);
    };
    proto.line = function (this: unknown, ...args: unknown[]) {
      traffic.linesRead++;
      const listener = traffic.onNotificationLine;
      if (listener && Buffer.isBuffer(args[0]) && args[0][0] === 0x25 && args[0][1] !== 0x6f /* %o(utput) */) listener(args[0].toString('utf8'));
      return line.apply(this, args);
    };
  }
}

/**
 * The service's logger, counting the tmux processes it spawns (one-shot commands it logs as
 * `$ tmux ...`, and the `wait-for` waiter it logs as `waiter ...`). Errors are kept for the report;
 * TSM_BENCH_LOG=1 prints everything.
 */
export class CountingLog implements Logger {
  spawned = 0;
  /** Sees every trace message, if set. */
  onTrace: ((message: string) => void) | undefined;
  readonly errors: string[] = [];
  private readonly echo = !!process.env.TSM_BENCH_LOG;

  trace(message: string): void {
    if (message.startsWith('$ tmux') || message.startsWith('waiter ')) this.spawned++;
    this.onTrace?.(message);
    if (this.echo) console.log(`  [trace] ${message}`);
  }
  info(message: string): void {
    if (this.echo) console.log(`  [info] ${message}`);
  }
  warn(message: string): void {
    if (this.echo) console.log(`  [warn] ${message}`);
  }
  error(message: string): void {
    this.errors.push(message);
    if (this.echo) console.log(`  [error] ${message}`);
  }
}

export interface TimerCounts {
  /** Timers and immediates created while the counter was on. */
  created: number;
  /** Of those, callbacks that actually ran. */
  fired: number;
  /** Where the created ones came from (first stack frame outside this file), for the report. */
  readonly origins: Map<string, number>;
}

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Replaces setTimeout/setInterval/setImmediate (global and `node:timers`) with wrappers that count
 * callbacks run, until `stop()`. Timers created before `start` are not seen; the idle phase lists
 * them separately from process.getActiveResourcesInfo().
 */
export function countTimers(): { counts: TimerCounts; stop: () => void } {
  const counts: TimerCounts = { created: 0, fired: 0, origins: new Map() };
  const targets: Record<string, AnyFn>[] = [globalThis as unknown as Record<string, AnyFn>, timers as unknown as Record<string, AnyFn>];
  const names = ['setTimeout', 'setInterval', 'setImmediate'] as const;
  const saved: [Record<string, AnyFn>, string, AnyFn][] = [];
  for (const target of targets) {
    for (const name of names) {
      const original = target[name];
      if (typeof original !== 'function') continue;
      saved.push([target, name, original]);
      const wrapper = function (this: unknown, callback: unknown, ...rest: unknown[]) {
        counts.created++;
        const origin = (new Error().stack ?? '').split('\n').slice(2).find((l) => !l.includes('counters.js')) ?? '?';
        counts.origins.set(origin.trim(), (counts.origins.get(origin.trim()) ?? 0) + 1);
        if (typeof callback !== 'function') return original.call(this, callback, ...rest);
        const wrapped = function (this: unknown, ...args: unknown[]) {
          counts.fired++;
          return (callback as AnyFn).apply(this, args);
        };
        return original.call(this, wrapped, ...rest);
      };
      try {
        target[name] = wrapper as AnyFn;
      } catch {
        // A read-only export (never seen on Node 18–22); that target's timers go uncounted.
      }
    }
  }
  return {
    counts,
    stop() {
      for (const [target, name, original] of saved) {
        try {
          target[name] = original;
        } catch {
          // See above.
        }
      }
    },
  };
}
