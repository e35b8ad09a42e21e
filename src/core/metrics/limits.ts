import { Runner } from '../../tmux/commands';
import { findById, PaneId, Tree } from '../../tmux/model';
import { killGracefully, KillTimings } from '../kill';
import { MetricsSample, PaneMetrics } from './sample';

export type LimitAction = 'warn' | 'restart' | 'stop';

/**
 * A resource limit on panes. The same shape serves the `metrics.limits` setting and, later,
 * profile and agent definitions (which would fill `pane` or `session` for their own panes).
 */
export interface LimitSpec {
  /** Glob on the session name (`*` any run of characters, `?` one); omitted: every session. */
  readonly session?: string;
  /** One pane: its id (`%7`) or `session:window.pane` by indexes; omitted: every pane of the matched sessions. */
  readonly pane?: string;
  /** Resident memory of the pane's whole process tree, in MB (1 MB = 1,048,576 bytes). */
  readonly rssMB?: number;
  /** CPU of the pane's whole process tree, in percent of one core. */
  readonly cpuPercent?: number;
  /** How long a value must stay over before the action runs. */
  readonly forSeconds: number;
  readonly action: LimitAction;
}

export interface LimitBreach {
  readonly spec: LimitSpec;
  readonly pane: PaneMetrics;
  readonly metric: 'rss' | 'cpu';
  /** The value in the sample that fired (MB or %). */
  readonly value: number;
  readonly threshold: number;
  /** How long it had been over, in seconds. */
  readonly overSeconds: number;
}

/**
 * Reads limit specs from untrusted JSON (a settings file, a definition file). Returns the good ones
 * and, for each bad one, a sentence saying what to fix; a bad entry never disables the good ones.
 */
export function parseLimitSpecs(value: unknown): { specs: LimitSpec[]; problems: string[] } {
  const specs: LimitSpec[] = [];
  const problems: string[] = [];
  if (value === undefined || value === null) return { specs, problems };
  if (!Array.isArray(value)) return { specs, problems: ['Limits must be a list of objects like { "session": "agent-*", "rssMB": 2048, "forSeconds": 30, "action": "warn" }.'] };
  value.forEach((entry, index) => {
    const result = parseLimitSpec(entry);
    if (typeof result === 'string') problems.push(`Limit ${index + 1}: ${result}`);
    else specs.push(result);
  });
  return { specs, problems };
}

/** One spec, or the reason it cannot be used. */
export function parseLimitSpec(entry: unknown): LimitSpec | string {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'must be an object with rssMB or cpuPercent, forSeconds and action.';
  const raw = entry as Record<string, unknown>;
  const known = ['session', 'pane', 'rssMB', 'cpuPercent', 'forSeconds', 'action'];
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
  if (unknown.length) return `unknown field ${unknown.map((key) => `"${key}"`).join(', ')}; the fields are ${known.join(', ')}.`;
  for (const key of ['session', 'pane'] as const) {
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || raw[key] === '')) return `"${key}" must be a non-empty text.`;
  }
  if (typeof raw.pane === 'string' && !/^%\d+$/.test(raw.pane) && !/^.+:\d+\.\d+$/.test(raw.pane)) {
    return `"pane" must be a pane id like "%7" or a target like "api:1.0" (session:window.pane), not "${raw.pane}".`;
  }
  for (const key of ['rssMB', 'cpuPercent'] as const) {
    if (raw[key] !== undefined && !(typeof raw[key] === 'number' && Number.isFinite(raw[key]) && (raw[key] as number) > 0)) return `"${key}" must be a number above 0.`;
  }
  if (raw.rssMB === undefined && raw.cpuPercent === undefined) return 'give rssMB or cpuPercent (or both): a limit needs something to measure.';
  if (!(typeof raw.forSeconds === 'number' && Number.isFinite(raw.forSeconds) && raw.forSeconds >= 0)) return '"forSeconds" must be a number of seconds (0 or more).';
  if (raw.action !== 'warn' && raw.action !== 'restart' && raw.action !== 'stop') return `"action" must be "warn", "restart" or "stop", not ${JSON.stringify(raw.action)}.`;
  return {
    session: raw.session as string | undefined,
    pane: raw.pane as string | undefined,
    rssMB: raw.rssMB as number | undefined,
    cpuPercent: raw.cpuPercent as number | undefined,
    forSeconds: raw.forSeconds,
    action: raw.action,
  };
}

