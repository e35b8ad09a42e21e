import * as os from 'node:os';
import * as path from 'node:path';
import type { Document, YamlNode } from '../../vendor/profileLibraries';
import { editDistance } from '../../tmux/keys';
import { sessionNameProblem, suggestSessionName, windowNameProblem } from '../../tmux/names';
import { backoffProblem, DEFAULT_BACKOFF } from '../supervision/backoff';
import { breakerProblem, DEFAULT_BREAKER } from '../supervision/breaker';
import { checkGraph, DependencyGraphError } from '../supervision/graph';
import { probeProblem } from '../supervision/probes';
import { ProbeCheck, ProbeSpec, StopSpec, UnitSpec } from '../supervision/types';
import type { AgentLimits } from '../agents/fleet';
import { profileLibraries } from './libraries';
import { Duration, durationMs, PaneEntry, ProbeEntry, ProfileFile, profileSchema, SERVICE_KEYS } from './schema';

/** A profile checked whole and resolved: folders absolute, defaults filled in, services as supervisor units. */
export interface Profile {
  readonly file: string;
  readonly session: string;
  readonly root: string;
  readonly env: Readonly<Record<string, string>>;
  readonly hooks: ProfileHooks;
  readonly windows: readonly ProfileWindow[];
  readonly agents: readonly ProfileAgent[];
}

/** A coding agent the profile declares: Up spawns it (one session, as Spawn Agents does), Down finishes it. */
export interface ProfileAgent {
  readonly kind: string;
  readonly task: string;
  readonly prompt?: string;
  readonly worktree: boolean;
  readonly baseBranch?: string;
  readonly limits: AgentLimits;
}

export interface ProfileHooks {
  readonly onStart?: string;
  readonly onStop?: string;
  readonly beforeSwitch?: string;
  readonly afterSwitch?: string;
}

export interface ProfileWindow {
  readonly name: string;
  readonly layout?: string;
  readonly focus: boolean;
  readonly panes: readonly ProfilePane[];
}

export interface ProfilePane {
  /** Identity across edits: the service's or pane's name, else its window and position. */
  readonly key: string;
  readonly name?: string;
  readonly command?: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly focus: boolean;
  /** Present when the pane is a supervised service (it has a name and a command). */
  readonly unit?: UnitSpec;
}

export interface ProfileIssue {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A profile that cannot be used; every issue has its line and column, and nothing was created. */
export class ProfileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ProfileIssue[],
  ) {
    super(issues.map((issue) => `${file}:${issue.line}:${issue.column}: ${issue.message}`).join('\n'));
    this.name = 'ProfileError';
  }
}

/** Reads a profile's text. Throws ProfileError listing every problem found, each with its line and column. */
export function parseProfile(text: string, file: string): Profile {
  const { parseDocument, LineCounter } = profileLibraries();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new ProfileError(
      file,
      doc.errors.map((error) => ({ ...at(error.pos[0]), message: `not valid YAML: ${firstLine(error.message)}` })),
    );
  }
  const locate = new Locator(doc, at);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) throw new ProfileError(file, [{ line: 1, column: 1, message: 'the file is empty; a profile needs at least `windows:` with one pane' }]);
  const checked = profileSchema().safeParse(value);
  if (!checked.success) {
    const issues: ProfileIssue[] = [];
    for (const issue of checked.error.issues) {
      const where = issue.path as (string | number)[];
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(where);
        for (const key of issue.keys) {
          const near = closest(key, known);
          issues.push({ ...locate.key(where, key), message: `unknown key "${key}" in ${describePath(where)}${near ? `; did you mean "${near}"?` : known.length ? `; known keys: ${known.join(', ')}` : ''}` });
        }
      } else {
        issues.push({ ...locate.value(where), message: `${describePath(where)}: ${issueMessage(issue)}` });
      }
    }
    throw new ProfileError(file, sortIssues(issues));
  }
  return resolve(checked.data, file, locate);
}

/** The profile's folder name, as the default session name. */
export function defaultSessionName(file: string): string {
  return suggestSessionName(path.basename(path.dirname(file)));
}

// ---- from the checked file to the profile -------------------------------------------------------

