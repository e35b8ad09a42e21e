import { Random } from './clock';

/** How long to wait before restarting a unit that failed, growing with each failure in a row. */
export interface BackoffPolicy {
  /** The wait before the first restart. */
  readonly initialDelayMs: number;
  /** The wait never grows beyond this (before jitter). */
  readonly maxDelayMs: number;
  /** Each restart in a row waits this many times longer than the previous one. */
  readonly multiplier: number;
  /** ± this fraction of the wait, at random, so units that failed together do not restart together. */
  readonly jitter: number;
  /** A run at least this long counts as stable: the next failure waits initialDelayMs again. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.1,
  resetAfterMs: 10_000,
};

/** The wait before jitter for the restart that follows `attempt` earlier restarts in a row (0 for the first). */
export function nominalDelay(policy: BackoffPolicy, attempt: number): number {
  // Computed in steps so a large attempt count reaches the cap instead of overflowing to Infinity × 0.
  let delay = policy.initialDelayMs;
  for (let i = 0; i < attempt && delay < policy.maxDelayMs; i++) delay *= policy.multiplier;
  return Math.min(delay, policy.maxDelayMs);
}

/** The wait actually used: the nominal wait moved by up to ±jitter of itself. */
export function jitteredDelay(policy: BackoffPolicy, attempt: number, random: Random): number {
  const nominal = nominalDelay(policy, attempt);
  const spread = nominal * policy.jitter;
  return Math.max(0, Math.round(nominal - spread + 2 * spread * random()));
}

/** The restart count to use for the failure of a run that lasted `ranMs`: a stable run starts over. */
export function attemptAfterRun(policy: BackoffPolicy, attempt: number, ranMs: number): number {
  return ranMs >= policy.resetAfterMs ? 0 : attempt;
}

/** What is wrong with a policy, in words a profile's author can act on; undefined when it is fine. */
export function backoffProblem(policy: BackoffPolicy): string | undefined {
  const { initialDelayMs, maxDelayMs, multiplier, jitter, resetAfterMs } = policy;
  if (!(initialDelayMs >= 0) || !Number.isFinite(initialDelayMs)) return `backoff initial delay must be 0 ms or more; got ${initialDelayMs}.`;
  if (!(maxDelayMs >= initialDelayMs) || !Number.isFinite(maxDelayMs)) return `backoff maximum must be at least the initial delay (${initialDelayMs} ms); got ${maxDelayMs}.`;
  if (!(multiplier >= 1) || !Number.isFinite(multiplier)) return `backoff multiplier must be 1 or more; got ${multiplier}.`;
  if (!(jitter >= 0 && jitter <= 1)) return `backoff jitter must be a fraction between 0 and 1 (0.1 is ±10%); got ${jitter}.`;
  if (!(resetAfterMs >= 0) || !Number.isFinite(resetAfterMs)) return `backoff reset time must be 0 ms or more; got ${resetAfterMs}.`;
  return undefined;
}
