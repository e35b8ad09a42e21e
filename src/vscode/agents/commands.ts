import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { AgentCleanupCandidate, AgentCleanupOutcome, AgentFleet, AgentInfo, FinishResult, SpawnResult, SpawnTask, WorktreeChoice } from '../../core/agents/fleet';
import { BUILT_IN_KIND_NAMES } from '../../core/agents/kinds';
import type { SendResult } from '../../core/agents/send';
import { ExtensionContextServices } from '../context';
import { Cancelled } from '../pick';
import { AgentsController } from './controller';
import { candidateKey, candidateLabel, oneLine, parseTasks, stateText } from './describe';
import { AGENTS_VIEW_ID } from './view';

type Handler = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What scripts and tests pass to Spawn Agents to skip its questions (each one left out is asked). */
export interface SpawnArgs {
  readonly kind?: string;
  /** Task names, or the text a user would type ("fix-login, add-tests" or "3"). */
  readonly tasks?: readonly string[] | string;
  readonly folder?: string;
  readonly worktrees?: boolean;
  readonly baseBranch?: string;
  /** The first prompt; '' for none. */
  readonly prompt?: string;
}

export interface SendArgs {
  readonly session?: string;
  readonly sessions?: readonly string[];
  readonly text?: string;
}

export interface FinishArgs {
  readonly session?: string;
  /** What to do with a dirty worktree without asking: keep it, or commit to its branch and remove it. */
  readonly ifDirty?: 'keep' | 'commitThenRemove';
}

export interface CleanUpAgentsArgs {
  readonly dryRun?: boolean;
  /** Act on these candidate keys without asking. */
  readonly keys?: readonly string[];
}

/** The agents commands, by id; the controller holds the fleet. */
export function agentCommands(ctx: ExtensionContextServices, controller: AgentsController): Record<string, Handler> {
  const composer = new PromptComposer(controller);
  ctx.extension.subscriptions.push(composer);
  return {
    'tmuxSessionManager.spawnAgents': (args?: SpawnArgs) => spawnAgents(ctx, controller, plain(args) ?? {}),
    'tmuxSessionManager.sendPrompt': (node?: unknown, args?: SendArgs) => sendPrompt(controller, composer, sessionOf(node) ?? plain<SendArgs>(node)?.session ?? plain<SendArgs>(args)?.session, plain<SendArgs>(node)?.text ?? plain<SendArgs>(args)?.text),
    'tmuxSessionManager.sendToSeveral': (args?: SendArgs) => sendToSeveral(controller, composer, plain(args) ?? {}),
    'tmuxSessionManager.sendComposedPrompt': () => composer.sendActive(),
    'tmuxSessionManager.focusAgent': async (node?: unknown) => controller.focus(await chooseAgent(controller, node, 'Focus which agent?')),
    'tmuxSessionManager.interruptAgent': async (node?: unknown) => {
      const fleet = await controller.fleet();
      await fleet.interrupt(await chooseAgent(controller, node, 'Interrupt which agent?'));
    },
    'tmuxSessionManager.approveAgent': (node?: unknown) => answer(controller, node, 'approve'),
    'tmuxSessionManager.denyAgent': (node?: unknown) => answer(controller, node, 'deny'),
    'tmuxSessionManager.retryAgent': async (node?: unknown) => {
      assertTrusted('Retrying agents');
      const fleet = await controller.fleet();
      await fleet.retry(await chooseAgent(controller, node, 'Retry which agent?', (agent) => ['failed', 'timedOut', 'done', 'stopped'].includes(agent.state.state)));
    },
    'tmuxSessionManager.finishAgent': (node?: unknown, args?: FinishArgs) => finishAgent(ctx, controller, sessionOf(node) ?? plain<FinishArgs>(node)?.session, plain<FinishArgs>(node) ?? plain<FinishArgs>(args) ?? {}),
    'tmuxSessionManager.cleanUpAgents': (args?: CleanUpAgentsArgs) => cleanUpAgents(ctx, controller, plain(args) ?? {}),
    'tmuxSessionManager.showWaitingAgents': async () => {
      await vscode.commands.executeCommand(`${AGENTS_VIEW_ID}.focus`);
      const first = controller.waiting()[0];
      if (first) await controller.tree.reveal(first.record.session);
    },
    // For scripts and tests: what the view shows, as data.
    'tmuxSessionManager.agentStates': async () => {
      const fleet = await controller.settled();
      return (fleet?.list() ?? []).map((agent) => ({ session: agent.record.session, task: agent.record.task, kind: agent.record.kind, state: agent.state.state, text: stateText(agent.state), pane: agent.pane, branch: agent.record.branch, worktree: agent.record.worktree, lastMessage: agent.lastMessage }));
    },
    'tmuxSessionManager.agentNotices': () => [...controller.notices],
    'tmuxSessionManager.agentLeftoverOffers': () => [...controller.leftoverOffers],
  };
}

