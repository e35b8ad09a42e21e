import * as os from 'node:os';
import * as path from 'node:path';
import type { Document, YamlNode } from '../../vendor/profileLibraries';
import { sessionNameProblem, suggestSessionName, windowNameProblem } from '../../tmux/names';
import { profileLibraries } from './libraries';
import { parseProfile, Profile, ProfileError, ProfileIssue } from './parse';
import { ProfileFile } from './schema';

/**
 * Reads tmuxinator and tmuxp project files as they are, into the same profile our own file gives,
 * so Up and Apply work on them unchanged. Both tools type their commands into shells; here each
 * pane's typed lines become the pane's command, joined with `&&` after the lines typed before
 * them (pre_window, shell_command_before). Every key that has no equivalent, or only a near one,
 * becomes a warning with its place in the file: nothing is dropped without saying so.
 */

export type ImportFormat = 'tmuxinator' | 'tmuxp';

export interface ImportWarning {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Where the key is, like `windows[0].options.automatic-rename`. */
  readonly key: string;
  readonly message: string;
}

export interface ImportResult {
  readonly format: ImportFormat;
  /** The profile in our file format, ready to be written as `.tmux-session.yaml` next to the source. */
  readonly document: ProfileFile;
  readonly warnings: readonly ImportWarning[];
}

export function describeWarning(warning: ImportWarning): string {
  return `${warning.file}:${warning.line}:${warning.column}: ${warning.key}: ${warning.message}`;
}

/**
 * Which tool's file this is: by its name (a `.yml` in a `tmuxinator/` folder is a tmuxinator
 * project too), else, when the text is given, by top-level keys our own format does not have
 * (`session_name` is tmuxp's, `name` / `project_name` tmuxinator's).
 */
