import { describeExit } from '../supervision/supervisor';
import { ServiceStatus } from './runtime';

/** A service that needs a person, as the health report lists it. */
export interface ServiceProblem {
  readonly name: string;
  /** What is wrong, in a few words: "failing (breaker open, trial at 14:03:07)". */
  readonly summary: string;
  /** The evidence: last exit, last probe with its time, the breaker, restarts. */
  readonly details: readonly string[];
}

/** HH:MM:SS in local time: the clock a person compares with. */
export function clockTime(at: number): string {
  const date = new Date(at);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/**
 * The problem of a service, or undefined when it needs nobody: failed (breaker open, or exited
 * for good), unhealthy, or timed out waiting for a dependency. A service restarting after one
 * crash is not a problem yet: the backoff and the breaker are on it.
 */
export function serviceProblem(status: ServiceStatus): ServiceProblem | undefined {
  const state = status.state;
  let summary: string;
  switch (state.phase) {
    case 'failed':
      summary = state.reason === 'breakerOpen' ? `failing (breaker open, trial at ${clockTime(state.trialAt!)})` : `failed: ${state.message}`;
      break;
    case 'unhealthy':
      summary = `unhealthy: ${state.lastProbe}`;
      break;
    case 'timedOut':
      summary = `timed out after ${Math.round(state.afterMs / 1000)} s`;
      break;
    default:
      return undefined;
  }
  const details: string[] = [];
  if (status.lastExit) details.push(`last exit: ${describeExit(status.lastExit)}`);
  if (status.lastProbe) details.push(`last probe: ${status.lastProbe.ok ? 'passed' : 'failed'} — ${status.lastProbe.message} (${clockTime(status.lastProbe.at)})`);
  const breaker = status.breaker;
  if (breaker.status === 'open') details.push(`breaker open since ${clockTime(breaker.openedAt)}, trial at ${clockTime(breaker.trialAt)}`);
  if (breaker.status === 'halfOpen') details.push('breaker half-open: a trial restart is under way');
  details.push(`restarts: ${status.restarts}`);
  return { name: status.name, summary, details };
}
