import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Runner } from '../../tmux/commands';
import { NoServerError, TargetNotFoundError, TmuxError } from '../../tmux/errors';
import { Session } from '../../tmux/model';
import { suggestSessionName } from '../../tmux/names';
import { shellQuote } from '../output/paneOutput';
import { captureSessions } from '../snapshots/capture';
import { SnapshotEntry, SnapshotStore } from '../snapshots/store';
import { Profile } from './parse';
import { PROFILE_OPTION, ProfileHost, ProfileRuntime, runHook, SessionTakenError } from './runtime';

/** Session user option naming the folder a project session was made for. */
export const PROJECT_OPTION = '@tsm-project';
/** What the built-in template runs beside its shell when the setting is empty. */
export const DEFAULT_AGENT_COMMAND = 'claude';
/** Recently used projects kept; older ones drop off the end. */
export const RECENT_PROJECTS_KEPT = 20;

/** A folder the user can switch to, and why it is offered. */
export interface ProjectChoice {
  readonly folder: string;
  readonly sources: readonly ('workspace' | 'setting' | 'recent')[];
  /** The project the current session belongs to. */
  readonly current: boolean;
}

/** `~` and `~/…` in a configured path are the home folder. */
export function expandHome(folder: string, home = os.homedir()): string {
  if (folder === '~') return home;
  if (folder.startsWith('~/')) return path.join(home, folder.slice(2));
  return folder;
}

/** The recent list with `folder` in front: most recent first, each folder once, at most RECENT_PROJECTS_KEPT. */
export function rememberProject(recent: readonly string[], folder: string): string[] {
  const resolved = path.resolve(folder);
  return [resolved, ...recent.filter((known) => path.resolve(known) !== resolved)].slice(0, RECENT_PROJECTS_KEPT);
}

/**
 * What Switch Project offers: the workspace folders, then the configured projects, then the
 * recent ones (most recent first), each folder once with every reason it is there.
 */
export function projectChoices(workspace: readonly string[], configured: readonly string[], recent: readonly string[], currentFolder?: string): ProjectChoice[] {
  const byFolder = new Map<string, Set<ProjectChoice['sources'][number]>>();
  const add = (folder: string, source: ProjectChoice['sources'][number]) => {
    const resolved = path.resolve(expandHome(folder));
    if (!byFolder.has(resolved)) byFolder.set(resolved, new Set());
    byFolder.get(resolved)!.add(source);
  };
  workspace.forEach((folder) => add(folder, 'workspace'));
  configured.filter((folder) => folder.trim() !== '').forEach((folder) => add(folder, 'setting'));
  recent.forEach((folder) => add(folder, 'recent'));
  const current = currentFolder === undefined ? undefined : path.resolve(currentFolder);
  return [...byFolder].map(([folder, sources]) => ({ folder, sources: [...sources], current: folder === current }));
}

/** `<prefix><folder name>`, made a name tmux keeps as it is (no `.`, `:`, control characters…). */
export function projectSessionName(prefix: string, folder: string): string {
  return suggestSessionName(`${prefix}${path.basename(path.resolve(folder))}`);
}

/**
 * The profile file of a folder: the first of `globs` that names a file at the folder's root. A
 * glob may use `*` and `?` within the name (a project outside the workspace has no file search).
 */
export function findProfileIn(folder: string, globs: readonly string[]): string | undefined {
  let names: string[] | undefined;
  for (const glob of globs) {
    if (!/[*?]/.test(glob)) {
      const file = path.join(folder, glob);
      if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
      continue;
    }
    names ??= safeReaddir(folder);
    const pattern = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    const found = names.find((name) => pattern.test(name));
    if (found) return path.join(folder, found);
  }
  return undefined;
}

function safeReaddir(folder: string): string[] {
  try {
    return fs.readdirSync(folder).sort();
  } catch {
    return [];
  }
}

/** The switch would start the template's program or run hooks, and the workspace is not trusted. */
export class UntrustedProjectError extends Error {
  constructor(folder: string, what: string) {
    super(`Switching to ${folder} would run ${what}, and this workspace is not trusted: nothing was started. Trust the folder (Manage Workspace Trust) to build its session.`);
    this.name = 'UntrustedProjectError';
  }
}