function plain<T extends object>(value: unknown): T | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as T) : undefined;
}

/** A row's element is the agent's session name. */
function sessionOf(node: unknown): string | undefined {
  return typeof node === 'string' ? node : undefined;
}

async function chooseAgent(controller: AgentsController, node: unknown, placeHolder: string, applies: (agent: AgentInfo) => boolean = () => true): Promise<string> {
  const given = sessionOf(node) ?? plain<{ session?: string }>(node)?.session;
  const fleet = await controller.fleet();
  if (given) {
    if (!fleet.get(given)) throw new Error(`No agent runs in session "${given}"; the Agents view lists the ones there are.`);
    return given;
  }
  const agents = fleet.list().filter(applies);
  if (agents.length === 0) throw new Error(fleet.list().length === 0 ? 'There are no agents. Start some with "Tmux: Spawn Agents…".' : 'No agent is in a state this applies to.');
  const picked = await vscode.window.showQuickPick(agentItems(agents), { placeHolder, matchOnDescription: true });
  if (!picked) throw new Cancelled();
  return picked.session;
}

function agentItems(agents: readonly AgentInfo[]) {
  return agents.map((agent) => ({ label: agent.record.task, description: `${agent.record.session} · ${stateText(agent.state)}`, detail: agent.lastMessage ? oneLine(agent.lastMessage, 120) : undefined, session: agent.record.session }));
}

/** Untrusted folders run nothing of ours: the same refusal, with the same way out, as profiles. */
function assertTrusted(what: string): void {
  if (vscode.workspace.isTrusted) return;
  const message = `${what} is turned off in an untrusted workspace: it runs agent programs with this folder's settings. Trust the folder first.`;
  void vscode.window.showWarningMessage(message, 'Manage Workspace Trust').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  throw new Error(message);
}

// ------------------------------------------------------------------ Spawn Agents

