import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeDiff, diffIsEmpty, ProfileHost, ProfileRuntime, serviceProfileHost, ServiceStatus, SupervisedElsewhereError, UntrustedProfileError } from '../../core/profiles/runtime';
import { newLeaseToken } from '../../core/supervision/lease';
import { describeWarning, readAnyProfile } from '../../core/profiles/import';
import { Profile, ProfileAgent, ProfileError } from '../../core/profiles/parse';
import { sessionNameFor } from '../../core/agents/fleetRuntime';
import { agentsController } from '../agents/controller';
import { describeExit } from '../../core/supervision/supervisor';
import { UnitEvent } from '../../core/supervision/types';
import { Pane } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { outputHub } from '../outputs';

/** How often a window that does not supervise a running profile session looks whether it may take over. */
const ADOPT_RETRY_MS = 5000;
/** Where a folder's profile is looked for when the setting is not read: our own file first. */
const PROFILE_FILES = ['.tmux-session.yaml', '.tmuxinator.yml', '.tmuxp.yaml', '.tmuxp.yml', '.tmuxp.json'];

const controllers = new WeakMap<ExtensionContextServices, ProfileController>();

/** The profiles of this window: one per workspace folder, each with its runtime once it is up (or adopted). */
export function profileController(ctx: ExtensionContextServices): ProfileController {
  let controller = controllers.get(ctx);
  if (!controller) {
    controller = new ProfileController(ctx);
    controllers.set(ctx, controller);
    ctx.extension.subscriptions.push(controller);
  }
  return controller;
}

/** How a service's state reads in the tree and the status bar. */
export interface ServiceLook {
  readonly label: string;
  readonly icon: vscode.ThemeIcon;
  readonly tooltip: string;
  readonly problem?: string;
}

export class ProfileController implements vscode.Disposable {
  private readonly runtimes = new Map<string, ProfileRuntime>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly statusItem = vscode.window.createStatusBarItem('tmuxSessionManager.services', vscode.StatusBarAlignment.Left, 99);
  private adopted = false;
  private disposed = false;
  private adoptAttempts = 0;
  /** This window's supervision lease (lease.ts): one window restarts a session's services. */
  private readonly leaseToken = newLeaseToken();
  /** Set while another window supervises this folder's session: tries again, to take over once it is gone. */
  private adoptRetry: NodeJS.Timeout | undefined;
  private readonly warned = new Map<string, string>();

  constructor(private readonly ctx: ExtensionContextServices) {
    this.statusItem.name = 'Tmux Services';
    this.statusItem.command = { command: 'tmuxSessionManager.showHealth', title: 'Show Health Report' };
    this.subscriptions.push(this.statusItem, { dispose: () => this.runtimes.forEach((runtime) => runtime.dispose()) });
    ctx.treeProvider.serviceLook = (pane) => {
      const service = this.serviceOfPane(pane);
      return service && { name: service.status.name, ...service.look };
    };
  }