export function importFormatOf(file: string, text?: string): ImportFormat | undefined {
  const byName = formatByName(file);
  if (byName || text === undefined) return byName;
  if (/^\s*["']?session_name["']?\s*:/m.test(text)) return 'tmuxp';
  if (/^["']?(name|project_name)["']?\s*:/m.test(text)) return 'tmuxinator';
  return undefined;
}

function formatByName(file: string): ImportFormat | undefined {
  const base = path.basename(file);
  if (/^\.?tmuxp\.(ya?ml|json)$/.test(base)) return 'tmuxp';
  if (/^\.?tmuxinator\.ya?ml$/.test(base)) return 'tmuxinator';
  const folder = path.basename(path.dirname(file));
  if (/\.ya?ml$/.test(base) && (folder === 'tmuxinator' || folder === '.tmuxinator')) return 'tmuxinator';
  if (/\.(ya?ml|json)$/.test(base) && (folder === 'tmuxp' || folder === '.tmuxp')) return 'tmuxp';
  return undefined;
}

/**
 * Any profile file: our own format, or a tmuxinator / tmuxp file read as it is. Bad files throw
 * ProfileError with line and column in the file itself.
 */
export function readAnyProfile(text: string, file: string): { profile: Profile; warnings: readonly ImportWarning[]; format?: ImportFormat } {
  const format = importFormatOf(file, text);
  if (!format) return { profile: parseProfile(text, file), warnings: [] };
  const result = importProfile(text, file, format);
  return { profile: profileOfImport(result, file), warnings: result.warnings, format };
}

/** The Profile (as parse.ts gives it) of an imported file, its folders relative to the source file's folder. */
export function profileOfImport(result: ImportResult, file: string): Profile {
  try {
    return parseProfile(importedProfileText(result, file), file);
  } catch (error) {
    // The importer checks names and shapes itself, so this is a mapping it did not foresee: say where it came from.
    if (error instanceof ProfileError) throw new ProfileError(file, error.issues.map((issue) => ({ line: 1, column: 1, message: `after importing from ${result.format}: ${issue.message}` })));
    throw error;
  }
}

/** Our file's text for an import: a header naming the source and each warning, then the profile. */
export function importedProfileText(result: ImportResult, sourceFile: string): string {
  const { stringify } = profileLibraries();
  const header = [`# Imported from ${path.basename(sourceFile)} (${result.format}) by Tmux: Import as Profile.`];
  if (result.warnings.length > 0) {
    header.push('# Not carried over, or carried over only in part:');
    for (const warning of result.warnings) header.push(`#   ${path.basename(warning.file)}:${warning.line}:${warning.column} ${warning.key}:`, `#       ${warning.message.replace(/\n/g, ' ')}`);
  }
  return `${header.join('\n')}\n${stringify(result.document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** Reads a tmuxinator or tmuxp file into our profile format, with a warning for every key that does not carry over. */
export function importProfile(text: string, file: string, format: ImportFormat = importFormatOf(file, text) ?? 'tmuxinator'): ImportResult {
  const source = new Source(text, file);
  const document = format === 'tmuxinator' ? fromTmuxinator(source) : fromTmuxp(source);
  const warnings = [...source.warnings].sort((a, b) => a.line - b.line || a.column - b.column);
  return { format, document, warnings };
}

// ---- tmuxinator ----------------------------------------------------------------------------

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
type Dict = { [key: string]: Json };
type Where = (string | number)[];
type DraftPane = { command?: string; cwd?: string; env?: Record<string, string>; focus?: boolean };
type DraftWindow = { name: string; layout?: string; focus?: boolean; panes: DraftPane[] };

const TMUXINATOR_TOP = new Set([
  'name', 'project_name', 'root', 'project_root', 'windows', 'tabs', 'pre_window', 'pre_tab', 'rbenv', 'rvm', 'pre', 'post',
  'on_project_start', 'on_project_first_start', 'on_project_restart', 'on_project_exit', 'on_project_stop',
  'startup_window', 'startup_pane', 'tmux_options', 'cli_args', 'socket_name', 'socket_path', 'tmux_command', 'attach',
  'enable_pane_titles', 'pane_title_position', 'pane_title_format',
]);

function fromTmuxinator(source: Source): ProfileFile {
  const top = source.rootMap();
  source.unknownKeys(top, [], TMUXINATOR_TOP, 'tmuxinator');
  if (source.text.includes('<%')) {
    const offset = source.text.indexOf('<%');
    source.warnAt(source.position(offset), '<% %>', 'tmuxinator fills in ERB templates (<% %>, @settings) when it loads the file; they are read here as plain text');
  }
  const folder = path.dirname(path.resolve(source.file));
  const nameKey = top.project_name !== undefined ? 'project_name' : 'name';
  const session = source.sessionName(top[nameKey], [nameKey], defaultTmuxinatorName(source.file));
  const rootKey = top.project_root !== undefined ? 'project_root' : 'root';
  const root = optionalString(source, top, [rootKey]);
  const rootAbsolute = path.resolve(folder, expandHome(root ?? '.'));

  const preWindowKey = (['rbenv', 'rvm', 'pre_tab', 'pre_window'] as const).find((key) => top[key] !== undefined && top[key] !== null);
  let preWindow: string | undefined;
  if (preWindowKey === 'rbenv') preWindow = `rbenv shell ${String(top.rbenv)}`;
  else if (preWindowKey === 'rvm') preWindow = `rvm use ${String(top.rvm)}`;
  else if (preWindowKey) preWindow = joinCommands(source.commandList(top[preWindowKey], [preWindowKey]));
  for (const key of ['rbenv', 'rvm', 'pre_tab', 'pre_window'] as const) {
    if (top[key] !== undefined && key !== preWindowKey) source.warn([key], `ignored: tmuxinator uses only one of rbenv, rvm, pre_tab and pre_window, here "${preWindowKey}"`);
  }

  const onStart = joinCommands([
    ...hookOf(source, top, 'pre', 'runs in the onStart hook, after Up built the session (tmuxinator ran it before)'),
    ...hookOf(source, top, 'on_project_start', 'runs in the onStart hook, after Up built the session (tmuxinator runs it before, and also when the session already runs)'),
    ...hookOf(source, top, 'on_project_first_start', 'runs in the onStart hook, after Up built the session (tmuxinator runs it just before)'),
  ]);
  const onStop = joinCommands([
    ...hookOf(source, top, 'on_project_stop', undefined),
    ...hookOf(source, top, 'post', 'runs in the onStop hook, after Down (tmuxinator ran it after every start)'),
  ]);
  for (const key of ['on_project_restart', 'on_project_exit']) {
    if (top[key] !== undefined) source.warn([key], key === 'on_project_restart' ? 'no equivalent: Up on a running session applies the profile and runs no hook' : 'no equivalent: there is no detach step; Down runs onStop');
  }
  noEquivalentTmuxinator(source, top);

  const windowsKey = top.tabs !== undefined && top.windows === undefined ? 'tabs' : 'windows';
  if (top.tabs !== undefined && top.windows !== undefined) source.warn(['tabs'], 'ignored: "windows" is given too, and tmuxinator reads "tabs" only without it');
  const list = top[windowsKey];
  if (!Array.isArray(list) || list.length === 0) source.fail([windowsKey], `"${windowsKey}" must be a list with at least one window, like "- editor: vim"`);
  const windows = (list as Json[]).map((item, index) => tmuxinatorWindow(source, item, [windowsKey, index], index, { preWindow, folder, rootAbsolute }));
  uniqueWindowNames(source, windows, windowsKey);

  const startupWindow = top.startup_window;
  let focusWindow: DraftWindow | undefined;
  if (startupWindow !== undefined && startupWindow !== null) {
    focusWindow = windows.find((window) => window.name === String(startupWindow));
    if (!focusWindow && typeof startupWindow === 'number') {
      focusWindow = windows[startupWindow];
      source.warn(['startup_window'], `window number ${startupWindow} is counted from 0 (tmux's default base-index); it selects "${focusWindow?.name ?? 'no window'}"`);
    }
    if (focusWindow) focusWindow.focus = true;
    else source.warn(['startup_window'], `no window is named "${String(startupWindow)}"; the first window is selected`);
  }
  const startupPane = top.startup_pane;
  if (startupPane !== undefined && startupPane !== null) {
    const window = focusWindow ?? windows[0];
    const pane = typeof startupPane === 'number' ? window.panes[startupPane] : undefined;
    if (pane) pane.focus = true;
    else source.warn(['startup_pane'], `no pane ${String(startupPane)} in window "${window.name}" (panes are counted from 0, tmux's default pane-base-index)`);
  }

  return finish({ session, root, env: undefined, onStart, onStop, windows });
}

function noEquivalentTmuxinator(source: Source, top: Dict): void {
  const socketHint = (value: Json) => {
    const text = String(value ?? '');
    const name = /(?:^|\s)-L\s*(\S+)/.exec(text)?.[1];
    const socket = /(?:^|\s)-S\s*(\S+)/.exec(text)?.[1];
    if (socket) return `; to use that server, set tmuxSessionManager.socketPath to "${socket}"`;
    if (name) return `; to use that server, set tmuxSessionManager.socketName to "${name}"`;
    return '';
  };
  if (top.socket_name !== undefined) source.warn(['socket_name'], `not in a profile: the profile runs on the server the extension uses; to use this one, set tmuxSessionManager.socketName to "${String(top.socket_name)}"`);
  if (top.socket_path !== undefined) source.warn(['socket_path'], `not in a profile: the profile runs on the server the extension uses; to use this one, set tmuxSessionManager.socketPath to "${String(top.socket_path)}"`);
  for (const key of ['tmux_options', 'cli_args']) {
    if (top[key] !== undefined) source.warn([key], `no equivalent: tmux is started with the extension's own options${socketHint(top[key])}`);
  }
  if (top.tmux_command !== undefined) source.warn(['tmux_command'], 'no equivalent: the tmux program is the setting tmuxSessionManager.tmuxPath');
  if (top.attach === true) source.warn(['attach'], 'no equivalent: Up builds the session without attaching; open it from the Sessions view');
  for (const key of ['enable_pane_titles', 'pane_title_position', 'pane_title_format']) {
    if (top[key] !== undefined) source.warn([key], 'no equivalent: profiles do not set pane titles');
  }
}

function tmuxinatorWindow(
  source: Source,
  item: Json,
  where: Where,
  index: number,
  context: { preWindow?: string; folder: string; rootAbsolute: string },
): DraftWindow {
  if (!isDict(item) || Object.keys(item).length === 0) source.fail(where, 'a window is written "- name: command" or "- name:" with layout, panes and root under it');
  const [name, ...extra] = Object.keys(item as Dict);
  for (const key of extra) source.warn([...where, key], `ignored: tmuxinator reads only the first key of a window ("${name}"); indent "${key}" under it if it belongs to that window`);
  const value = (item as Dict)[name];
  const here = [...where, name];
  const windowName = name === '' || name === 'null' ? String(index + 1) : name;
  const prefix = context.preWindow ? [context.preWindow] : [];
  if (!isDict(value)) {
    const commands = value === null ? [] : source.commandList(value, here);
    return { name: windowName, panes: [pane(joinCommands([...prefix, ...commands]))] };
  }
  source.unknownKeys(value, here, new Set(['layout', 'panes', 'root', 'pre', 'synchronize']), 'tmuxinator window');
  const layout = optionalString(source, value, [...here, 'layout']);
  const rootValue = optionalString(source, value, [...here, 'root']);
  // tmuxinator expands a window's root on its own (against the folder it runs in); ours is relative to the profile's root.
  const cwd =
    rootValue === undefined ? undefined : path.isAbsolute(rootValue) || rootValue.startsWith('~') ? rootValue : relativeFolder(context.rootAbsolute, path.resolve(context.folder, rootValue));
  const pre = value.pre === undefined || value.pre === null ? [] : [joinCommands(source.commandList(value.pre, [...here, 'pre']))!];
  if (value.synchronize !== undefined && value.synchronize !== false) {
    source.warn([...here, 'synchronize'], 'no equivalent: profiles do not turn on synchronize-panes; with it, tmuxinator typed the same keys into every pane');
  }
  const paneList = value.panes;
  let panes: DraftPane[];
  if (paneList === undefined || paneList === null) {
    panes = [pane(joinCommands(prefix))];
  } else if (!Array.isArray(paneList)) {
    source.fail([...here, 'panes'], 'panes must be a list: "- command", "- [command, command]" or "- title: command"');
  } else {
    panes = paneList.map((entry, p) => {
      const at = [...here, 'panes', p];
      let commands: string[] = [];
      if (isDict(entry)) {
        const [title, ...rest] = Object.keys(entry);
        for (const key of rest) source.warn([...at, key], `ignored: tmuxinator reads only the first key of a pane ("${title}")`);
        if (title !== undefined) {
          source.warn([...at, title], `no equivalent for the pane title "${title}": a pane with a name is a supervised service in a profile, so the title is left out`);
          commands = entry[title] === null ? [] : source.commandList(entry[title], [...at, title]);
        }
      } else if (entry !== null) {
        commands = source.commandList(entry, at);
      }
      return pane(joinCommands([...prefix, ...pre, ...commands]));
    });
    if (panes!.length === 0) panes = [pane(joinCommands(prefix))];
  }
  return {
    name: windowName,
    ...(layout === undefined ? {} : { layout }),
    panes: panes!.map((entry) => (cwd === undefined ? entry : { ...entry, cwd })),
  };
}

function defaultTmuxinatorName(file: string): string | undefined {
  const base = path.basename(file).replace(/\.ya?ml$/, '');
  return base.startsWith('.') ? undefined : base;
}

function hookOf(source: Source, top: Dict, key: string, note: string | undefined): string[] {
  const value = top[key];
  if (value === undefined || value === null) return [];
  if (note) source.warn([key], note);
  const commands = source.commandList(value, [key]);
  return commands.length > 0 ? [joinCommands(commands)!] : [];
}

// ---- tmuxp ---------------------------------------------------------------------------------

const TMUXP_TOP = new Set(['session_name', 'start_directory', 'before_script', 'shell_command_before', 'environment', 'global_options', 'options', 'windows', 'suppress_history', 'plugins']);
const TMUXP_WINDOW = new Set([
  'window_name', 'layout', 'focus', 'start_directory', 'shell_command_before', 'environment', 'options', 'options_after', 'window_shell', 'window_index', 'suppress_history', 'panes',
]);
const TMUXP_PANE = new Set(['shell_command', 'shell_command_before', 'start_directory', 'focus', 'environment', 'shell', 'sleep_before', 'sleep_after', 'suppress_history', 'enter']);

function fromTmuxp(source: Source): ProfileFile {
  const top = source.rootMap();
  source.unknownKeys(top, [], TMUXP_TOP, 'tmuxp');
  const session = source.sessionName(top.session_name, ['session_name'], undefined);
  const root = optionalString(source, top, ['start_directory']);
  if (root !== undefined) source.noVariables(root, ['start_directory']);
  const env = source.environment(top.environment, ['environment']);
  const onStart = top.before_script === undefined || top.before_script === null ? undefined : String(top.before_script);
  if (onStart !== undefined) source.warn(['before_script'], 'runs as the onStart hook, after Up built the session; tmuxp ran it before and stopped when it failed');
  source.options(top.global_options, ['global_options'], 'a global option');
  source.options(top.options, ['options'], 'a session option');
  if (top.plugins !== undefined) source.warn(['plugins'], 'no equivalent: tmuxp plugins are Python code that runs while tmuxp builds the session');
  suppressHistory(source, top, []);
  const sessionBefore = tmuxpCommands(source, top.shell_command_before, ['shell_command_before']);

  const list = top.windows;
  if (!Array.isArray(list) || list.length === 0) source.fail(['windows'], '"windows" must be a list with at least one window, like "- window_name: editor"');
  const windows = (list as Json[]).map((item, w): DraftWindow => {
    const where: Where = ['windows', w];
    if (!isDict(item)) source.fail(where, 'a window is a map with window_name and panes');
    const window = item as Dict;
    source.unknownKeys(window, where, TMUXP_WINDOW, 'tmuxp window');
    const name = window.window_name === undefined || window.window_name === null ? undefined : String(window.window_name);
    if (name === undefined) source.warn(where, `no window_name: tmux names such a window after its program; here it is named "${w + 1}"`);
    const layout = optionalString(source, window, [...where, 'layout']);
    const windowFolder = optionalString(source, window, [...where, 'start_directory']);
    if (windowFolder !== undefined) source.noVariables(windowFolder, [...where, 'start_directory']);
    const windowEnv = source.environment(window.environment, [...where, 'environment']);
    const windowBefore = tmuxpCommands(source, window.shell_command_before, [...where, 'shell_command_before']);
    const windowShell = optionalString(source, window, [...where, 'window_shell']);
    source.options(window.options, [...where, 'options'], 'a window option');
    source.options(window.options_after, [...where, 'options_after'], 'a window option tmuxp set after typing the commands');
    if (window.window_index !== undefined) source.warn([...where, 'window_index'], 'no equivalent: windows are made in the order they are listed');
    suppressHistory(source, window, where);

    const paneList = window.panes === undefined || window.panes === null ? [null] : window.panes;
    if (!Array.isArray(paneList)) source.fail([...where, 'panes'], 'panes must be a list: "- command", "- [command, command]" or "- shell_command: …"');
    const panes = (paneList as Json[]).map((entry, p): DraftPane => {
      const at: Where = [...where, 'panes', p];
      let typed: string[];
      let paneFolder: string | undefined;
      let paneEnv: Record<string, string> | undefined;
      let paneShell: string | undefined;
      let focus = false;
      let before: string[] = [];
      if (isDict(entry)) {
        source.unknownKeys(entry, at, TMUXP_PANE, 'tmuxp pane');
        typed = tmuxpCommands(source, entry.shell_command, [...at, 'shell_command'], { sleepBefore: entry.sleep_before, sleepAfter: entry.sleep_after, enter: entry.enter, where: at });
        before = tmuxpCommands(source, entry.shell_command_before, [...at, 'shell_command_before']);
        paneFolder = optionalString(source, entry, [...at, 'start_directory']);
        if (paneFolder !== undefined) source.noVariables(paneFolder, [...at, 'start_directory']);
        paneEnv = source.environment(entry.environment, [...at, 'environment']);
        paneShell = optionalString(source, entry, [...at, 'shell']);
        focus = entry.focus === true;
        suppressHistory(source, entry, at);
      } else {
        typed = tmuxpCommands(source, entry, at);
      }
      const program = paneShell ?? windowShell;
      const programKey = paneShell !== undefined ? [...at, 'shell'] : [...where, 'window_shell'];
      let command = joinCommands([...sessionBefore, ...windowBefore, ...before, ...typed]);
      if (program !== undefined && typed.length === 0) {
        // tmuxp typed the commands-before into the program itself, where a shell command means nothing.
        if (command !== undefined) source.warn(programKey, `tmuxp typed the shell_command_before lines into "${program}" in pane ${p}; here the pane runs only "${program}"`);
        command = program;
      } else if (program !== undefined) {
        source.warn(programKey, `tmuxp typed pane ${p}'s commands into "${program}"; here they run as the pane's command instead of it`);
      }
      // tmuxp gives a pane its own environment or else its window's, never both.
      const environment = paneEnv ?? windowEnv;
      const cwd = paneFolder !== undefined ? joinFolder(windowFolder, paneFolder) : windowFolder;
      return {
        ...(command === undefined ? {} : { command }),
        ...(cwd === undefined ? {} : { cwd }),
        ...(environment && Object.keys(environment).length > 0 ? { env: environment } : {}),
        ...(focus ? { focus } : {}),
      };
    });
    if (panes.filter((entry) => entry.focus).length > 1) {
      source.warn([...where, 'panes'], 'more than one pane has focus: true; the last one is selected, as in tmuxp');
      const last = panes.map((entry) => entry.focus === true).lastIndexOf(true);
      panes.forEach((entry, p) => {
        if (p !== last) delete entry.focus;
      });
    }
    return { name: name ?? String(w + 1), ...(layout === undefined ? {} : { layout }), ...(window.focus === true ? { focus: true } : {}), panes };
  });
  if (windows.filter((window) => window.focus).length > 1) {
    source.warn(['windows'], 'more than one window has focus: true; the last one is selected, as in tmuxp');
    const last = windows.map((window) => window.focus === true).lastIndexOf(true);
    windows.forEach((window, w) => {
      if (w !== last) delete window.focus;
    });
  }
  uniqueWindowNames(source, windows, 'windows');
  return finish({ session, root, env, onStart, onStop: undefined, windows });
}

/** A tmuxp command list in any of its forms: a string, a list of strings, or of `{cmd, enter, sleep_before, sleep_after}`. */
function tmuxpCommands(source: Source, value: Json | undefined, where: Where, pane?: { sleepBefore: Json | undefined; sleepAfter: Json | undefined; enter: Json | undefined; where: Where }): string[] {
  if (value === undefined || value === null) return [];
  const items = typeof value === 'string' || typeof value === 'number' ? [value] : value;
  if (!Array.isArray(items)) source.fail(where, 'commands are a string, or a list of strings or of "cmd:" entries');
  if (items.length === 1 && (items[0] === 'blank' || items[0] === 'pane' || items[0] === null)) return [];
  const commands: string[] = [];
  (items as Json[]).forEach((item, i) => {
    const at = typeof value === 'string' ? where : [...where, i];
    const entry = isDict(item) ? item : { cmd: item };
    if (isDict(item)) source.unknownKeys(item, at, new Set(['cmd', 'enter', 'sleep_before', 'sleep_after']), 'tmuxp command');
    if (entry.cmd === undefined || entry.cmd === null || entry.cmd === '') return;
    const enter = entry.enter ?? pane?.enter;
    if (enter === false) {
      source.warn(entry.enter !== undefined ? [...at, 'enter'] : [...pane!.where, 'enter'], `"${String(entry.cmd)}" was typed without Enter by tmuxp (left for you to run); profiles do not type, so it is left out`);
      return;
    }
    const sleepBefore = entry.sleep_before ?? pane?.sleepBefore;
    if (typeof sleepBefore === 'number' && sleepBefore > 0) commands.push(`sleep ${sleepBefore}`);
    commands.push(String(entry.cmd));
    const sleepAfter = entry.sleep_after ?? pane?.sleepAfter;
    if (sleepAfter !== undefined && sleepAfter !== null) {
      source.warn(entry.sleep_after !== undefined ? [...at, 'sleep_after'] : [...pane!.where, 'sleep_after'], 'no equivalent: tmuxp waited before typing the next command or making the next pane; here panes do not wait for each other');
    }
  });
  return commands;
}

function suppressHistory(source: Source, map: Dict, where: Where): void {
  if (map.suppress_history === false) source.warn([...where, 'suppress_history'], 'no equivalent: commands run as the pane\'s program and are never typed, so they do not reach the shell\'s history');
}

// ---- shared --------------------------------------------------------------------------------

function finish(parts: { session?: string; root?: string; env?: Record<string, string>; onStart?: string; onStop?: string; windows: DraftWindow[] }): ProfileFile {
  const hooks = { ...(parts.onStart ? { onStart: parts.onStart } : {}), ...(parts.onStop ? { onStop: parts.onStop } : {}) };
  return {
    ...(parts.session === undefined ? {} : { session: parts.session }),
    ...(parts.root === undefined ? {} : { root: parts.root }),
    ...(parts.env && Object.keys(parts.env).length > 0 ? { env: parts.env } : {}),
    ...(Object.keys(hooks).length > 0 ? { hooks } : {}),
    windows: parts.windows.map((window) => ({
      name: window.name,
      ...(window.layout === undefined ? {} : { layout: window.layout }),
      ...(window.focus ? { focus: true } : {}),
      panes: window.panes.map((entry) => ({ ...entry })),
    })),
  };
}

function uniqueWindowNames(source: Source, windows: DraftWindow[], listKey: string): void {
  const taken = new Set<string>();
  windows.forEach((window, w) => {
    const problem = windowNameProblem(window.name);
    if (problem) {
      const renamed = window.name.replace(/[\u0000-\u001f\u007f\\$]/g, '-').slice(0, 200) || String(w + 1);
      source.warn([listKey, w], `window "${window.name}" renamed "${renamed}": ${problem}`);
      window.name = renamed;
    }
    if (taken.has(window.name)) {
      let n = 2;
      while (taken.has(`${window.name}-${n}`)) n++;
      source.warn([listKey, w], `a second window named "${window.name}" is named "${window.name}-${n}": a profile tells its windows apart by name`);
      window.name = `${window.name}-${n}`;
    }
    taken.add(window.name);
  });
}

function pane(command: string | undefined): DraftPane {
  return command === undefined ? {} : { command };
}

/** Lines the tool typed one after another, as one command: each runs only when the one before succeeded. */
function joinCommands(commands: readonly string[]): string | undefined {
  const present = commands.map((command) => command.trim()).filter((command) => command.length > 0);
  return present.length === 0 ? undefined : present.join(' && ');
}

function optionalString(source: Source, map: Dict, where: Where): string | undefined {
  const value = map[where[where.length - 1]];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object') source.fail(where, 'must be a single value, not a list or a map');
  return String(value);
}

function isDict(value: Json | undefined): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expandHome(folder: string): string {
  return folder === '~' || folder.startsWith('~/') ? path.join(os.homedir(), folder.slice(1)) : folder;
}

function relativeFolder(from: string, to: string): string {
  return path.relative(from, to) || '.';
}

function joinFolder(parent: string | undefined, child: string): string {
  if (parent === undefined || child.startsWith('/') || child.startsWith('~')) return child;
  return path.posix.join(parent, child);
}

/** The parsed file with the place of every key, and the warnings gathered while reading it. */
class Source {
  readonly warnings: ImportWarning[] = [];
  private readonly doc: Document;
  private readonly lines: InstanceType<ReturnType<typeof profileLibraries>['LineCounter']>;
  private readonly value: Json;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    const { parseDocument, LineCounter } = profileLibraries();
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    if (this.doc.errors.length > 0) {
      throw new ProfileError(
        file,
        this.doc.errors.map((error) => ({ ...this.position(error.pos[0]), message: `not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` })),
      );
    }
    this.value = this.doc.toJS() as Json;
  }

  position(offset: number): { line: number; column: number } {
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  rootMap(): Dict {
    if (this.value === null || this.value === undefined) throw new ProfileError(this.file, [{ line: 1, column: 1, message: 'the file is empty; a project file needs its windows' }]);
    if (!isDict(this.value)) this.fail([], 'the file must be a map of keys (session name, windows…), not a list or a single value');
    return this.value as Dict;
  }

  warn(where: Where, message: string): void {
    this.warnAt(this.locate(where), describe(where), message);
  }

  warnAt(at: { line: number; column: number }, key: string, message: string): void {
    this.warnings.push({ file: this.file, ...at, key, message });
  }

  fail(where: Where, message: string): never {
    const issue: ProfileIssue = { ...this.locate(where), message: `${describe(where)}: ${message}` };
    throw new ProfileError(this.file, [issue]);
  }

  unknownKeys(map: Dict, where: Where, known: ReadonlySet<string>, what: string): void {
    for (const key of Object.keys(map)) if (!known.has(key)) this.warn([...where, key], `not a ${what} key this import knows; it is left out`);
  }

  /** A command list as tmuxinator writes one: a string, a number, or a list of them. */
  commandList(value: Json, where: Where): string[] {
    if (value === null) return [];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return [String(value)];
    if (Array.isArray(value)) {
      return value.flatMap((item, i) => {
        if (item === null) return [];
        if (typeof item === 'object') this.fail([...where, i], 'a command must be a string');
        return [String(item)];
      });
    }
    this.fail(where, 'commands are a string or a list of strings');
  }

  sessionName(value: Json | undefined, where: Where, fallback: string | undefined): string | undefined {
    const name = value === undefined || value === null ? fallback : String(value);
    if (name === undefined) return undefined;
    const problem = sessionNameProblem(name);
    if (!problem) return name;
    const renamed = suggestSessionName(name);
    this.warn(value === undefined || value === null ? [] : where, `session "${name}" is named "${renamed}": ${problem}`);
    return renamed;
  }

  environment(value: Json | undefined, where: Where): Record<string, string> | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isDict(value)) this.fail(where, 'environment is a map of NAME: value');
    const entries = Object.entries(value).map(([name, entry]) => [name, entry === null ? '' : String(entry)] as const);
    for (const [name, entry] of entries) {
      if (/\$\{?[A-Za-z_]|^~|^\.\.?\//.test(entry)) this.warn([...where, name], `"${entry}" is set as written: tmuxp expanded ~, $VARIABLES and ./ folders in environment values, a profile does not`);
    }
    return Object.fromEntries(entries);
  }

  options(value: Json | undefined, where: Where, what: string): void {
    if (value === undefined || value === null) return;
    if (!isDict(value)) {
      this.warn(where, 'no equivalent: profiles do not set tmux options');
      return;
    }
    for (const [option, setting] of Object.entries(value)) {
      this.warn([...where, option], `no equivalent: profiles do not set tmux options (${what}); put "${option} ${String(setting)}" in tmux.conf if you want it`);
    }
  }

  noVariables(folder: string, where: Where): void {
    if (/\$\{?[A-Za-z_]/.test(folder)) this.warn(where, `"${folder}": environment variables in folders are not expanded here, as tmuxp did`);
  }

  /** The key at `where` (its name's place), or the nearest part of the path that exists. */
  private locate(where: Where): { line: number; column: number } {
    const { isMap, isScalar } = profileLibraries();
    for (let depth = where.length; depth > 0; depth--) {
      const parent = this.doc.getIn(where.slice(0, depth - 1), true) as YamlNode | undefined;
      const last = where[depth - 1];
      if (isMap(parent) && typeof last === 'string') {
        const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === last);
        if (pair && isScalar(pair.key) && pair.key.range) return this.position(pair.key.range[0]);
      }
      const node = this.doc.getIn(where.slice(0, depth), true) as YamlNode | undefined;
      if (node?.range) return this.position(node.range[0]);
    }
    const root = this.doc.contents as YamlNode | null;
    return root?.range ? this.position(root.range[0]) : { line: 1, column: 1 };
  }
}

function describe(where: Where): string {
  if (where.length === 0) return '(top level)';
  let text = '';
  for (const part of where) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part;
  return text;
}
