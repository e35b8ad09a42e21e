import * as fs from 'node:fs';
import * as path from 'node:path';
import { shellQuote } from '../snapshots/programs';
import { literalArgument } from '../../tmux/exec';
import { AgentKind } from './kinds';
import { hookCommand } from './hooksScript';

/**
 * Where agents' hook events live in tmux, how they are read back, and how each kind is made to
 * send them — per session, never by editing the user's own settings files.
 */

/** Set on an agent's pane by its launch command: the kind's name. The watcher reads only panes that have it. */
export const AGENT_OPTION = '@tmux-session-manager-agent';
/** The pane's last hook event, one record (see parseEventRecord). */
export const EVENT_OPTION = '@tmux-session-manager-agent-event';
/** Counts the pane's hook events, so two equal events in a row are still two. */
export const SEQUENCE_OPTION = '@tmux-session-manager-agent-seq';
/** Global flag: some pane has an event not read yet (see hooksScript.ts for why). */
export const AGENTS_DIRTY_OPTION = '@tmux-session-manager-agents-dirty';
/** The one channel every window's agent watcher waits on; `wait-for -S` wakes all of them. */
export const AGENTS_CHANNEL = 'tmux-session-manager-agents';

/** The event names agents send, across kinds (Claude Code, Codex notify and hooks, Gemini CLI, aider). */
export interface HookEvent {
  /** When the hook ran, in whole seconds since the epoch (the script has only `date +%s`). */
  readonly at: number;
  readonly kind: string;
  /** `UserPromptSubmit`, `Stop`, `agent-turn-complete`, `AfterAgent`, … as the agent names it. */
  readonly event: string;
  /** notification_type, or a session's source or end reason. */
  readonly sub: string;
  readonly tool: string;
  /** StopFailure's error (`rate_limit`, …). */
  readonly error: string;
  readonly message: string;
}

/**
 * One record as the hook script writes it: `1`, the time, kind, event, sub, tool, error and
 * message, tab-separated (the script removes tabs from values), ending in `.` so a record cut short
 * is recognised and a value ending in `;` never ends the tmux argument.
 */
export function parseEventRecord(text: string): HookEvent | undefined {
  const fields = text.split('\t');
  if (fields.length !== 9 || fields[0] !== '1' || fields[8] !== '.') return undefined;
  const [, at, kind, event, sub, tool, error, message] = fields;
  if (!event) return undefined;
  return { at: Number(at) || 0, kind, event, sub, tool, error, message };
}

/** The same record, built in TypeScript (stand-ins and tests write what the script writes). */
export function formatEventRecord(event: HookEvent): string {
  const clean = (value: string) => value.replace(/[\t\n\r\\]/g, ' ').slice(0, 200);
  return ['1', String(event.at), event.kind, event.event, event.sub, event.tool, event.error, event.message].map(clean).join('\t') + '\t.';
}

// ---- per-kind injection --------------------------------------------------------------------

/** Claude Code's events we hook (PermissionRequest adds the tool a permission prompt is for). */
export const CLAUDE_EVENTS = ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PermissionRequest', 'Notification', 'Stop', 'StopFailure', 'SessionEnd'] as const;
/** Gemini CLI's events we hook. */
export const GEMINI_EVENTS = ['SessionStart', 'BeforeAgent', 'BeforeTool', 'AfterAgent', 'Notification', 'SessionEnd'] as const;
/** How our entries in a Gemini settings file are recognised when they are removed again. */
export const GEMINI_HOOK_NAME = 'tmux-session-manager';

/**
 * A Claude Code settings file holding only our hooks; `--settings <file>` merges it with the
 * user's own settings and hooks for this session alone.
 */
export function claudeSettings(command: string): { hooks: Record<string, unknown[]> } {
  const hooks: Record<string, unknown[]> = {};
  for (const event of CLAUDE_EVENTS) hooks[event] = [{ matcher: '', hooks: [{ type: 'command', command, timeout: 10 }] }];
  return { hooks };
}