/** What switching needs from its surroundings. */
export interface ProjectHost {
  readonly run: Runner;
  /** Runs the command that makes a session, starting the server when none runs (default: run). */
  readonly runStartingServer?: Runner;
  /** The sessions as tmux lists them now (a save captures what is there at this moment). */
  readonly sessions: () => Promise<readonly Session[]>;
  /** The folder's profile, checked; undefined when it has none. A bad profile throws its ProfileError. */
  readonly profileOf: (folder: string) => Promise<Profile | undefined>;
  /** What Up needs, for a project with a profile. */
  readonly profileHost: () => ProfileHost;
  readonly store: SnapshotStore;
  readonly scrollbackLines: number;
  /** Autosaves kept per session: a save on switching is one of them. */
  readonly autosaveKeep: number;
  readonly tmuxVersion: string;
  /** False in an untrusted workspace: no template, no hooks. */
  readonly mayRunCommands: () => boolean;
  readonly log?: (line: string) => void;
}

export interface SwitchRequest {
  readonly folder: string;
  readonly prefix: string;
  /** The template's agent command (empty: DEFAULT_AGENT_COMMAND). */
  readonly agentCommand: string;
  /** The session being left: the one in the current tmux terminal, or the last one switched to. */
  readonly leaving?: string;
}

export interface SwitchResult {
  readonly session: string;
  readonly sessionId: string;
  /** What made the session in this switch; `attached` when it already ran (or another switch built it first). */
  readonly how: 'profile' | 'template' | 'attached';
  /** The snapshot of the session that was left. */
  readonly saved?: SnapshotEntry;
  /** A runtime when this switch brought the project's profile up; the caller owns it. */
  readonly runtime?: ProfileRuntime;
  /** Things the user should hear about that did not stop the switch (a hook that failed or was not run, a save that failed). */
  readonly warnings: readonly string[];
}

/**
 * Switches between project sessions: saves the one being left, runs the hooks around the switch,
 * and creates the project's session unless it runs. One switcher per window: a second switch to a
 * session that is still being built waits for the first; a switch in another window that loses
 * the race to create the session attaches to the winner's (tmux refuses a duplicate name), so a
 * session is never built twice.
 */
export class ProjectSwitcher {
  private readonly building = new Map<string, Promise<SwitchResult>>();

  constructor(private readonly host: ProjectHost) {}

  async switchTo(request: SwitchRequest): Promise<SwitchResult> {
    const folder = path.resolve(expandHome(request.folder));
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new Error(`${folder} is not a folder: remove it from tmuxSessionManager.projects, or create it.`);
    const profile = await this.host.profileOf(folder);
    const session = profile?.session ?? projectSessionName(request.prefix, folder);
    const warnings: string[] = [];
    const trusted = this.host.mayRunCommands();

    let saved: SnapshotEntry | undefined;
    if (request.leaving !== undefined && request.leaving !== session) {
      const leavingProfile = await this.profileOfSession(request.leaving);
      if (leavingProfile?.hooks.beforeSwitch) await this.hook(leavingProfile, 'beforeSwitch', trusted, warnings);
      saved = await this.save(request.leaving, warnings);
    }

    // Same window, same session still being built (a double click): wait for that one.
    const key = session;
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.createOrAttach(folder, session, profile, request, trusted).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    const made = await pending;
    if (profile?.hooks.afterSwitch) await this.hook(profile, 'afterSwitch', trusted, warnings);
    return { ...made, saved, warnings: [...warnings, ...made.warnings] };
  }

  private async createOrAttach(folder: string, session: string, profile: Profile | undefined, request: SwitchRequest, trusted: boolean): Promise<SwitchResult> {
    const running = await this.sessionIdOf(session);
    if (running) return { session, sessionId: running, how: 'attached', warnings: [] };
    if (!trusted) throw new UntrustedProjectError(folder, profile ? `the services of ${path.basename(profile.file)}` : `\`${agentCommandOf(request)}\``);
    try {
      if (profile) {
        const runtime = await ProfileRuntime.up(this.host.profileHost(), profile);
        await this.host.run(['set-option', '-t', runtime.sessionId, PROJECT_OPTION, folder]);
        return { session, sessionId: runtime.sessionId, how: 'profile', runtime, warnings: [] };
      }
      return { session, sessionId: await this.buildTemplate(folder, session, agentCommandOf(request)), how: 'template', warnings: [] };
    } catch (error) {
      // Another window made it between our look and our new-session (or is still marking it as
      // its profile's): that one is the project's session.
      if (!isDuplicateSession(error) && !(error instanceof SessionTakenError)) throw error;
      const winner = await this.sessionIdOf(session);
      if (!winner) throw error;
      return { session, sessionId: winner, how: 'attached', warnings: [] };
    }
  }