function resolve(data: ProfileFile, file: string, locate: Locator): Profile {
  const issues: ProfileIssue[] = [];
  const problem = (where: (string | number)[], message: string, key?: string) =>
    issues.push({ ...(key ? locate.key(where, key) : locate.value(where)), message: `${describePath(where)}: ${message}` });
  const folder = path.dirname(path.resolve(file));
  const session = data.session ?? defaultSessionName(file);
  if (data.session !== undefined) {
    const bad = sessionNameProblem(data.session);
    if (bad) problem(['session'], bad);
  }
  const root = absolute(data.root ?? '.', folder);
  const env = strings(data.env);
  const services = new Map<string, (string | number)[]>();
  const takenKeys = new Set<string>();
  const windows: ProfileWindow[] = data.windows.map((window, w) => {
    const name = window.name ?? window.panes[0].name ?? String(w + 1);
    const badName = windowNameProblem(name);
    if (badName) problem(['windows', w, 'name'], badName);
    const panes = window.panes.map((entry, p): ProfilePane => {
      const where = ['windows', w, 'panes', p];
      const serviceKey = SERVICE_KEYS.find((key) => entry[key] !== undefined);
      if (serviceKey && entry.command === undefined) problem(where, `missing command: "${serviceKey}" makes this pane a service, and a service needs a command to run`);
      if (serviceKey && entry.name === undefined) problem(where, `"${serviceKey}" makes this pane a service, and a service needs a name (others depend on it by name)`);
      if (entry.name !== undefined) {
        if (services.has(entry.name) || takenKeys.has(entry.name)) problem([...where, 'name'], `the name "${entry.name}" is used twice; each pane's name must be unique in the profile`);
        services.set(entry.name, where);
      }
      const key = entry.name ?? `${name}/${p + 1}`;
      takenKeys.add(key);
      const cwd = absolute(entry.cwd ?? '.', root);
      const paneEnv = { ...env, ...strings(entry.env) };
      const unit = entry.name !== undefined && entry.command !== undefined ? unitOf(entry.name, entry, cwd, where, problem) : undefined;
      return { key, ...(entry.name === undefined ? {} : { name: entry.name }), ...(entry.command === undefined ? {} : { command: entry.command }), cwd, env: paneEnv, focus: entry.focus ?? false, ...(unit ? { unit } : {}) };
    });
    if (window.panes.filter((pane) => pane.focus).length > 1) problem(['windows', w, 'panes'], 'more than one pane has focus: true; keep one');
    return { name, ...(window.layout === undefined ? {} : { layout: window.layout }), focus: window.focus ?? false, panes };
  });
  if (data.windows.filter((window) => window.focus).length > 1) problem(['windows'], 'more than one window has focus: true; keep one');
  const units = windows.flatMap((window) => window.panes.flatMap((pane) => (pane.unit ? [pane.unit] : [])));
  for (const unit of units) {
    for (const dependency of unit.dependsOn ?? []) {
      if (!units.some((other) => other.name === dependency.name)) {
        const known = units.map((other) => other.name).filter((name) => name !== unit.name);
        problem([...services.get(unit.name)!, 'dependsOn'], `depends on "${dependency.name}", which is not a service in this profile${known.length ? ` (services: ${known.join(', ')})` : ''}`, dependency.name);
      }
    }
  }
  if (issues.length === 0) {
    try {
      checkGraph(units.map((unit) => ({ name: unit.name, dependsOn: unit.dependsOn ?? [] })));
    } catch (error) {
      if (!(error instanceof DependencyGraphError) || !error.cycle) throw error;
      const [first, second] = error.cycle;
      problem([...services.get(first)!, 'dependsOn'], `dependency cycle ${error.cycle.join(' → ')}; remove one of these dependsOn entries`, second);
    }
  }
  const agents = (data.agents ?? []).map((entry, a): ProfileAgent => {
    const ms = (key: 'timeout' | 'stalledAfter' | 'noProgressTimeout') => durationMs(entry[key]);
    const mb = (value: number | undefined) => (value === undefined ? undefined : Math.round(value * 1024 * 1024));
    const limits: AgentLimits = Object.fromEntries(
      Object.entries({
        wallClockTimeoutMs: ms('timeout'),
        stalledAfterMs: ms('stalledAfter'),
        noProgressTimeoutMs: ms('noProgressTimeout'),
        retries: entry.retries,
        memoryWarnBytes: mb(entry.memoryWarnMb),
        memoryStopBytes: mb(entry.memoryStopMb),
      }).filter(([, value]) => value !== undefined),
    );
    if (data.agents!.findIndex((other) => other.kind === entry.kind && other.task === entry.task) !== a) problem(['agents', a, 'task'], `the agent ${entry.kind} "${entry.task}" is declared twice; give each task its own name`);
    return { kind: entry.kind, task: entry.task, ...(entry.prompt === undefined ? {} : { prompt: entry.prompt }), worktree: entry.worktree ?? false, ...(entry.baseBranch === undefined ? {} : { baseBranch: entry.baseBranch }), limits };
  });
  if (issues.length > 0) throw new ProfileError(file, sortIssues(issues));
  return { file, session, root, env, hooks: data.hooks ?? {}, windows, agents };
}

