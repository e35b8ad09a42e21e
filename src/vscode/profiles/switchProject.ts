import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseProfile } from '../../core/profiles/parse';
import { findProfileIn, PROJECT_OPTION, projectChoices, ProjectSwitcher, rememberProject, SwitchResult, UntrustedProjectError } from '../../core/profiles/projects';
import { ExtensionContextServices } from '../context';
import { tildePath } from '../format';
import { Cancelled } from '../pick';
import { profileController } from './controller';

/** globalState keys: shared by every window of this VS Code. */
const RECENT_KEY = 'tmuxSessionManager.recentProjects';
const LAST_SESSION_KEY = 'tmuxSessionManager.lastProjectSession';

export interface SwitchProjectArgs {
  /** The project folder, instead of the pick (scripts and tests). */
  readonly folder?: string;
}

const switchers = new WeakMap<ExtensionContextServices, ProjectSwitcher>();

/** One switcher per window, so a double click waits for the build under way instead of starting another. */
function switcherOf(ctx: ExtensionContextServices): ProjectSwitcher {
  let switcher = switchers.get(ctx);
  if (!switcher) {
    switcher = new ProjectSwitcher({
      run: (argv) => ctx.service().run(argv),
      runStartingServer: (argv) => ctx.service().runStartingServer(argv),
      sessions: async () => (await ctx.service().refresh()).sessions,
      profileOf: async (folder) => {
        const globs = vscode.workspace.getConfiguration('tmuxSessionManager').get<string[]>('profileFiles', ['.tmux-session.yaml']);
        const file = findProfileIn(folder, globs);
        if (!file) return undefined;
        return parseProfile(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(file))).toString('utf8'), file);
      },
      // The window's own host, lease included: the session it builds is supervised by this window only.
      profileHost: () => profileController(ctx).host(),
      get store() {
        return ctx.store();
      },
      get scrollbackLines() {
        return ctx.settings().scrollbackLines;
      },
      get autosaveKeep() {
        return ctx.settings().autosaveKeep;
      },
      get tmuxVersion() {
        return ctx.service().getStats().version?.text ?? 'unknown';
      },
      mayRunCommands: () => vscode.workspace.isTrusted,
      log: (line) => ctx.log.info(line),
    });
    switchers.set(ctx, switcher);
  }
  return switcher;
}

/**
 * Tmux: Switch Project…: picks a project (workspace folders, tmuxSessionManager.projects, recent
 * ones), saves the session being left, creates or finds the project's session and shows it in its
 * terminal.
 */
export async function switchProject(ctx: ExtensionContextServices, args: SwitchProjectArgs = {}): Promise<SwitchResult> {
  const config = vscode.workspace.getConfiguration('tmuxSessionManager');
  const recent = ctx.extension.globalState.get<string[]>(RECENT_KEY, []);
  const leaving = leavingSession(ctx);
  const folder = args.folder ?? (await pickProject(ctx, config.get<string[]>('projects', []), recent, leaving));

  let result: SwitchResult;
  try {
    result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tmux: switching to ${path.basename(folder)}` }, () =>
      switcherOf(ctx).switchTo({
        folder,
        prefix: config.get<string>('projectSessionPrefix', ''),
        agentCommand: config.get<string>('projectAgentCommand', 'claude'),
        leaving,
      }),
    );
  } catch (error) {
    if (error instanceof UntrustedProjectError) {
      offerTrust(error.message);
      throw new Cancelled();
    }
    throw error;
  }

  await ctx.extension.globalState.update(RECENT_KEY, rememberProject(recent, folder));
  await ctx.extension.globalState.update(LAST_SESSION_KEY, result.session);
  if (result.saved) ctx.snapshotTree.refresh();
  if (result.runtime) profileController(ctx).adopt(result.runtime);
  for (const warning of result.warnings) ctx.log.warn(warning);
  if (result.warnings.length > 0) {
    if (!vscode.workspace.isTrusted) offerTrust(result.warnings.join(' '));
    else void vscode.window.showWarningMessage(result.warnings.join(' '));
  }
  ctx.log.info(`switched to project ${folder}: session "${result.session}" (${result.how})${result.saved ? `, saved "${result.saved.sessionName}"` : ''}`);

  const session = (await ctx.service().refresh()).sessions.find((candidate) => candidate.id === result.sessionId);
  if (session) await inFront(ctx.terminals.attach(ctx.service().address, session));
  return result;
}

/**
 * Waits (a second at most) until the terminal shown is the active one: the next switch reads the
 * session it leaves from the terminal in front, and the workbench reports a change of terminal late.
 */
async function inFront(terminal: vscode.Terminal): Promise<void> {
  if (vscode.window.activeTerminal === terminal) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, 1000);
    const subscription = vscode.window.onDidChangeActiveTerminal((active) => {
      if (active === terminal) done();
    });
    function done(): void {
      clearTimeout(timer);
      subscription.dispose();
      resolve();
    }
  });
}

function offerTrust(message: string): void {
  void vscode.window.showWarningMessage(message, 'Manage Workspace Trust').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
}

/** The session in the tmux terminal in front, else the one this VS Code last switched to (if it still runs). */
function leavingSession(ctx: ExtensionContextServices): string | undefined {
  const sessions = ctx.service().tree.sessions;
  const active = vscode.window.activeTerminal;
  const inFront = active && sessions.find((session) => ctx.terminals.terminalFor(session.id) === active);
  if (inFront) return inFront.name;
  const last = ctx.extension.globalState.get<string>(LAST_SESSION_KEY);
  return last !== undefined && sessions.some((session) => session.name === last) ? last : undefined;
}

async function pickProject(ctx: ExtensionContextServices, configured: readonly string[], recent: readonly string[], leaving: string | undefined): Promise<string> {
  const currentFolder = leaving === undefined ? undefined : await projectFolderOf(ctx, leaving);
  const workspace = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file').map((folder) => folder.uri.fsPath);
  const choices = projectChoices(workspace, configured, recent, currentFolder);
  if (choices.length === 0) throw new Error('There is no project to switch to: open a folder, or list project folders in the setting tmuxSessionManager.projects.');
  const why = { workspace: 'workspace', setting: 'configured', recent: 'recent' } as const;
  const picked = await vscode.window.showQuickPick(
    choices.map((choice) => ({
      label: `${choice.current ? '$(check) ' : ''}${path.basename(choice.folder) || choice.folder}`,
      description: `${tildePath(choice.folder)}${choice.current ? ' · current' : ''}`,
      detail: choice.sources.map((source) => why[source]).join(' · '),
      folder: choice.folder,
    })),
    { title: 'Tmux: Switch Project', placeHolder: 'Switch to which project? (its session is created when it does not run)', matchOnDescription: true },
  );
  if (!picked) throw new Cancelled();
  return picked.folder;
}

async function projectFolderOf(ctx: ExtensionContextServices, sessionName: string): Promise<string | undefined> {
  const session = ctx.service().tree.sessions.find((candidate) => candidate.name === sessionName);
  if (!session) return undefined;
  const [folder = ''] = await ctx.service().run(['show-options', '-v', '-q', '-t', session.id, PROJECT_OPTION]).catch(() => ['']);
  return folder || undefined;
}