  /** An agent pane of 90% width running the agent command through the login shell, beside a shell. */
  private async buildTemplate(folder: string, session: string, agentCommand: string): Promise<string> {
    const shell = '"${SHELL:-/bin/sh}"';
    // A shell after the agent exits, so the pane stays usable and its output readable.
    const agent = `${shell} -lc ${shellQuote(agentCommand)}; exec ${shell} -l`;
    const start = this.host.runStartingServer ?? this.host.run;
    const [line] = await start(['new-session', '-d', '-s', session, '-n', 'agent', '-c', folder, '-x', '200', '-y', '50', '-P', '-F', '#{session_id} #{pane_id}', agent]);
    const [sessionId, agentPane] = line.split(' ');
    try {
      await this.host.run(['set-option', '-t', sessionId, PROJECT_OPTION, folder]);
      await this.host.run(['split-window', '-d', '-h', '-l', '10%', '-t', agentPane, '-c', folder]);
      await this.host.run(['select-pane', '-t', agentPane]);
    } catch (error) {
      await this.host.run(['kill-session', '-t', sessionId]).catch(() => undefined);
      throw error;
    }
    return sessionId;
  }

  private async save(sessionName: string, warnings: string[]): Promise<SnapshotEntry | undefined> {
    try {
      const entries = await this.host.store.withLock('save', async () => {
        const sessions = (await this.host.sessions()).filter((session) => session.name === sessionName);
        if (sessions.length === 0) return [];
        const snapshots = await captureSessions(this.host.run, sessions, { kind: 'auto', scrollbackLines: this.host.scrollbackLines, tmuxVersion: this.host.tmuxVersion });
        return this.host.store.saveMany(snapshots);
      });
      if (entries.length > 0) await this.host.store.prune(sessionName, this.host.autosaveKeep);
      return entries[0];
    } catch (error) {
      warnings.push(`Session "${sessionName}" was not saved before switching: ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * The profile of the project a session was made for, when it has one: the folder a switch
   * marked it with, else the folder of the profile that Up built it from.
   */
  private async profileOfSession(sessionName: string): Promise<Profile | undefined> {
    const id = await this.sessionIdOf(sessionName);
    if (!id) return undefined;
    const option = async (name: string) => (await this.host.run(['show-options', '-v', '-q', '-t', id, name]).catch(() => ['']))[0] ?? '';
    const folder = (await option(PROJECT_OPTION)) || path.dirname((await option(PROFILE_OPTION)) || '.');
    if (folder === '.') return undefined;
    // A profile that no longer parses has no hook to run; the switch goes on.
    return this.host.profileOf(folder).catch(() => undefined);
  }

  private async hook(profile: Profile, which: 'beforeSwitch' | 'afterSwitch', trusted: boolean, warnings: string[]): Promise<void> {
    if (!trusted) {
      warnings.push(`The ${which} hook of ${profile.file} was not run: this workspace is not trusted.`);
      return;
    }
    try {
      await runHook(profile.hooks[which]!, profile, which, this.host.log);
    } catch (error) {
      warnings.push((error as Error).message);
    }
  }

  private async sessionIdOf(name: string): Promise<string | undefined> {
    let lines: string[];
    try {
      lines = await this.host.run(['list-sessions', '-F', '#{session_id}\t#{session_name}']);
    } catch (error) {
      // No server yet: no session either (the switch starts the server with the session).
      if (error instanceof NoServerError || error instanceof TargetNotFoundError) return undefined;
      throw error;
    }
    for (const line of lines) {
      const tab = line.indexOf('\t');
      if (line.slice(tab + 1) === name) return line.slice(0, tab);
    }
    return undefined;
  }
}

function agentCommandOf(request: SwitchRequest): string {
  return request.agentCommand.trim() || DEFAULT_AGENT_COMMAND;
}

function isDuplicateSession(error: unknown): boolean {
  return error instanceof TmuxError && /duplicate session/i.test(error.stderr);
}
