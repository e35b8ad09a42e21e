/**
 * The circuit breaker: too many failures close to each other stop the restarts, so a service that
 * cannot start does not spin. Pure functions over a plain, serializable state, so the supervisor
 * can persist it and tests can check it exactly.
 */
export interface BreakerPolicy {
  /** This many failures inside the window open the breaker (on the failure that makes the count). */
  readonly failureThreshold: number;
  /** The sliding window: failures older than this no longer count. */
  readonly windowMs: number;
  /** How long the breaker stays open before one trial restart. */
  readonly cooldownMs: number;
  /** Each failed trial doubles the cooldown, up to this. */
  readonly maxCooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerPolicy = {
  failureThreshold: 5,
  windowMs: 60_000,
  cooldownMs: 30_000,
  maxCooldownMs: 8 * 60_000,
};

export type BreakerState =
  /** Restarts allowed. `failures`: the times of the failures still inside the window, oldest first. */
  | { readonly status: 'closed'; readonly failures: readonly number[] }
  /** No restarts until `trialAt`. */
  | { readonly status: 'open'; readonly openedAt: number; readonly cooldownMs: number; readonly trialAt: number }
  /** One trial restart is under way; its outcome closes or reopens the breaker. */
  | { readonly status: 'halfOpen'; readonly cooldownMs: number };

export const CLOSED: BreakerState = { status: 'closed', failures: [] };

/** The failures that still count at `now`: those less than a window ago. */
export function failuresInWindow(policy: BreakerPolicy, failures: readonly number[], now: number): number[] {
  return failures.filter((at) => now - at < policy.windowMs);
}

export function recordFailure(policy: BreakerPolicy, state: BreakerState, now: number): BreakerState {
  switch (state.status) {
    case 'closed': {
      const failures = [...failuresInWindow(policy, state.failures, now), now];
      if (failures.length < policy.failureThreshold) return { status: 'closed', failures };
      return open(now, policy.cooldownMs);
    }
    case 'halfOpen':
      return open(now, Math.min(policy.maxCooldownMs, state.cooldownMs * 2));
    case 'open':
      // Only a manual restart runs while open; its failure waits a full cooldown again.
      return open(now, state.cooldownMs);
  }
}

/** The trial (or any run) succeeded: the breaker closes and forgets. */
export function recordSuccess(state: BreakerState): BreakerState {
  return state.status === 'closed' && state.failures.length === 0 ? state : CLOSED;
}

/** The cooldown is over: one trial may run. Undefined when it is not time (or not open). */
export function beginTrial(state: BreakerState, now: number): BreakerState | undefined {
  if (state.status !== 'open' || now < state.trialAt) return undefined;
  return { status: 'halfOpen', cooldownMs: state.cooldownMs };
}

export function allowsRestart(state: BreakerState): boolean {
  return state.status === 'closed';
}

function open(now: number, cooldownMs: number): BreakerState {
  return { status: 'open', openedAt: now, cooldownMs, trialAt: now + cooldownMs };
}

export function breakerProblem(policy: BreakerPolicy): string | undefined {
  const { failureThreshold, windowMs, cooldownMs, maxCooldownMs } = policy;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) return `breaker failure count must be a whole number, 1 or more; got ${failureThreshold}.`;
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) return `breaker window must be more than 0 ms; got ${windowMs}.`;
  if (!(cooldownMs >= 0) || !Number.isFinite(cooldownMs)) return `breaker cooldown must be 0 ms or more; got ${cooldownMs}.`;
  if (!(maxCooldownMs >= cooldownMs) || !Number.isFinite(maxCooldownMs)) return `breaker maximum cooldown must be at least the cooldown (${cooldownMs} ms); got ${maxCooldownMs}.`;
  return undefined;
}
