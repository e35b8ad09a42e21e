import { BreakerState } from './breaker';
import { UnitState } from './types';

/**
 * What must outlive the supervisor (a window reload): per unit, the handle of its run, its restart
 * history and its state. The caller stores it as JSON wherever suits it (a tmux user option, a
 * file) after every state event, and gives it back to `restore`.
 */
export const RECORD_VERSION = 1;

export interface SupervisionRecord {
  readonly version: typeof RECORD_VERSION;
  readonly savedAt: number;
  readonly units: { readonly [name: string]: UnitRecord };
}

export interface UnitRecord {
  readonly state: UnitState;
  /** The driver's handle of the current run, when one runs (or ran and its exit was not seen yet). */
  readonly handle?: string;
  readonly startedAt?: number;
  /** The first start since the unit was brought up: the wall-clock timeout counts from here. */
  readonly firstStartedAt?: number;
  /** Restarts in a row: the backoff's exponent. */
  readonly attempt: number;
  /** All restarts since the unit was brought up, for display. */
  readonly restarts: number;
  readonly breaker: BreakerState;
  /** The readiness probe passed in the current run. */
  readonly ready: boolean;
  readonly lastProgressAt?: number;
}

export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordError';
  }
}

const PHASES = new Set(['stopped', 'waiting', 'starting', 'running', 'unhealthy', 'stalled', 'restarting', 'failed', 'stopping', 'completed', 'timedOut']);

/**
 * Checks a record read back from storage. A record that cannot be trusted is refused whole, with
 * what is wrong: starting from nothing is safe (running units are found again by their handles
 * only when the record is good), guessing is not.
 */
export function parseRecord(value: unknown): SupervisionRecord {
  const where = 'supervision record';
  if (!isObject(value)) throw new RecordError(`The ${where} is not an object; discard it and bring the units up again.`);
  if (typeof value.version !== 'number') throw new RecordError(`The ${where} has no version; discard it.`);
  if (value.version > RECORD_VERSION) throw new RecordError(`The ${where} was written by a newer version (${value.version}; this one reads ${RECORD_VERSION}); update the extension, or discard it.`);
  if (value.version !== RECORD_VERSION) throw new RecordError(`The ${where} has unknown version ${value.version}; discard it.`);
  if (typeof value.savedAt !== 'number' || !isObject(value.units)) throw new RecordError(`The ${where} lacks savedAt or units; discard it.`);
  for (const [name, unit] of Object.entries(value.units)) {
    const bad = unitProblem(unit);
    if (bad) throw new RecordError(`The ${where} entry for "${name}" ${bad}; discard the record.`);
  }
  return value as unknown as SupervisionRecord;
}

function unitProblem(unit: unknown): string | undefined {
  if (!isObject(unit)) return 'is not an object';
  if (!isObject(unit.state) || !PHASES.has(unit.state.phase as string)) return 'has no known state';
  if (unit.handle !== undefined && typeof unit.handle !== 'string') return 'has a handle that is not a string';
  for (const key of ['startedAt', 'firstStartedAt', 'lastProgressAt'] as const) {
    if (unit[key] !== undefined && typeof unit[key] !== 'number') return `has a ${key} that is not a time`;
  }
  if (!isCount(unit.attempt) || !isCount(unit.restarts)) return 'has a restart count that is not a whole number';
  if (typeof unit.ready !== 'boolean') return 'does not say whether it was ready';
  if (!breakerOk(unit.breaker)) return 'has a breaker state that is not understood';
  return undefined;
}

function breakerOk(value: unknown): value is BreakerState {
  if (!isObject(value)) return false;
  switch (value.status) {
    case 'closed':
      return Array.isArray(value.failures) && value.failures.every((at) => typeof at === 'number');
    case 'open':
      return typeof value.openedAt === 'number' && typeof value.cooldownMs === 'number' && typeof value.trialAt === 'number';
    case 'halfOpen':
      return typeof value.cooldownMs === 'number';
    default:
      return false;
  }
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