async function spawnAgents(ctx: ExtensionContextServices, controller: AgentsController, args: SpawnArgs): Promise<string[]> {
  assertTrusted('Spawning agents');
  const fleet = await controller.fleet();
  const config = vscode.workspace.getConfiguration('tmuxSessionManager');
  const title = 'Spawn Agents';

  const customNames = controller.customKinds().map((kind) => kind.name);
  const kind = args.kind ?? (await pickOne(title, 'Which agent?', [...BUILT_IN_KIND_NAMES.map((name) => ({ label: name, description: 'built in' })), ...customNames.map((name) => ({ label: name, description: 'custom (setting agents.customKinds)' }))]));

  let tasks: string[];
  if (args.tasks !== undefined) {
    const parsed = typeof args.tasks === 'string' ? parseTasks(args.tasks) : parseTasks(args.tasks.join(','));
    if ('problem' in parsed) throw new Error(parsed.problem);
    tasks = parsed.tasks;
  } else {
    const text = await vscode.window.showInputBox({
      title: `${title}: tasks`,
      prompt: 'One agent per task: names separated by commas, or a number for task-1 … task-N',
      placeHolder: 'fix-login, add-tests, docs',
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = parseTasks(value);
        return 'problem' in parsed ? parsed.problem : undefined;
      },
    });
    if (text === undefined) throw new Cancelled();
    tasks = (parseTasks(text) as { tasks: string[] }).tasks;
  }

  const folder = args.folder ?? (await pickFolder(title));
  const repo = await git(folder, ['rev-parse', '--show-toplevel']).catch(() => undefined);
  let worktrees = false;
  let baseBranch: string | undefined;
  if (repo) {
    worktrees = args.worktrees ?? (await pickOne(title, 'Give each agent its own git worktree and branch?', [
      { label: 'Yes', description: 'a worktree and branch per agent (recommended: agents do not edit the same files)' },
      { label: 'No', description: `all agents work in ${tildeOf(folder)}` },
    ])) === 'Yes';
    if (worktrees) baseBranch = args.baseBranch ?? (await pickBaseBranch(title, folder));
  } else if (args.worktrees) {
    throw new Error(`${tildeOf(folder)} is not in a git repository, so agents cannot get worktrees; spawn them without, or pick a folder in a repository.`);
  }

  const prompt =
    args.prompt ??
    (await vscode.window.showInputBox({ title: `${title}: first prompt (optional)`, prompt: 'Given to every agent as it starts; leave empty to start them without one', ignoreFocusOut: true }));
  if (prompt === undefined) throw new Cancelled();
  const spawnTasks: SpawnTask[] = tasks.map((task) => (prompt ? { task, prompt } : { task }));
  const namePattern = config.get<string>('agents.namePattern', '{kind}-{task}') || '{kind}-{task}';

  const result = await vscode.window.withProgress<SpawnResult>({ location: vscode.ProgressLocation.Notification, title: `Spawning ${tasks.length === 1 ? '1 agent' : `${tasks.length} agents`}`, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    let reported = 0;
    try {
      return await fleet.spawn({ kind, tasks: spawnTasks, folder, worktrees, ...(baseBranch ? { baseBranch } : {}), namePattern }, (step) => {
        const done = step.total > 0 ? (step.done / step.total) * 100 : 0;
        progress.report({ message: step.message, increment: Math.max(0, done - reported) });
        reported = Math.max(reported, done);
      }, abort.signal);
    } catch (error) {
      if (abort.signal.aborted) {
        void vscode.window.showInformationMessage('Spawn cancelled; what it had created was removed.');
        throw new Cancelled();
      }
      throw error;
    } finally {
      cancel.dispose();
    }
  });
  const sessions = result.agents.map((agent) => agent.session);
  ctx.log.info(`agents: spawned ${sessions.join(', ')}`);
  void vscode.commands.executeCommand(`${AGENTS_VIEW_ID}.focus`);
  return sessions;
}

async function pickOne(title: string, placeHolder: string, items: vscode.QuickPickItem[]): Promise<string> {
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true });
  if (!picked) throw new Cancelled();
  return picked.label;
}

async function pickFolder(title: string): Promise<string> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0].uri.fsPath;
  if (folders.length > 1) {
    const picked = await vscode.window.showQuickPick(folders.map((folder) => ({ label: folder.name, description: tildeOf(folder.uri.fsPath), folder })), { title, placeHolder: 'Which folder do the agents work in?' });
    if (!picked) throw new Cancelled();
    return picked.folder.uri.fsPath;
  }
  const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Agents Work Here', title });
  if (!chosen?.[0]) throw new Cancelled();
  return chosen[0].fsPath;
}

/** Local branches, the current one first (the default). */
async function pickBaseBranch(title: string, folder: string): Promise<string> {
  const current = (await git(folder, ['rev-parse', '--abbrev-ref', 'HEAD']).catch(() => '')).trim();
  const branches = (await git(folder, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']).catch(() => '')).split('\n').filter((branch) => branch !== '');
  const ordered = [...new Set([current, ...branches].filter((branch) => branch && branch !== 'HEAD'))];
  if (ordered.length <= 1) return ordered[0] ?? 'HEAD';
  return pickOne(title, 'Base branch for the agents\' branches', ordered.map((branch) => ({ label: branch, description: branch === current ? 'current' : undefined })));
}

function git(cwd: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', argv, { cwd, encoding: 'utf8', timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
  });
}

function tildeOf(folder: string): string {
  const home = os.homedir();
  return home && folder.startsWith(home + '/') ? '~' + folder.slice(home.length) : folder;
}

