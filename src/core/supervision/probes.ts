import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Clock, TimerSlot } from './clock';
import { ProbeCheck, ProbeResult, ProbeSpec } from './types';

export interface ProbeContext {
  readonly unit: string;
  /** The driver's handle of the unit's current run (a pane id for tmux). */
  readonly handle: string;
  readonly timeoutMs: number;
  /** Aborted when the attempt times out or the unit stops; a check must let go of what it holds. */
  readonly signal: AbortSignal;
}

export type ProbeOutcome = { readonly ok: boolean; readonly message: string };

/** Runs one attempt of a check. Injected, so tests of the supervisor decide what probes say. */
export type ProbeRunner = (check: ProbeCheck, context: ProbeContext) => Promise<ProbeOutcome>;

/**
 * Waits for `regex` in what the unit prints from now on, at most timeoutMs. For tmux, a wrapper of
 * waitForOutput on the unit's pane (src/core/output/waitFor.ts).
 */
export type OutputWatcher = (handle: string, regex: RegExp, timeoutMs: number, signal: AbortSignal) => Promise<ProbeOutcome>;

/** The real checks: http, tcp and command here; output through `watchOutput`, which knows where the unit prints. */
export function realProbes(watchOutput?: OutputWatcher): ProbeRunner {
  return async (check, context) => {
    switch (check.kind) {
      case 'http':
        return checkHttp(check.url, context.signal);
      case 'tcp':
        return checkTcp(check.host ?? '127.0.0.1', check.port, context.signal);
      case 'command':
        return checkCommand(check.command, check.cwd, context.signal);
      case 'output':
        if (!watchOutput) return { ok: false, message: 'output probes need a way to read the unit’s output, and none was given' };
        return watchOutput(context.handle, new RegExp(check.pattern, check.flags), context.timeoutMs, context.signal);
    }
  };
}

function checkHttp(url: string, signal: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      resolve({ ok: false, message: `"${url}" is not a URL; write it like http://127.0.0.1:8080/health` });
      return;
    }
    const client = parsed.protocol === 'https:' ? https : http;
    const request = client.get(parsed, { signal, agent: false }, (response) => {
      const status = response.statusCode ?? 0;
      // The body is not needed; reading it lets the socket close.
      response.resume();
      resolve({ ok: status >= 200 && status < 300, message: `HTTP ${status} from ${url}` });
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, message: `${url}: ${networkReason(error)}` }));
  });
}

function checkTcp(host: string, port: number, signal: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const where = `${host}:${port}`;
    const socket = net.connect({ host, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: `${where} accepted a connection` });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ok: false, message: `${where}: ${networkReason(error)}` });
    });
  });
}

function checkCommand(command: string, cwd: string | undefined, signal: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    // Its own process group, so an abort ends the command and whatever it started.
    const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
    const abort = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    signal.addEventListener('abort', abort, { once: true });
    child.once('error', (error) => {
      signal.removeEventListener('abort', abort);
      resolve({ ok: false, message: `\`${command}\` could not run: ${error.message}` });
    });
    child.once('close', (code, killedBy) => {
      signal.removeEventListener('abort', abort);
      const said = stderr.trim().split('\n').pop();
      if (code === 0) resolve({ ok: true, message: `\`${command}\` exited 0` });
      else resolve({ ok: false, message: `\`${command}\` ${killedBy ? `ended by ${killedBy}` : `exited ${code}`}${said ? `: ${said}` : ''}` });
    });
  });
}

function networkReason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens there yet)';
    case 'ABORT_ERR':
      return 'no answer in time';
    case 'ENOTFOUND':
      return 'unknown host';
    default:
      return error.code ? `${error.code} ${error.message}` : error.message;
  }
}

export function describeCheck(check: ProbeCheck): string {
  switch (check.kind) {
    case 'http':
      return `http ${check.url}`;
    case 'tcp':
      return `tcp ${check.host ?? '127.0.0.1'}:${check.port}`;
    case 'output':
      return `output /${check.pattern}/${check.flags ?? ''}`;
    case 'command':
      return `command \`${check.command}\``;
  }
}

