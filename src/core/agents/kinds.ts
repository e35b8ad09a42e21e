import { DEFAULT_RESTORE_COMMANDS } from '../snapshots/programs';

/**
 * The coding agents we know how to run and watch, as one table. Each kind says how it is started
 * and resumed, how its state is learned (its own hooks, injected per session, or only its
 * screen), which keys interrupt it, and the screen patterns for what its hooks cannot tell.
 *
 * Screen patterns are regular expressions (JavaScript syntax, matched against the visible screen
 * as plain text) and are only read where hooks are blind: before the first hook of a run arrives
 * (startup readiness), when a run that says it works has been silent for a while (an interrupt:
 * Claude Code fires no Stop on Esc), after a failed exit (a crash message), and on request.
 */

export type BuiltInKindName = 'claude' | 'codex' | 'gemini' | 'aider';

/**
 * How hook events reach us:
 * - `claude-settings`: `--settings <file>` with our hooks; Claude Code merges them with the user's.
 * - `codex-notify`: `-c notify=[…]`; Codex runs it after each turn with the event JSON as its last argument.
 * - `gemini-project-settings`: hooks merged into the working folder's `.gemini/settings.json` (undone on cleanup).
 * - `aider-notifications`: `--notifications-command`, run when aider waits for input (no JSON).
 * - `none`: the screen only.
 */
export type HookInjection = 'claude-settings' | 'codex-notify' | 'gemini-project-settings' | 'aider-notifications' | 'none';

export interface ScreenPattern {
  readonly pattern: string;
  readonly flags?: string;
}

export interface ScreenPatterns {
  /** Started and ready for input (the prompt box is drawn). */
  readonly ready?: ScreenPattern;
  /** The current turn was interrupted and the agent waits at its prompt again. */
  readonly interrupted?: ScreenPattern;
  /** A login, API key or quota screen: nothing moves until a person acts. */
  readonly blocked?: ScreenPattern;
  /** A crash message left on the screen (a stack trace, a panic). */
  readonly crashed?: ScreenPattern;
}

export interface AgentKind {
  readonly name: string;
  /** The command that starts a fresh session. */
  readonly command: string;
  /** The command that picks up the last session in the same folder; restarts of a failed agent use it. */
  readonly resumeCommand?: string;
  readonly hooks: HookInjection;
  /** tmux key names that interrupt the current turn. */
  readonly interruptKeys: readonly string[];
  readonly screen: ScreenPatterns;
}

const p = (pattern: string, flags = 'm'): ScreenPattern => ({ pattern, flags });

/** Login, API key and usage limit screens, as the agents word them. */
const QUOTA_OR_LOGIN = 'usage limit|rate limit|quota exceeded|out of credits|run /login|please log in|sign in with|invalid api key|api key not (set|found)|not logged in';
const STACK_TRACE = 'Traceback \\(most recent call last\\)|panicked at|Unhandled (promise )?rejection|^\\s+at .+:\\d+:\\d+\\)?$|Segmentation fault|FATAL ERROR';

export const BUILT_IN_KINDS: Readonly<Record<BuiltInKindName, AgentKind>> = {
  claude: {
    name: 'claude',
    command: 'claude',
    resumeCommand: DEFAULT_RESTORE_COMMANDS.claude,
    hooks: 'claude-settings',
    interruptKeys: ['Escape'],
    screen: {
      ready: p('^\\s*[│|]?\\s*>\\s|\\? for shortcuts'),
      interrupted: p('Interrupted by user|Interrupted · What should Claude do'),
      blocked: p(QUOTA_OR_LOGIN, 'im'),
      crashed: p(STACK_TRACE),
    },
  },
  codex: {
    name: 'codex',
    command: 'codex',
    resumeCommand: DEFAULT_RESTORE_COMMANDS.codex,
    hooks: 'codex-notify',
    interruptKeys: ['Escape'],
    screen: {
      ready: p('^\\s*[›>▌]\\s|Ask Codex to do anything|send\\s+⏎'),
      interrupted: p('Conversation interrupted|■ Interrupted'),
      blocked: p(QUOTA_OR_LOGIN, 'im'),
      crashed: p(STACK_TRACE),
    },
  },
  gemini: {
    name: 'gemini',
    command: 'gemini',
    resumeCommand: 'gemini --resume latest',
    hooks: 'gemini-project-settings',
    interruptKeys: ['Escape'],
    screen: {
      ready: p('Type your message|^\\s*>\\s'),
      interrupted: p('Request cancelled|Operation cancelled'),
      blocked: p(`${QUOTA_OR_LOGIN}|Login with Google`, 'im'),
      crashed: p(STACK_TRACE),
    },
  },
  aider: {
    name: 'aider',
    command: 'aider',
    resumeCommand: DEFAULT_RESTORE_COMMANDS.aider,
    hooks: 'aider-notifications',
    interruptKeys: ['C-c'],
    screen: {
      ready: p('^(\\w+ )?>\\s*$'),
      interrupted: p('\\^C again to exit|KeyboardInterrupt'),
      blocked: p(QUOTA_OR_LOGIN, 'im'),
      crashed: p(STACK_TRACE),
    },
  },
};