// ------------------------------------------------------------------ Send Prompt

/**
 * Asking for a prompt. An input box takes one line, and most prompts are one line, so that is
 * the quick way; its button opens an editor for anything longer, where line breaks, indentation
 * and pasted code stay as written, and the editor title bar's Send button sends it (as a commit
 * message editor works). Typing `\n` in the box is NOT turned into a line break: prompts often
 * contain code, where `\n` means itself.
 */
async function askPrompt(composer: PromptComposer, targets: readonly string[], title: string): Promise<string | 'composing'> {
  const input = vscode.window.createInputBox();
  const composeButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('go-to-file'), tooltip: 'Compose in an Editor (several lines)' };
  input.title = title;
  input.prompt = 'Enter sends. For several lines, use the editor button on the right.';
  input.placeholder = 'What should the agent do next?';
  input.ignoreFocusOut = true;
  input.buttons = [composeButton];
  try {
    return await new Promise<string | 'composing'>((resolve, reject) => {
      input.onDidAccept(() => {
        if (input.value.trim() === '') {
          input.validationMessage = 'Type a prompt, or press Escape.';
          return;
        }
        resolve(input.value);
        input.hide();
      });
      input.onDidTriggerButton(() => {
        void composer.open(targets, input.value).then(() => resolve('composing'), reject);
        input.hide();
      });
      input.onDidHide(() => reject(new Cancelled()));
      input.show();
    });
  } finally {
    input.dispose();
  }
}

async function sendPrompt(controller: AgentsController, composer: PromptComposer, session: string | undefined, text: string | undefined): Promise<SendResult | undefined> {
  const fleet = await controller.fleet();
  const target = session ?? (await chooseAgent(controller, undefined, 'Send a prompt to which agent?', (agent) => !!agent.pane));
  if (!fleet.get(target)) throw new Error(`No agent runs in session "${target}".`);
  const prompt = text ?? (await askPrompt(composer, [target], `Send Prompt to ${target}`));
  if (prompt === 'composing') return undefined;
  return deliver(fleet, [target], prompt).then((results) => results.get(target));
}

async function sendToSeveral(controller: AgentsController, composer: PromptComposer, args: SendArgs): Promise<Record<string, SendResult> | undefined> {
  const fleet = await controller.fleet();
  let sessions = args.sessions;
  if (!sessions) {
    const running = fleet.list().filter((agent) => !!agent.pane);
    if (running.length === 0) throw new Error('No agent is running. Start some with "Tmux: Spawn Agents…".');
    const picked = await vscode.window.showQuickPick(
      agentItems(running).map((item) => ({ ...item, picked: true })),
      { canPickMany: true, title: 'Send to Several Agents', placeHolder: 'Untick the agents that should not get it', ignoreFocusOut: true },
    );
    if (!picked || picked.length === 0) throw new Cancelled();
    sessions = picked.map((item) => item.session);
  }
  const prompt = args.text ?? (await askPrompt(composer, sessions, `Send to ${sessions.length === 1 ? sessions[0] : `${sessions.length} agents`}`));
  if (prompt === 'composing') return undefined;
  return Object.fromEntries(await deliver(fleet, sessions, prompt));
}

