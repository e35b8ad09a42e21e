import { editDistance } from '../tmux/keys';
import { UsageError } from './errors';

/** How one option takes its value. `list` may be given more than once; each value is kept. */
export type OptionKind = 'flag' | 'value' | 'list';

export interface OptionSpec {
  readonly name: string;
  readonly kind: OptionKind;
  /** One letter, for the options tmux users type short (-L, -S). */
  readonly short?: string;
  /** Shown after the option in help: `--timeout DURATION`. */
  readonly placeholder?: string;
  readonly help: string;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
  readonly lists: ReadonlyMap<string, string[]>;
}

/**
 * Splits argv by the given options. `--name value`, `--name=value`, `-L value` and `-Lvalue` all
 * work; everything after `--` is positional, so text that starts with `-` can still be sent.
 * An option nobody declared is a usage error, never a positional: `--enetr` must not be typed into
 * a pane.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const byShort = new Map(specs.filter((spec) => spec.short).map((spec) => [spec.short!, spec]));
  const positionals: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byName.get(name);
      if (!spec) throw new UsageError(`Unknown option --${name}.${closest(name, [...byName.keys()])} Put -- before text that starts with "-".`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      spec = byShort.get(arg[1]);
      if (!spec) throw new UsageError(`Unknown option ${arg}. Put -- before text that starts with "-".`);
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    } else {
      positionals.push(arg);
      continue;
    }
    const shown = arg.startsWith('--') ? `--${spec.name}` : `-${spec.short}`;
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`${shown} takes no value.`);
      flags.add(spec.name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${shown} needs a value${spec.placeholder ? ` (${spec.placeholder})` : ''}.`);
      value = argv[++i];
    }
    if (spec.kind === 'value') {
      if (values.has(spec.name)) throw new UsageError(`${shown} is given twice.`);
      values.set(spec.name, value);
    } else {
      lists.set(spec.name, [...(lists.get(spec.name) ?? []), value]);
    }
  }
  return { positionals, flags, values, lists };
}

/** " Did you mean --enter?" for a near miss (two edits at most), else nothing. */
function closest(name: string, names: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of names) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best ? ` Did you mean --${best}?` : '';
}

/** A whole number of at least `min`, from an option's text. */
export function parseCount(option: string, text: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new UsageError(`--${option} must be a whole number${min > 0 ? ` of at least ${min}` : ''}; got "${text}".`);
  return Number(text);
}

/** `30`, `30s`, `500ms`, `2m`, `1.5s` → milliseconds. A bare number is seconds, as for timeout(1). */
export function parseDuration(option: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--${option} must be a duration like 30 (seconds), 30s, 500ms or 2m; got "${text}".`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}