  /** The profile file of a workspace folder: the first match of the profileFiles globs. */
  async findProfileFile(): Promise<vscode.Uri | undefined> {
    const globs = vscode.workspace.getConfiguration('tmuxSessionManager').get<string[]>('profileFiles', PROFILE_FILES);
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      for (const glob of globs) {
        const [found] = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, glob), undefined, 1);
        if (found) return found;
      }
    }
    return undefined;
  }

  /** Reads and checks the profile; a bad file shows its problems at their lines, and nothing is created. */
  async loadProfile(): Promise<Profile> {
    const uri = await this.findProfileFile();
    if (!uri) throw new Error('No profile found: create .tmux-session.yaml at the workspace folder root (setting tmuxSessionManager.profileFiles says where to look).');
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    try {
      return this.readProfile(text, uri.fsPath);
    } catch (error) {
      if (error instanceof ProfileError) {
        this.ctx.log.error(error.message);
        const first = error.issues[0];
        void vscode.window.showTextDocument(uri, { selection: new vscode.Range(first.line - 1, first.column - 1, first.line - 1, first.column - 1) });
        throw new Error(`${path.basename(uri.fsPath)}:${first.line}:${first.column}: ${first.message}${error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems, in the Tmux log)` : ''}`);
      }
      throw error;
    }
  }

  /** Our own file, or a tmuxinator / tmuxp file read as it is: what it has that a profile does not goes to the log, once per change. */
  private readProfile(text: string, file: string): Profile {
    const { profile, warnings, format } = readAnyProfile(text, file);
    const said = warnings.map(describeWarning).join('\n');
    if (format && this.warned.get(file) !== said) {
      this.warned.set(file, said);
      this.ctx.log.warn(`${file} is read as a ${format} file${warnings.length ? `; not carried over:\n${said}` : ''}`);
    }
    return profile;
  }

  /** The runtime's host in this window: its connection, its output hub, Workspace Trust and its lease. */
  host(): ProfileHost {
    const service = this.ctx.service();
    return serviceProfileHost(service, outputHub(service).open, {
      log: (line: string) => this.ctx.log.info(line),
      mayRunCommands: () => vscode.workspace.isTrusted,
      leaseToken: this.leaseToken,
    });
  }

  private assertTrusted(file: string): void {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(new UntrustedProfileError(file).message, 'Manage Workspace Trust').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
      });
      throw new UntrustedProfileError(file);
    }
  }

  async up(): Promise<string[]> {
    const profile = await this.loadProfile();
    this.assertTrusted(profile.file);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tmux: Up ${profile.session}`, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const existing = this.runtimes.get(profile.file);
      existing?.dispose();
      this.runtimes.delete(profile.file);
      progress.report({ message: 'starting services in dependency order…' });
      const runtime = await ProfileRuntime.up(this.host(), profile, abort.signal, (made) => this.track(made));
      this.track(runtime);
      await this.upAgents(profile, (message) => progress.report({ message }), abort.signal);
    });
    return this.runtimes.get(profile.file)?.statuses().map((status) => status.name) ?? [];
  }

  /** The session name Spawn Agents gives a declared agent (one task, so {n} is 1). */
  private agentSession(agent: ProfileAgent): string {
    return sessionNameFor(vscode.workspace.getConfiguration('tmuxSessionManager').get<string>('agents.namePattern', '{kind}-{task}'), agent.kind, agent.task, 1);
  }

  /** Spawns the profile's agents that do not run yet, after its services (they may need them). */
  private async upAgents(profile: Profile, report: (message: string) => void, signal: AbortSignal): Promise<void> {
    if (profile.agents.length === 0) return;
    const fleet = await agentsController(this.ctx).fleet();
    const namePattern = vscode.workspace.getConfiguration('tmuxSessionManager').get<string>('agents.namePattern', '{kind}-{task}');
    // One at a time: agents of one repository add their worktrees in turn anyway.
    for (const agent of profile.agents) {
      if (fleet.get(this.agentSession(agent))) continue;
      report(`starting agent ${this.agentSession(agent)}…`);
      await fleet.spawn(
        {
          kind: agent.kind,
          tasks: [{ task: agent.task, ...(agent.prompt === undefined ? {} : { prompt: agent.prompt }) }],
          folder: profile.root,
          worktrees: agent.worktree,
          ...(agent.baseBranch === undefined ? {} : { baseBranch: agent.baseBranch }),
          namePattern,
          limits: agent.limits,
        },
        undefined,
        signal,
      );
    }
  }

  /** Finishes the profile's agents before its services stop; their worktrees stay (Finish… or Clean Up Agents… removes them). */
  private async downAgents(profile: Profile): Promise<void> {
    if (profile.agents.length === 0) return;
    const fleet = await agentsController(this.ctx).fleet();
    for (const agent of profile.agents) {
      if (fleet.get(this.agentSession(agent))) await fleet.finish(this.agentSession(agent), 'keep');
    }
  }

  async down(): Promise<void> {
    const profile = await this.loadProfile();
    const runtime = this.runtimes.get(profile.file) ?? (await ProfileRuntime.find(this.host(), profile));
    if (!runtime) {
      void vscode.window.showInformationMessage(`Session "${profile.session}" is not running.`);
      return;
    }
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tmux: Down ${profile.session}` }, async (progress) => {
      progress.report({ message: profile.agents.length ? 'finishing agents, then stopping services in reverse order…' : 'stopping services in reverse order…' });
      await this.downAgents(profile);
      await runtime.down();
    });
    this.runtimes.delete(profile.file);
    this.repaint();
  }

  /** Shows the difference, then applies it when confirmed (or at once with `{ confirm: false }`). */
  async apply(options: { confirm?: boolean } = {}): Promise<string[]> {
    const profile = await this.loadProfile();
    this.assertTrusted(profile.file);
    const runtime = this.runtimes.get(profile.file) ?? (await ProfileRuntime.find(this.host(), profile));
    if (!runtime) throw new Error(`Session "${profile.session}" is not running; use Tmux: Up to start it.`);
    this.track(runtime);
    const diff = await runtime.plan(profile);
    const lines = describeDiff(diff);
    if (diffIsEmpty(diff)) {
      void vscode.window.showInformationMessage(lines[0]);
      return lines;
    }
    if (options.confirm !== false) {
      const choice = await vscode.window.showInformationMessage(`Apply ${path.basename(profile.file)} to "${profile.session}"?`, { modal: true, detail: lines.join('\n') }, 'Apply');
      if (choice !== 'Apply') return [];
    }
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tmux: Apply ${profile.session}` }, () => runtime.apply(profile));
    return lines;
  }

  async restartService(node?: unknown): Promise<void> {
    const [runtime, name] = await this.serviceOf(node);
    await runtime.restart(name);
  }

  async stopService(node?: unknown): Promise<void> {
    const [runtime, name] = await this.serviceOf(node);
    await runtime.stop(name);
  }

  async openProfile(): Promise<void> {
    const uri = await this.findProfileFile();
    if (uri) await vscode.window.showTextDocument(uri);
    else throw new Error('No profile found: create .tmux-session.yaml at the workspace folder root.');
  }

  /** After a reload: the runtimes of profile sessions already running, adopted as they are. */
  async adoptRunning(): Promise<void> {
    if (this.adopted) return;
    this.adopted = true;
    clearTimeout(this.adoptRetry);
    this.adoptRetry = undefined;
    try {
      const uri = await this.findProfileFile();
      if (!uri) return;
      const profile = this.readProfile(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'), uri.fsPath);
      const runtime = await ProfileRuntime.find(this.host(), profile);
      if (runtime) this.track(runtime);
    } catch (error) {
      this.ctx.log.info(`No profile session adopted: ${(error as Error).message}`);
      if (error instanceof SupervisedElsewhereError && !this.disposed) {
        // No event says that a window closed: look again now and then (only while another window
        // supervises); soon at first, since a reloading window's old process takes a moment to end.
        this.adoptAttempts++;
        this.adoptRetry = setTimeout(() => {
          this.adopted = false;
          void this.adoptRunning();
        }, this.adoptAttempts <= 4 ? 250 : ADOPT_RETRY_MS);
      }
    }
  }

  /** A runtime brought up elsewhere (Switch Project), supervised and shown from now on by this window. */
  adopt(runtime: ProfileRuntime): void {
    const known = this.runtimes.get(runtime.profile.file);
    if (known && known !== runtime) known.dispose();
    this.track(runtime);
  }

  /** What a pane that runs a service shows in the tree, or undefined for other panes. */
  serviceOfPane(pane: Pane): { status: ServiceStatus; look: ServiceLook } | undefined {
    for (const runtime of this.runtimes.values()) {
      const status = runtime.statuses().find((candidate) => candidate.paneId === pane.id);
      if (status) return { status, look: lookOf(status) };
    }
    return undefined;
  }

  statuses(): ServiceStatus[] {
    return [...this.runtimes.values()].flatMap((runtime) => runtime.statuses());
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.adoptRetry);
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }

  private async serviceOf(node: unknown): Promise<[ProfileRuntime, string]> {
    if (typeof node === 'object' && node !== null && (node as Pane).kind === 'pane') {
      for (const runtime of this.runtimes.values()) {
        const status = runtime.statuses().find((candidate) => candidate.paneId === (node as Pane).id);
        if (status) return [runtime, status.name];
      }
      throw new Error('This pane is not a service of a profile that is up.');
    }
    const all = [...this.runtimes.values()].flatMap((runtime) => runtime.statuses().map((status) => ({ runtime, status })));
    const named = typeof node === 'string' ? all.find((entry) => entry.status.name === node) : undefined;
    if (named) return [named.runtime, named.status.name];
    const pick = await vscode.window.showQuickPick(all.map((entry) => ({ label: entry.status.name, description: lookOf(entry.status).label, entry })), { placeHolder: 'Which service?' });
    if (!pick) throw new Error('No service chosen.');
    return [pick.entry.runtime, pick.entry.status.name];
  }

  private track(runtime: ProfileRuntime): void {
    if (this.runtimes.get(runtime.profile.file) === runtime) return;
    this.runtimes.set(runtime.profile.file, runtime);
    this.subscriptions.push(runtime.onDidChangeState((event) => this.changed(runtime, event)));
    this.repaint();
  }

  private changed(runtime: ProfileRuntime, event: UnitEvent): void {
    const state = event.state;
    // A service started again in its pane (respawn-pane) fires no tmux hook that the tree follows;
    // without a reading now, its row would say "exited" until the next program watch.
    if ((state.phase === 'starting' || state.phase === 'running') && state.phase !== event.previous.phase) this.ctx.service().requestSnapshot();
    this.repaint();
    if (state.phase === 'failed' && event.previous.phase !== 'failed') {
      const why = state.reason === 'breakerOpen' ? `failing (breaker open, trial at ${clock(state.trialAt!)})` : `failed: ${state.message}`;
      void vscode.window.showErrorMessage(`Service "${event.unit}" ${why}`, 'Restart', 'Show Output', 'Open Profile').then((choice) => {
        if (choice === 'Restart') void runtime.restart(event.unit);
        if (choice === 'Show Output') void vscode.commands.executeCommand('tmuxSessionManager.followPane', this.ctx.service().tree && paneNode(this.ctx, runtime.paneOf(event.unit)));
        if (choice === 'Open Profile') void this.openProfile();
      });
    }
  }

  private repaint(): void {
    this.ctx.treeProvider.refreshNow();
    const problems = this.statuses().flatMap((status) => {
      const look = lookOf(status);
      return look.problem ? [`${status.name} ${look.problem}`] : [];
    });
    if (problems.length === 0) {
      this.statusItem.hide();
      return;
    }
    this.statusItem.text = `$(error) tmux: ${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1})` : ''}`;
    this.statusItem.tooltip = problems.join('\n');
    this.statusItem.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    this.statusItem.show();
  }
}

function paneNode(ctx: ExtensionContextServices, paneId: string | undefined): unknown {
  if (!paneId) return undefined;
  for (const session of ctx.service().tree.sessions) for (const window of session.windows) for (const pane of window.panes) if (pane.id === paneId) return pane;
  return undefined;
}

function clock(at: number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour12: false });
}

/** The label, icon and tooltip of a service state; `problem` is what the status bar says. */
export function lookOf(status: ServiceStatus): ServiceLook {
  const state = status.state;
  const lines = [`service **${status.name}**`];
  if (status.lastExit) lines.push(`last exit: ${describeExit(status.lastExit)}`);
  lines.push(`restarts: ${status.restarts}`);
  if (status.lastProbe) lines.push(`last probe: ${status.lastProbe.ok ? 'passed' : 'failed'} — ${status.lastProbe.message} (${clock(status.lastProbe.at)})`);
  const tooltip = lines.join('\n\n');
  const icon = (name: string, color?: string) => new vscode.ThemeIcon(name, color ? new vscode.ThemeColor(color) : undefined);
  switch (state.phase) {
    case 'starting':
      return { label: 'starting', icon: icon('loading~spin'), tooltip };
    case 'waiting':
      return { label: `waiting for ${state.dependency}`, icon: icon('watch', 'charts.yellow'), tooltip };
    case 'running':
    case 'stalled':
      return { label: 'ready', icon: icon('pass-filled', 'charts.green'), tooltip };
    case 'unhealthy':
      return { label: 'unhealthy', icon: icon('warning', 'charts.orange'), tooltip, problem: 'unhealthy' };
    case 'restarting':
      return { label: `restarting in ${Math.max(0, Math.ceil((state.at - Date.now()) / 1000))} s`, icon: icon('sync', 'charts.yellow'), tooltip };
    case 'failed':
      return state.reason === 'breakerOpen'
        ? { label: `failed (breaker open, trial at ${clock(state.trialAt!)})`, icon: icon('error', 'errorForeground'), tooltip, problem: 'failing (breaker open)' }
        : { label: `failed: ${state.message}`, icon: icon('error', 'errorForeground'), tooltip, problem: 'failed' };
    case 'completed':
      return { label: 'completed', icon: icon('check', 'disabledForeground'), tooltip };
    case 'stopping':
      return { label: 'stopping', icon: icon('debug-stop'), tooltip };
    case 'timedOut':
      return { label: 'timed out', icon: icon('clock', 'errorForeground'), tooltip, problem: 'timed out' };
    default:
      return { label: 'stopped', icon: icon('circle-outline'), tooltip };
  }
}