/** Sends with a progress notification, then says how it went, per agent, in the engine's words. */
export async function deliver(fleet: AgentFleet, sessions: readonly string[], text: string): Promise<ReadonlyMap<string, SendResult>> {
  const results = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Sending to ${sessions.length === 1 ? sessions[0] : `${sessions.length} agents`}`, cancellable: true }, async (_progress, token) => {
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    try {
      if (sessions.length === 1) return new Map([[sessions[0], await fleet.send(sessions[0], text, abort.signal)]]);
      return await fleet.broadcast(sessions, text, abort.signal);
    } finally {
      cancel.dispose();
    }
  });
  const failed = [...results].filter(([, result]) => result.status === 'failed');
  const queued = [...results].filter(([, result]) => result.status === 'queued');
  if (results.size === 1) {
    const [[session, result]] = [...results];
    const message = `${session}: ${result.message}`;
    if (result.status === 'failed') void vscode.window.showErrorMessage(message);
    else void vscode.window.showInformationMessage(message);
  } else {
    const submitted = results.size - failed.length - queued.length;
    const summary = [`${submitted} submitted`, queued.length ? `${queued.length} queued (busy: ${queued.map(([session]) => session).join(', ')})` : '', failed.length ? `${failed.length} failed` : ''].filter(Boolean).join(', ');
    const detail = failed.map(([session, result]) => `${session}: ${result.message}`).join(' ');
    if (failed.length) void vscode.window.showErrorMessage(`Sent to ${results.size} agents: ${summary}. ${detail}`);
    else void vscode.window.showInformationMessage(`Sent to ${results.size} agents: ${summary}.`);
  }
  return results;
}

/**
 * Prompts written in an editor: an untitled document per compose, remembered with its targets; a
 * context key makes the editor's title bar show Send while such a document is in front.
 */
class PromptComposer implements vscode.Disposable {
  private readonly drafts = new Map<string, readonly string[]>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly controller: AgentsController) {
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor((editor) => this.updateContext(editor)),
      vscode.workspace.onDidCloseTextDocument((document) => this.drafts.delete(document.uri.toString())),
    ];
  }

  async open(targets: readonly string[], start: string): Promise<void> {
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: start });
    this.drafts.set(document.uri.toString(), targets);
    await vscode.window.showTextDocument(document);
    this.updateContext(vscode.window.activeTextEditor);
    void vscode.window.showInformationMessage(`Write the prompt for ${targets.length === 1 ? targets[0] : `${targets.length} agents`}, then click Send in the editor's title bar (or run "Tmux: Send Composed Prompt").`);
  }

  async sendActive(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const targets = editor && this.drafts.get(editor.document.uri.toString());
    if (!editor || !targets) throw new Error('The editor in front is not a prompt being composed; use "Tmux: Send Prompt…" and its editor button.');
    const text = editor.document.getText();
    if (text.trim() === '') throw new Error('The prompt is empty; write it first.');
    const fleet = await this.controller.fleet();
    const results = await deliver(fleet, targets, text);
    if ([...results.values()].every((result) => result.status !== 'failed')) {
      this.drafts.delete(editor.document.uri.toString());
      // Sent: the draft is done with; close it without a "save changes?" question.
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  }

  private updateContext(editor: vscode.TextEditor | undefined): void {
    void vscode.commands.executeCommand('setContext', 'tmuxSessionManager.composingPrompt', !!editor && this.drafts.has(editor.document.uri.toString()));
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}

// ------------------------------------------------------------------ Approve / Deny, Finish, Clean Up

async function answer(controller: AgentsController, node: unknown, choice: 'approve' | 'deny'): Promise<void> {
  const fleet = await controller.fleet();
  const session = await chooseAgent(controller, node, `${choice === 'approve' ? 'Approve' : 'Deny'} the permission of which agent?`, (agent) => agent.state.state === 'waiting' && agent.state.reason === 'permission');
  if (!fleet.canAnswerPermission(session)) throw new Error(`The ${fleet.get(session)?.record.kind ?? ''} agent in "${session}" cannot be answered from here; focus its terminal and answer there.`);
  await fleet.answerPermission(session, choice);
}

async function finishAgent(ctx: ExtensionContextServices, controller: AgentsController, session: string | undefined, args: FinishArgs): Promise<FinishResult | undefined> {
  const fleet = await controller.fleet();
  const target = session ?? (await chooseAgent(controller, undefined, 'Finish which agent?'));
  const progress = (choice: WorktreeChoice) => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Finishing ${target}` }, () => fleet.finish(target, choice));
  let result = await progress('removeIfClean');
  if (result.worktree === 'keptDirty') {
    const files = result.dirty ?? [];
    const choice =
      args.ifDirty === 'keep' ? 'Keep Worktree' :
      args.ifDirty === 'commitThenRemove' ? 'Commit and Remove' :
      await vscode.window.showWarningMessage(
        `The worktree of "${target}" has uncommitted changes, so it was kept.`,
        { modal: true, detail: `${files.slice(0, 20).join('\n')}${files.length > 20 ? `\n… and ${files.length - 20} more` : ''}\n\nCommit and Remove commits them to the agent's branch${fleet.get(target)?.record.branch ? ` (${fleet.get(target)?.record.branch})` : ''}, then removes the worktree; the branch stays.` },
        'Keep Worktree',
        'Commit and Remove',
      );
    if (choice === 'Commit and Remove') result = await progress('commitThenRemove');
    else if (choice === 'Keep Worktree') result = { ...result, worktree: 'kept' };
  }
  const said: Record<FinishResult['worktree'], string> = {
    removed: 'its worktree was removed',
    kept: 'its worktree was kept',
    keptDirty: 'its worktree has changes and was kept',
    none: 'it had no worktree of its own',
  };
  ctx.log.info(`agents: finished ${target}: ${said[result.worktree]}${result.commit ? ` after commit ${result.commit}` : ''}`);
  void vscode.window.showInformationMessage(`Finished "${target}": ${said[result.worktree]}${result.commit ? ` (changes committed as ${result.commit.slice(0, 8)})` : ''}.`);
  return result;
}