/** A TOML array of strings (`-c` values are TOML): basic strings, escaped as TOML wants. */
export function tomlStrings(values: readonly string[]): string {
  const escape = (value: string) =>
    value.replace(/[\\"\u0000-\u001f\u007f]/g, (char) => (char === '\\' || char === '"' ? `\\${char}` : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return `[${values.map((value) => `"${escape(value)}"`).join(', ')}]`;
}

export interface GeminiUndo {
  readonly file: string;
  /** The file did not exist before: remove it once only our entries would be left. */
  readonly createdFile: boolean;
  readonly createdFolder: boolean;
  /** We turned `hooksConfig.enabled` on; set back on undo. */
  readonly enabledHooks: boolean;
}

/**
 * Adds our hooks to `<folder>/.gemini/settings.json`, keeping every key the user has (their own
 * hooks on the same events stay, ours are appended), and says what to undo. A file that is not
 * JSON is left alone: the error names it.
 */
export function addGeminiHooks(folder: string, command: string): GeminiUndo {
  const geminiFolder = path.join(folder, '.gemini');
  const file = path.join(geminiFolder, 'settings.json');
  const createdFolder = !fs.existsSync(geminiFolder);
  const createdFile = !fs.existsSync(file);
  let settings: Record<string, unknown> = {};
  if (!createdFile) {
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      settings = parsed as Record<string, unknown>;
    } catch (error) {
      throw new Error(`Cannot add agent hooks to ${file}: it is not valid JSON (${(error as Error).message}). Fix or remove that file, then start the agent again.`);
    }
  }
  const withoutOurs = removeOurs(settings);
  const hooks = { ...((withoutOurs.hooks as Record<string, unknown[]> | undefined) ?? {}) };
  for (const event of GEMINI_EVENTS) {
    hooks[event] = [...(Array.isArray(hooks[event]) ? hooks[event] : []), { matcher: '*', hooks: [{ name: GEMINI_HOOK_NAME, type: 'command', command, timeout: 10_000 }] }];
  }
  const hooksConfig = (withoutOurs.hooksConfig as Record<string, unknown> | undefined) ?? {};
  const enabledHooks = hooksConfig.enabled !== true;
  const next = { ...withoutOurs, hooksConfig: { ...hooksConfig, enabled: true }, hooks };
  fs.mkdirSync(geminiFolder, { recursive: true });
  writeJson(file, next);
  return { file, createdFile, createdFolder, enabledHooks };
}

/**
 * Takes our entries out of the folder's Gemini settings again. With the record from
 * addGeminiHooks it also restores `hooksConfig.enabled` and removes a file (and folder) it made;
 * without one it removes only our entries, recognised by their name.
 */
export function removeGeminiHooks(folder: string, undo?: GeminiUndo): void {
  const file = path.join(folder, '.gemini', 'settings.json');
  let settings: Record<string, unknown>;
  try {
    settings = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return;
  }
  const next = removeOurs(settings);
  if (undo?.enabledHooks && next.hooksConfig && typeof next.hooksConfig === 'object') {
    const { enabled: _enabled, ...rest } = next.hooksConfig as Record<string, unknown>;
    if (Object.keys(rest).length === 0) delete next.hooksConfig;
    else next.hooksConfig = rest;
  }
  if (undo?.createdFile && Object.keys(next).length === 0) {
    fs.rmSync(file, { force: true });
    if (undo.createdFolder) {
      try {
        fs.rmdirSync(path.dirname(file));
      } catch {
        // Something else was put there meanwhile: it stays.
      }
    }
    return;
  }
  writeJson(file, next);
}

function removeOurs(settings: Record<string, unknown>): Record<string, unknown> {
  const hooks = settings.hooks;
  if (!hooks || typeof hooks !== 'object') return { ...settings };
  const kept: Record<string, unknown> = {};
  for (const [event, groups] of Object.entries(hooks as Record<string, unknown>)) {
    if (!Array.isArray(groups)) {
      kept[event] = groups;
      continue;
    }
    const left = groups.filter((group) => !(group && Array.isArray(group.hooks) && group.hooks.every((hook: { name?: string }) => hook?.name === GEMINI_HOOK_NAME)));
    if (left.length > 0) kept[event] = left;
  }
  const next = { ...settings };
  if (Object.keys(kept).length > 0) next.hooks = kept;
  else delete next.hooks;
  return next;
}

function writeJson(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(temporary, file);
}

/**
 * `exec` a plain command, so the agent is the pane's own process (signals reach it, its exit is the
 * pane's); a command with shell operators (a custom kind's `cd x && run`) runs as it is.
 */
function execIfSimple(command: string): string {
  return /[;&|<>()`\n]/.test(command) ? command : `exec ${command}`;
}

// ---- launching -----------------------------------------------------------------------------

export interface AgentLaunchOptions {
  /** The hook script (writeHookScript). */
  readonly hookScript: string;
  readonly tmuxPath: string;
  /** A folder of this agent's own, for its Claude settings file. */
  readonly stateFolder: string;
  /** The agent's working folder (Gemini's project settings go there). */
  readonly cwd?: string;
  /** Extra arguments for the agent (a first prompt, a model). Shell-quoted here. */
  readonly args?: readonly string[];
}

export interface AgentLaunch {
  /** For TmuxLaunch.command. */
  readonly command: string;
  /** For TmuxLaunch.resumeCommand (undefined when the kind has none: a retry starts afresh). */
  readonly resumeCommand?: string;
  /** What to undo when the agent is finished (Gemini's project settings). */
  readonly undo?: GeminiUndo;
}

/**
 * The shell commands that start and resume an agent of `kind` with our hooks injected. Both first
 * mark their own pane as an agent's (AGENT_OPTION) and clear its last event, in one tmux command,
 * then `exec` the agent, so a resumed run never shows the previous run's last state.
 */
export function agentLaunch(kind: AgentKind, options: AgentLaunchOptions): AgentLaunch {
  const command = hookCommand(options.hookScript, kind.name);
  let injected: string[] = [];
  let undo: GeminiUndo | undefined;
  switch (kind.hooks) {
    case 'claude-settings': {
      fs.mkdirSync(options.stateFolder, { recursive: true });
      const file = path.join(options.stateFolder, 'claude-settings.json');
      writeJson(file, claudeSettings(command));
      injected = ['--settings', file];
      break;
    }
    case 'codex-notify':
      injected = ['-c', `notify=${tomlStrings(['sh', options.hookScript, kind.name])}`];
      break;
    case 'gemini-project-settings':
      if (!options.cwd) throw new Error(`A ${kind.name} agent needs a working folder: its hooks go in that folder's .gemini/settings.json.`);
      undo = addGeminiHooks(options.cwd, command);
      break;
    case 'aider-notifications':
      injected = ['--notifications', '--notifications-command', `${command} Stop`];
      break;
    case 'none':
      break;
  }
  const words = (list: readonly string[]) => (list.length ? ` ${list.map(shellQuote).join(' ')}` : '');
  const mark = [
    shellQuote(options.tmuxPath),
    'set-option -p -t "$TMUX_PANE"',
    AGENT_OPTION,
    shellQuote(literalArgument(kind.name)),
    '\\;',
    'set-option -pu -t "$TMUX_PANE"',
    EVENT_OPTION,
  ].join(' ');
  // A resumed session already has its first prompt: only the hooks go again.
  const start = `${mark}; ${execIfSimple(kind.command)}${words([...injected, ...(options.args ?? [])])}`;
  const resume = kind.resumeCommand ? `${mark}; ${execIfSimple(kind.resumeCommand)}${words(injected)}` : undefined;
  return { command: start, ...(resume ? { resumeCommand: resume } : {}), ...(undo ? { undo } : {}) };
}