export const PROBE_DEFAULTS = { intervalMs: 1000, timeoutMs: 1000, initialDelayMs: 0, startPeriodMs: 0, failureThreshold: 3 } as const;
/**
 * A readiness probe's default interval. It runs only until the service is ready, and every wait
 * between attempts is a wait on the dependents' critical path: at 200 ms a readiness is noticed
 * about 100 ms after it happens, for five attempts a second while starting.
 */
export const READINESS_INTERVAL_MS = 200;

export function probeProblem(spec: ProbeSpec): string | undefined {
  const { check } = spec;
  for (const key of ['intervalMs', 'timeoutMs', 'initialDelayMs', 'startPeriodMs'] as const) {
    const value = spec[key];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) return `${key} must be 0 ms or more; got ${value}.`;
  }
  if (spec.timeoutMs === 0) return 'timeoutMs must be more than 0 ms.';
  if (spec.failureThreshold !== undefined && (!Number.isInteger(spec.failureThreshold) || spec.failureThreshold < 1)) return `failureThreshold must be a whole number, 1 or more; got ${spec.failureThreshold}.`;
  if (check.kind === 'tcp' && !(Number.isInteger(check.port) && check.port > 0 && check.port < 65536)) return `tcp probe port must be 1–65535; got ${check.port}.`;
  if (check.kind === 'output') {
    try {
      new RegExp(check.pattern, check.flags);
    } catch (error) {
      return `output probe pattern /${check.pattern}/ is not a valid regular expression: ${(error as Error).message}`;
    }
  }
  if (check.kind === 'http' && !URL.canParse(check.url)) return `http probe url "${check.url}" is not a URL; write it like http://127.0.0.1:8080/health.`;
  if (check.kind === 'command' && check.command.trim() === '') return 'command probe has an empty command.';
  return undefined;
}

/**
 * One probe of one run of a unit: attempts one after another (never overlapping), each bounded by
 * the probe's timeout on the injected clock, until stopped. Two timers at most, and none once stopped.
 */
export class ProbeLoop {
  private readonly next: TimerSlot;
  private readonly deadline: TimerSlot;
  private attempt: AbortController | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly runner: ProbeRunner,
    private readonly spec: ProbeSpec,
    private readonly unit: string,
    private readonly handle: string,
    /** Return false to end the loop (a readiness probe that passed). */
    private readonly onResult: (result: ProbeResult) => boolean,
  ) {
    this.next = new TimerSlot(clock);
    this.deadline = new TimerSlot(clock);
  }

  start(): void {
    const delay = this.spec.check.kind === 'output' ? 0 : (this.spec.initialDelayMs ?? PROBE_DEFAULTS.initialDelayMs);
    if (delay === 0) this.run();
    else this.next.arm(delay, () => this.run());
  }

  stop(): void {
    this.stopped = true;
    this.next.clear();
    this.deadline.clear();
    this.attempt?.abort();
    this.attempt = undefined;
  }

  private run(): void {
    if (this.stopped) return;
    const timeoutMs = this.spec.timeoutMs ?? PROBE_DEFAULTS.timeoutMs;
    const controller = new AbortController();
    this.attempt = controller;
    let settled = false;
    const settle = (outcome: ProbeOutcome): void => {
      if (settled || this.stopped) return;
      settled = true;
      this.deadline.clear();
      this.attempt = undefined;
      const more = this.onResult({ ...outcome, at: this.clock.now() });
      if (more && !this.stopped) this.next.arm(this.spec.intervalMs ?? PROBE_DEFAULTS.intervalMs, () => this.run());
    };
    this.deadline.arm(timeoutMs, () => {
      controller.abort();
      settle({ ok: false, message: `${describeCheck(this.spec.check)}: no answer within ${timeoutMs} ms` });
    });
    this.runner(this.spec.check, { unit: this.unit, handle: this.handle, timeoutMs, signal: controller.signal }).then(settle, (error: Error) =>
      settle({ ok: false, message: `${describeCheck(this.spec.check)}: ${error.message}` }),
    );
  }
}