function unitOf(name: string, entry: PaneEntry, cwd: string, where: (string | number)[], problem: (where: (string | number)[], message: string, key?: string) => void): UnitSpec {
  const probe = (kind: 'ready' | 'health', value: ProbeEntry | undefined): ProbeSpec | undefined => {
    if (!value) return undefined;
    const at = [...where, kind];
    const kinds = (['http', 'tcp', 'output', 'command'] as const).filter((key) => value[key] !== undefined);
    if (kinds.length !== 1) {
      problem(at, kinds.length === 0 ? 'a probe needs one of http, tcp, output or command' : `a probe has one check; this one has ${kinds.join(' and ')}`);
      return undefined;
    }
    const kindKey = kinds[0];
    const check = checkOf(value, kindKey, cwd);
    if (!check) {
      problem([...at, kindKey], `tcp wants a port (5432) or "host:port"; got ${JSON.stringify(value.tcp)}`);
      return undefined;
    }
    const spec: ProbeSpec = {
      check,
      ...defined('intervalMs', durationMs(value.interval)),
      ...defined('timeoutMs', durationMs(value.timeout)),
      ...defined('initialDelayMs', durationMs(value.initialDelay)),
      ...defined('startPeriodMs', durationMs(value.startPeriod)),
      ...defined('failureThreshold', value.failureThreshold),
    };
    if (check.kind === 'http' && !/^https?:\/\//.test(check.url)) {
      problem([...at, 'http'], `"${check.url}" is not an http or https URL; write it like http://127.0.0.1:8080/health`);
      return undefined;
    }
    const bad = probeProblem(spec);
    if (bad) {
      problem([...at, kindKey], check.kind === 'output' ? bad.replace(/^output probe pattern/, 'pattern') : bad);
      return undefined;
    }
    return spec;
  };
  const stop = stopOf(entry, where, problem);
  const backoff = entry.backoff && {
    ...defined('initialDelayMs', durationMs(entry.backoff.initialDelay)),
    ...defined('maxDelayMs', durationMs(entry.backoff.maxDelay)),
    ...defined('multiplier', entry.backoff.multiplier),
    ...defined('jitter', entry.backoff.jitter),
    ...defined('resetAfterMs', durationMs(entry.backoff.resetAfter)),
  };
  const breaker = entry.breaker && {
    ...defined('failureThreshold', entry.breaker.failures),
    ...defined('windowMs', durationMs(entry.breaker.window)),
    ...defined('cooldownMs', durationMs(entry.breaker.cooldown)),
    ...defined('maxCooldownMs', durationMs(entry.breaker.maxCooldown)),
  };
  const policyProblem = (backoff && backoffProblem({ ...DEFAULT_BACKOFF, ...backoff })) || (breaker && breakerProblem({ ...DEFAULT_BREAKER, ...breaker }));
  if (policyProblem) problem([...where, backoff && backoffProblem({ ...DEFAULT_BACKOFF, ...backoff }) ? 'backoff' : 'breaker'], policyProblem);
  const ready = probe('ready', entry.ready);
  const health = probe('health', entry.health);
  return {
    name,
    ...(entry.dependsOn ? { dependsOn: Object.entries(entry.dependsOn).map(([dependency, condition]) => ({ name: dependency, condition })) } : {}),
    ...defined('dependencyTimeoutMs', durationMs(entry.dependencyTimeout)),
    ...(ready ? { ready } : {}),
    ...(health ? { health } : {}),
    ...defined('restart', entry.restart),
    ...(backoff ? { backoff } : {}),
    ...(breaker ? { breaker } : {}),
    ...(stop ? { stop } : {}),
  };
}