/** `*` and `?` as in shell globs; everything else literal. Whole-name match. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

export function limitApplies(spec: LimitSpec, pane: PaneMetrics): boolean {
  if (spec.session !== undefined && !globToRegExp(spec.session).test(pane.sessionName)) return false;
  if (spec.pane !== undefined && spec.pane !== pane.paneId && spec.pane !== pane.target) return false;
  return true;
}

const MB = 1024 * 1024;

/**
 * Follows limit breaches across samples. A value must stay over its threshold in every sample for
 * `forSeconds` (measured from the first sample over it) before the breach fires, and it fires once:
 * it re-arms only after a sample under the threshold. A sample without CPU% (the first after a
 * pause) neither starts nor ends a CPU episode.
 */
export class LimitWatcher {
  /** spec index · metric · pane id → when the value was first seen over (ms), and whether it fired. */
  private readonly episodes = new Map<string, { since: number; fired: boolean }>();

  constructor(readonly specs: readonly LimitSpec[]) {}

  /** The breaches that fire with this sample (each at most once per episode). */
  check(sample: MetricsSample): LimitBreach[] {
    const fired: LimitBreach[] = [];
    const seen = new Set<string>();
    this.specs.forEach((spec, index) => {
      for (const pane of sample.panes) {
        if (!limitApplies(spec, pane)) continue;
        const readings: ['rss' | 'cpu', number | undefined, number | undefined][] = [
          ['rss', pane.rssBytes / MB, spec.rssMB],
          ['cpu', pane.cpuPercent, spec.cpuPercent],
        ];
        for (const [metric, value, threshold] of readings) {
          if (threshold === undefined) continue;
          const key = `${index}\u0000${metric}\u0000${pane.paneId}`;
          seen.add(key);
          const episode = this.episodes.get(key);
          if (value === undefined) continue; // unknown: keep the episode as it is
          if (value <= threshold) {
            this.episodes.delete(key);
            continue;
          }
          const current = episode ?? { since: sample.takenAt, fired: false };
          this.episodes.set(key, current);
          const overSeconds = (sample.takenAt - current.since) / 1000;
          if (!current.fired && overSeconds >= spec.forSeconds) {
            current.fired = true;
            fired.push({ spec, pane, metric, value, threshold, overSeconds });
          }
        }
      }
    });
    // Panes that closed (or limits that no longer apply) leave no episode behind.
    for (const key of this.episodes.keys()) if (!seen.has(key)) this.episodes.delete(key);
    return fired;
  }
}

/** "api:1.0 (node, %7): memory 2150 MB over the limit of 2048 MB for 30 s: stopping it" */
export function describeBreach(breach: LimitBreach): string {
  const unit = breach.metric === 'rss' ? ' MB' : '%';
  const what = breach.metric === 'rss' ? 'memory' : 'CPU';
  const doing = { warn: 'warning only', restart: 'restarting it', stop: 'stopping it' }[breach.spec.action];
  return `${breach.pane.target} (${breach.pane.program || 'pane'}, ${breach.pane.paneId}): ${what} ${Math.round(breach.value)}${unit} over the limit of ${breach.threshold}${unit} for ${Math.round(breach.overSeconds)} s: ${doing}`;
}

/** Restarts a pane's program its own way (a supervisor that knows the command and its backoff). */
export interface PaneRestarter {
  /** True when it took care of the pane; false to let the default restart run. */
  restart(paneId: PaneId): Promise<boolean>;
}

export interface LimitActionOptions {
  readonly run: Runner;
  /** The current tree, to find the pane to stop. */
  readonly tree: () => Tree;
  readonly timings: KillTimings;
  /** Consulted first for `restart`; without one (or when it declines) the pane is respawned. */
  readonly restarter?: PaneRestarter;
}

/**
 * Carries out a breach's action. `warn` does nothing here (the caller logs and notifies for every
 * action). `stop` is the graceful kill of the pane (Ctrl-C, SIGTERM, SIGKILL, close). `restart`
 * without a supervisor is `respawn-pane -k`: tmux kills what runs in the pane and starts the pane's
 * own start command again (the command the pane was created with, or the default shell), in the
 * same folder; a program typed into a shell is not started again.
 */
export async function performLimitAction(breach: LimitBreach, options: LimitActionOptions): Promise<void> {
  const paneId = breach.pane.paneId;
  if (breach.spec.action === 'warn') return;
  if (breach.spec.action === 'restart') {
    if (options.restarter && (await options.restarter.restart(paneId))) return;
    await options.run(['respawn-pane', '-k', '-t', paneId]);
    return;
  }
  const pane = findById(options.tree(), paneId);
  if (!pane || pane.kind !== 'pane') return; // closed meanwhile: nothing left to stop
  await killGracefully(options.run, pane, options.timings);
}