export const BUILT_IN_KIND_NAMES = Object.keys(BUILT_IN_KINDS) as BuiltInKindName[];

/** A `custom` kind as settings and profiles write it. */
export interface CustomKindSpec {
  readonly name: string;
  readonly command: string;
  readonly resumeCommand?: string;
  /** Borrow a built-in kind's hooks (a wrapper around `claude`, say). Default: the screen only. */
  readonly hooksLike?: BuiltInKindName;
  readonly interruptKeys?: readonly string[];
  readonly screen?: Partial<Record<keyof ScreenPatterns, string | ScreenPattern>>;
}

export class AgentKindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentKindError';
  }
}

/**
 * A custom kind, checked: a name that is not a built-in one, a command, and screen patterns that
 * compile. Each problem is said in words that tell what to change.
 */
export function customKind(spec: CustomKindSpec): AgentKind {
  const where = `Agent kind "${String(spec?.name)}"`;
  if (typeof spec?.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(spec.name)) {
    throw new AgentKindError(`${where}: give it a name of letters, digits, "-", "_" or "." (for example "my-agent").`);
  }
  if ((BUILT_IN_KIND_NAMES as string[]).includes(spec.name)) {
    throw new AgentKindError(`${where} is built in; give your own kind another name, or leave it out to use the built-in one.`);
  }
  if (typeof spec.command !== 'string' || spec.command.trim() === '') throw new AgentKindError(`${where}: set "command" to the program that starts it (for example "my-agent --yes").`);
  if (spec.resumeCommand !== undefined && (typeof spec.resumeCommand !== 'string' || spec.resumeCommand.trim() === '')) {
    throw new AgentKindError(`${where}: "resumeCommand" is empty; remove it, or set it to the command that continues the last session.`);
  }
  if (spec.hooksLike !== undefined && !(BUILT_IN_KIND_NAMES as string[]).includes(spec.hooksLike)) {
    throw new AgentKindError(`${where}: "hooksLike" must be one of ${BUILT_IN_KIND_NAMES.join(', ')}; got "${String(spec.hooksLike)}".`);
  }
  const screen: Record<string, ScreenPattern> = {};
  for (const [key, value] of Object.entries(spec.screen ?? {})) {
    if (!['ready', 'interrupted', 'blocked', 'crashed'].includes(key)) throw new AgentKindError(`${where}: unknown screen pattern "${key}"; use ready, interrupted, blocked or crashed.`);
    const pattern = typeof value === 'string' ? { pattern: value, flags: 'm' } : value;
    const problem = patternProblem(pattern);
    if (problem) throw new AgentKindError(`${where}: screen pattern "${key}" ${problem}`);
    screen[key] = pattern;
  }
  return {
    name: spec.name,
    command: spec.command.trim(),
    ...(spec.resumeCommand ? { resumeCommand: spec.resumeCommand.trim() } : {}),
    hooks: spec.hooksLike ? BUILT_IN_KINDS[spec.hooksLike].hooks : 'none',
    interruptKeys: spec.interruptKeys ?? ['C-c'],
    screen,
  };
}

function patternProblem(pattern: ScreenPattern): string | undefined {
  if (typeof pattern?.pattern !== 'string' || pattern.pattern === '') return 'is empty; write a regular expression, or remove it.';
  try {
    new RegExp(pattern.pattern, pattern.flags);
    return undefined;
  } catch (error) {
    return `is not a valid regular expression (${(error as Error).message}); fix it, escaping ( [ { . * + ? with \\ where meant literally.`;
  }
}

/**
 * The kind to run, with its resume command taken from the `restoreCommands` setting (which
 * snapshots use to start the same programs again) when that setting names the kind's program:
 * one place for a person to say how `claude` resumes.
 */
export function resolveKind(kind: AgentKind, restoreCommands: Readonly<Record<string, string>> = DEFAULT_RESTORE_COMMANDS): AgentKind {
  const program = kind.command.split(/\s+/)[0].split('/').pop() ?? kind.command;
  const fromSetting = Object.prototype.hasOwnProperty.call(restoreCommands, program) ? restoreCommands[program] : undefined;
  return fromSetting ? { ...kind, resumeCommand: fromSetting } : kind;
}

/** A kind by name: built in, or one of the custom kinds. */
export function kindNamed(name: string, custom: readonly AgentKind[] = []): AgentKind {
  const found = (BUILT_IN_KINDS as Record<string, AgentKind>)[name] ?? custom.find((kind) => kind.name === name);
  if (!found) {
    const known = [...BUILT_IN_KIND_NAMES, ...custom.map((kind) => kind.name)];
    throw new AgentKindError(`No agent kind is named "${name}"; known kinds: ${known.join(', ')}. Add a custom kind in the settings to run another program.`);
  }
  return found;
}

export function compile(pattern: ScreenPattern | undefined): RegExp | undefined {
  return pattern ? new RegExp(pattern.pattern, pattern.flags) : undefined;
}