function checkOf(value: ProbeEntry, kind: 'http' | 'tcp' | 'output' | 'command', cwd: string): ProbeCheck | undefined {
  switch (kind) {
    case 'http':
      return { kind: 'http', url: value.http! };
    case 'output':
      return { kind: 'output', pattern: value.output! };
    case 'command':
      return { kind: 'command', command: value.command!, cwd };
    case 'tcp': {
      if (typeof value.tcp === 'number') return { kind: 'tcp', port: value.tcp };
      const match = /^(?:(.+):)?(\d{1,5})$/.exec(value.tcp!);
      if (!match) return undefined;
      return { kind: 'tcp', port: Number(match[2]), ...(match[1] ? { host: match[1] } : {}) };
    }
  }
}

function stopOf(entry: PaneEntry, where: (string | number)[], problem: (where: (string | number)[], message: string) => void): StopSpec | undefined {
  const stop = entry.stop;
  if (!stop) return undefined;
  const methods = (['signal', 'keys', 'command'] as const).filter((key) => stop[key] !== undefined);
  if (methods.length > 1) problem([...where, 'stop'], `stop has one method; this one has ${methods.join(' and ')}`);
  const timeoutMs = durationMs(stop.timeout) ?? 10_000;
  if (stop.keys) return { method: { kind: 'keys', keys: stop.keys }, timeoutMs };
  if (stop.command) return { method: { kind: 'command', command: stop.command }, timeoutMs };
  const signal = stop.signal ?? 'SIGTERM';
  if (!(signal in os.constants.signals)) problem([...where, 'stop', 'signal'], `"${signal}" is not a signal this system knows (SIGTERM, SIGINT, SIGQUIT, SIGHUP…)`);
  return { method: { kind: 'signal', signal: signal as NodeJS.Signals }, timeoutMs };
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function strings(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([key, value]) => [key, String(value)]));
}

function absolute(folder: string, base: string): string {
  const home = folder === '~' || folder.startsWith('~/') ? path.join(os.homedir(), folder.slice(1)) : folder;
  return path.resolve(base, home);
}

// ---- where a problem is ---------------------------------------------------------------------

type Position = { line: number; column: number };

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly at: (offset: number) => Position,
  ) {}

  /** The value at `where`, or the nearest part of it that exists (a missing key: its map). */
  value(where: readonly (string | number)[]): Position {
    for (let depth = where.length; depth >= 0; depth--) {
      const node = this.doc.getIn(where.slice(0, depth), true) as YamlNode | undefined;
      if (node?.range) return this.at(node.range[0]);
    }
    return { line: 1, column: 1 };
  }

  /** The key `key` of the map at `where` (an unknown key, a dependency's name). */
  key(where: readonly (string | number)[], key: string): Position {
    const { isMap, isScalar } = profileLibraries();
    const map = this.doc.getIn(where, true);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return this.at(pair.key.range[0]);
      }
    }
    return this.value(where);
  }
}

function describePath(where: readonly (string | number)[]): string {
  if (where.length === 0) return 'the profile';
  let text = '';
  for (const part of where) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part;
  return text;
}

function issueMessage(issue: { code: string; message: string; expected?: string; input?: unknown }): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `missing; it is required`;
  if (issue.code === 'invalid_union') return 'not a value this key takes; see the schema for its forms';
  return issue.message.replace(/^Invalid (input|option): /, '');
}

/** The keys an object at `where` takes, for "did you mean". */
function knownKeys(where: readonly (string | number)[]): string[] {
  let node: unknown = profileSchema();
  for (const part of where) {
    node = unwrap(node);
    const def = (node as { def?: { type: string; element?: unknown; valueType?: unknown; shape?: Record<string, unknown> } }).def;
    if (!def) return [];
    if (typeof part === 'number' && def.type === 'array') node = def.element;
    else if (def.type === 'record') node = def.valueType;
    else if (def.type === 'object' && def.shape && typeof part === 'string') node = def.shape[part];
    else return [];
  }
  const def = (unwrap(node) as { def?: { type: string; shape?: Record<string, unknown> } }).def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(node: unknown): unknown {
  let current = node as { def?: { type: string; innerType?: unknown } };
  while (current?.def && (current.def.type === 'optional' || current.def.type === 'default')) current = current.def.innerType as typeof current;
  return current;
}

/** The known key closest to a misspelt one, when it is close enough to be what was meant. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function sortIssues(issues: ProfileIssue[]): ProfileIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

export type { Duration };
