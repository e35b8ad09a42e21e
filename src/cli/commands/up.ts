import { ProfileRuntime, ServiceStatus } from '../../core/profiles/runtime';
import { Phase } from '../../core/supervision/types';
import { parseDuration, ParsedArgs } from '../args';
import { CliContext, printJson } from '../context';
import { EXIT, ExitCode, UsageError } from '../errors';
import type { UpOutput } from '../schemas';
import { loadProfile, profileHost, serviceJson } from './profileHost';

const DEFAULT_TIMEOUT_MS = 120_000;
/** How often the tree is read while supervising: how soon a service's exit is seen. */
const POLL_MS = 250;
const READY: readonly Phase[] = ['running', 'stalled', 'completed'];
const FAILED: readonly Phase[] = ['failed', 'timedOut'];

type Outcome = 'ready' | 'failed' | 'timeout' | 'cancelled';

/**
 * Builds the profile's session (or brings the running one to the file), starts its services in
 * dependency order and waits until every one is ready, or one fails, or the time is up. Without
 * --foreground it then lets go: the supervision record stays in the session, where a VS Code
 * window of the project adopts it; with --foreground it keeps restarting services until Ctrl-C.
 */
export async function run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode> {
  if (args.positionals.length > 0) throw new UsageError('up takes no arguments; name the profile with --file F.');
  const timeoutMs = args.values.has('timeout') ? parseDuration('timeout', args.values.get('timeout')!) : DEFAULT_TIMEOUT_MS;
  const foreground = args.flags.has('foreground');
  const profile = loadProfile(args);
  const host = await profileHost(ctx, POLL_MS);
  let runtime: ProfileRuntime | undefined;
  try {
    try {
      runtime = await ProfileRuntime.up(host, profile, ctx.signal);
    } catch (error) {
      if (ctx.signal.aborted) {
        ctx.stderr('Up was cancelled; the services it had started were stopped.');
        return EXIT.interrupted;
      }
      throw error;
    }
    const outcome = await settle(runtime, timeoutMs, ctx.signal);
    if (outcome === 'cancelled') {
      await Promise.all(runtime.statuses().map((status) => runtime!.stop(status.name)));
      ctx.stderr('Up was cancelled; its services were stopped (the session stays: "tsm down" closes it).');
      return EXIT.interrupted;
    }
    report(ctx, profile.session, runtime, outcome);
    if (outcome === 'ready' && foreground) await supervise(ctx, runtime);
    return outcome === 'ready' ? EXIT.ok : outcome === 'timeout' ? EXIT.timeout : EXIT.failed;
  } finally {
    await runtime?.flush();
    runtime?.dispose();
    await host.dispose();
  }
}

/** Waits (without asking tmux: the states change in this process) until the services settle. */
async function settle(runtime: ProfileRuntime, timeoutMs: number, signal: AbortSignal): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  return new Promise<Outcome>((resolve) => {
    const look = (): boolean => {
      const phases = runtime.statuses().map((status) => status.state.phase);
      let outcome: Outcome | undefined;
      if (signal.aborted) outcome = 'cancelled';
      else if (phases.some((phase) => FAILED.includes(phase))) outcome = 'failed';
      else if (phases.every((phase) => READY.includes(phase))) outcome = 'ready';
      else if (Date.now() >= deadline) outcome = 'timeout';
      if (!outcome) return false;
      subscription.dispose();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
      return true;
    };
    const onAbort = () => void look();
    const subscription = runtime.onDidChangeState(() => void look());
    const timer = setTimeout(() => void look(), Math.max(0, deadline - Date.now()) + 1);
    signal.addEventListener('abort', onAbort);
    look();
  });
}

function report(ctx: CliContext, session: string, runtime: ProfileRuntime, outcome: Exclude<Outcome, 'cancelled'>): void {
  const statuses = runtime.statuses();
  if (ctx.json) {
    printJson(ctx, { session, sessionId: runtime.sessionId, file: runtime.profile.file, outcome, services: statuses.map(serviceJson) } satisfies UpOutput);
    return;
  }
  const width = Math.max(0, ...statuses.map((status) => status.name.length));
  ctx.stdout(statuses.map((status) => `${status.name.padEnd(width)}  ${line(status)}`).join('\n') || '(the profile has no services)');
  if (outcome === 'ready') ctx.stderr(`session "${session}" is up (${runtime.sessionId}).`);
  if (outcome === 'failed') ctx.stderr(`session "${session}": a service failed; the others keep running. "tsm down" stops them all.`);
  if (outcome === 'timeout') ctx.stderr(`session "${session}": not every service was ready in time; they keep starting. "tsm down" stops them.`);
}

function line(status: ServiceStatus): string {
  const json = serviceJson(status);
  const phase = json.phase === 'running' ? 'ready' : json.phase;
  return [phase, json.pane ?? '', json.message ?? '', json.lastExit ? `last exit: ${json.lastExit}` : '', json.lastProbe && !json.lastProbe.ok ? `last probe: ${json.lastProbe.message}` : '']
    .filter(Boolean)
    .join('  ');
}

/** --foreground: keeps supervising (restarts, backoff, breaker) and prints each change until Ctrl-C. */
async function supervise(ctx: CliContext, runtime: ProfileRuntime): Promise<void> {
  const subscription = runtime.onDidChangeState((event) => {
    const status = runtime.statuses().find((candidate) => candidate.name === event.unit);
    if (status) ctx.stderr(`${new Date(event.at).toISOString()}  ${event.unit}: ${line(status)}`);
  });
  try {
    if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    subscription.dispose();
  }
  ctx.stderr('Supervision ended; the services keep running without restarts. "tsm down" stops them.');
}