const CANDIDATE_ICON: Record<AgentCleanupCandidate['kind'], string> = {
  sessionWithoutWorktree: '$(terminal-tmux)',
  worktreeWithoutSession: '$(git-branch)',
  doneAgent: '$(check)',
};

/**
 * Clean Up Agents…: the engine's dry run as a list with a reason per row. Rows that would remove
 * something with changes are never ticked beforehand (and the engine keeps their worktree anyway).
 */
async function cleanUpAgents(ctx: ExtensionContextServices, controller: AgentsController, args: CleanUpAgentsArgs): Promise<{ candidates: { key: string; kind: string; reason: string }[]; outcomes: AgentCleanupOutcome[] }> {
  const fleet = await controller.fleet();
  const candidates = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Looking for agents\' leftovers' }, () => fleet.planCleanup());
  const listed = candidates.map((candidate) => ({ key: candidateKey(candidate), kind: candidate.kind, reason: candidate.reason }));
  if (args.dryRun) return { candidates: listed, outcomes: [] };
  let chosen: readonly AgentCleanupCandidate[];
  if (args.keys) {
    chosen = candidates.filter((candidate) => args.keys!.includes(candidateKey(candidate)));
  } else {
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage('Nothing to clean up: every agent session has its worktree, every agent worktree its session, and no agent has been done for long.');
      return { candidates: listed, outcomes: [] };
    }
    const home = os.homedir();
    const picked = await vscode.window.showQuickPick(
      candidates.map((candidate) => ({ label: `${CANDIDATE_ICON[candidate.kind]} ${candidateLabel(candidate, home)}`, detail: candidate.reason, picked: !('dirty' in candidate && candidate.dirty), candidate })),
      { canPickMany: true, title: `Clean Up Agents: ${candidates.length === 1 ? '1 candidate' : `${candidates.length} candidates`}`, placeHolder: 'Tick what goes; Enter acts. A worktree with changes is never removed.', matchOnDetail: true, ignoreFocusOut: true },
    );
    if (!picked || picked.length === 0) throw new Cancelled();
    chosen = picked.map((item) => item.candidate);
  }
  const outcomes = [...(await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Cleaning up agents' }, () => fleet.cleanUp(chosen)))];
  for (const outcome of outcomes) ctx.log.info(`agents cleanup: ${candidateKey(outcome.candidate)}: ${outcome.done ? 'done' : `left: ${outcome.skipped ?? 'unknown'}`}`);
  const done = outcomes.filter((outcome) => outcome.done).length;
  const left = outcomes.filter((outcome) => !outcome.done);
  const message = `Cleaned up ${done} of ${outcomes.length}.${left.length ? ` Left: ${left.map((outcome) => `${candidateLabel(outcome.candidate)} (${outcome.skipped ?? 'unknown'})`).join('; ')}.` : ''}`;
  void (left.length ? vscode.window.showWarningMessage(message, 'Show Log') : vscode.window.showInformationMessage(message, 'Show Log')).then((choice) => {
    if (choice) ctx.log.show();
  });
  return { candidates: listed, outcomes };
}
