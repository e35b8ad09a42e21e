import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AgentFleet, AgentInfo } from '../../core/agents/fleet';
import { AgentKind, AgentKindError, customKind, CustomKindSpec } from '../../core/agents/kinds';
import type { AgentState } from '../../core/agents/state';
import { findById } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { outputHub } from '../outputs';
import { NOTIFYING_STATES, transitionMessage } from './describe';
import { openFleet } from './openFleet';
import { AGENTS_LEASE, newLeaseToken, releaseLease, takeLease } from '../../core/supervision/lease';
import { AGENTS_VIEW_ID, AgentTreeProvider } from './view';

const controllers = new WeakMap<ExtensionContextServices, AgentsController>();

/** The window's agents controller, made on first use and disposed with the extension. */
export function agentsController(ctx: ExtensionContextServices): AgentsController {
  let controller = controllers.get(ctx);
  if (!controller) {
    controller = new AgentsController(ctx, new AgentTreeProvider());
    controllers.set(ctx, controller);
    ctx.extension.subscriptions.push(controller);
  }
  return controller;
}

/** The Agents view, bound to the controller's fleet, which is opened now (it reconciles at once). */
export function showAgentsView(ctx: ExtensionContextServices): vscode.Disposable {
  const controller = agentsController(ctx);
  const view = vscode.window.createTreeView<string>(AGENTS_VIEW_ID, { treeDataProvider: controller.tree });
  void controller.open();
  return vscode.Disposable.from(view, controller.tree.attach(view));
}

/** A notification shown (or held back) for a transition; kept for tests and the log. */
export interface AgentNotice {
  readonly session: string;
  readonly state: AgentState['state'];
  readonly message: string;
  /** Not shown: its terminal was the one in front, or the setting is off. */
  readonly suppressed?: 'terminalInFront' | 'settingOff';
}

/**
 * The agents of the window's current tmux server: opens the fleet (again when the connection
 * changes), feeds the Agents view and the status bar, and turns state transitions into
 * notifications.
 */
/** How often a window that follows another window's agents looks whether it may take over. */
const LEASE_RETRY_MS = 5000;

export class AgentsController implements vscode.Disposable {
  private current: AgentFleet | undefined;
  private opening: Promise<AgentFleet | undefined> | undefined;
  private unavailable: string | undefined;
  private fleetSubscriptions: { dispose(): void }[] = [];
  private readonly statusItem = vscode.window.createStatusBarItem('tmuxSessionManager.agentsWaiting', vscode.StatusBarAlignment.Left, 98);
  private readonly disposables: vscode.Disposable[] = [];
  /** Every transition notice, oldest first (tests read them through the API). */
  readonly notices: AgentNotice[] = [];
  /** How many leftovers each offer after opening named, oldest first (tests read them). */
  readonly leftoverOffers: number[] = [];
  private generation = 0;
  private followed: unknown;
  private serverSubscription: { dispose(): void } | undefined;
  /** This window's claim to supervise the server's agents (lease.ts): one window restarts them and enforces their limits. */
  private readonly leaseToken = newLeaseToken();
  private leaseRetry: NodeJS.Timeout | undefined;
  private leaseAttempts = 0;
  /** Whether this window's fleet supervises (holds the lease) or only follows. */
  supervising = false;

  constructor(
    private readonly ctx: ExtensionContextServices,
    readonly tree: AgentTreeProvider,
  ) {
    this.statusItem.name = 'Tmux Agents Waiting';
    this.statusItem.command = { command: 'tmuxSessionManager.showWaitingAgents', title: 'Show Waiting Agents' };
    this.disposables.push(this.statusItem, tree);
  }

  /** The fleet, opened on first use; throws a sentence that says why when there is none. */
  async fleet(): Promise<AgentFleet> {
    const fleet = this.current ?? (await (this.opening ?? this.open()));
    if (fleet) return fleet;
    if (this.ctx.service().state.kind === 'noServer') throw new Error('Agents run in a tmux server, and none is running: start one with "Tmux: New Session…", then try again.');
    throw new Error(this.unavailable ?? 'The agents of this tmux server could not be followed; see the Tmux log.');
  }

  /** The fleet if it is open, without opening one (for views and menus). */
  peek(): AgentFleet | undefined {
    return this.current;
  }

  /** The open fleet, after any opening under way has settled; never opens one itself. */
  async settled(): Promise<AgentFleet | undefined> {
    return this.current ?? (await this.opening);
  }

  /** (Re)opens the fleet for the current server; the previous one is disposed first. */
  open(): Promise<AgentFleet | undefined> {
    const generation = ++this.generation;
    this.close();
    this.followServer();
    this.opening = this.openFor(generation).finally(() => {
      if (generation === this.generation) this.opening = undefined;
    });
    return this.opening;
  }

  private async openFor(generation: number): Promise<AgentFleet | undefined> {
    const settings = this.ctx.settings();
    const service = this.ctx.service();
    const lease = await takeLease((argv) => service.run(argv), AGENTS_LEASE, this.leaseToken).catch(() => ({ held: false, holder: '' }));
    if (generation !== this.generation) return undefined;
    this.supervising = lease.held;
    // Another window supervises: follow, and take over once that window is gone.
    if (!lease.held && lease.holder !== '') this.watchLease(generation);
    try {
      const fleet = await openFleet({
        address: service.address,
        dataFolder: path.join(settings.dataDir, 'agents'),
        customKinds: this.customKinds(),
        restoreCommands: settings.restoreCommands,
        // Only the lease holder restarts agents and enforces their limits; every window follows their states.
        supervise: lease.held,
        // The window's own connection, shared: no second client, and the pane pipes are shared too.
        tmux: {
          run: (argv) => service.run(argv),
          runStartingServer: (argv) => service.runStartingServer(argv),
          onTree: service.onDidChangeTree,
          tree: () => service.tree,
          output: outputHub(service).open,
        },
        kill: { interruptWaitMs: settings.interruptWaitMs, terminateWaitMs: settings.terminateWaitMs },
        log: {
          trace: (message: string) => this.ctx.log.trace(message),
          info: (message: string) => this.ctx.log.info(message),
          warn: (message: string) => this.ctx.log.warn(message),
          error: (message: string) => this.ctx.log.error(message),
        },
      });
      if (generation !== this.generation) {
        fleet.dispose();
        return undefined;
      }
      this.unavailable = undefined;
      this.current = fleet;
      this.fleetSubscriptions = [fleet.onDidChange(() => this.updateStatus()), fleet.onDidTransition((change) => this.transitioned(change.agent, change.previous))];
      this.tree.bind(fleet);
      this.updateStatus();
      void this.offerLeftovers(fleet);
      return fleet;
    } catch (error) {
      this.unavailable = (error as Error).message;
      this.ctx.log.warn(`agents: ${this.unavailable}`);
      return undefined;
    }
  }

  /**
   * The engine needs a running server to open; without one the view stays empty until a server
   * starts (a session made anywhere), and then the fleet opens by itself.
   */
  private followServer(): void {
    const service = this.ctx.service();
    if (this.followed === service) return;
    this.serverSubscription?.dispose();
    this.followed = service;
    this.serverSubscription = service.onDidChangeState(() => {
      if (service.state.kind === 'ok' && !this.current && !this.opening) void this.open();
    });
  }

  /** The custom kinds from the setting; a bad entry is skipped and said once, with what to change. */
  customKinds(): AgentKind[] {
    const specs = vscode.workspace.getConfiguration('tmuxSessionManager').get<CustomKindSpec[]>('agents.customKinds', []);
    const kinds: AgentKind[] = [];
    for (const spec of Array.isArray(specs) ? specs : []) {
      try {
        kinds.push(customKind(spec));
      } catch (error) {
        if (!(error instanceof AgentKindError)) throw error;
        this.ctx.log.warn(`tmuxSessionManager.agents.customKinds: ${error.message}`);
        void vscode.window.showWarningMessage(`tmuxSessionManager.agents.customKinds: ${error.message}`, 'Open Settings').then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'tmuxSessionManager.agents.customKinds');
        });
      }
    }
    return kinds;
  }

  /** After a crash or a reload: the engine has reconciled; leftovers are offered once, never removed unasked. */
  private async offerLeftovers(fleet: AgentFleet): Promise<void> {
    try {
      const candidates = await fleet.planCleanup();
      if (candidates.length === 0 || fleet !== this.current) return;
      this.leftoverOffers.push(candidates.length);
      const count = candidates.length === 1 ? '1 leftover' : `${candidates.length} leftovers`;
      const choice = await vscode.window.showInformationMessage(`${count} from agents (sessions, worktrees or finished agents) — review what to clean up.`, 'Review…');
      if (choice) await vscode.commands.executeCommand('tmuxSessionManager.cleanUpAgents');
    } catch (error) {
      this.ctx.log.warn(`agents: could not look for leftovers: ${(error as Error).message}`);
    }
  }

  private transitioned(agent: AgentInfo, previous: AgentState): void {
    const state = agent.state;
    if (!NOTIFYING_STATES.has(state.state)) return;
    // A new reason to wait (a second permission) is news; the same state again is not.
    const same = previous.state === state.state && (state.state !== 'waiting' || (previous.state === 'waiting' && previous.reason === state.reason && previous.tool === state.tool));
    if (same) return;
    const message = transitionMessage(agent);
    const session = agent.record.session;
    const enabled = vscode.workspace.getConfiguration('tmuxSessionManager').get<boolean>('agents.notify', true);
    const suppressed = !enabled ? 'settingOff' : this.terminalInFront(session) ? 'terminalInFront' : undefined;
    this.notices.push({ session, state: state.state, message, ...(suppressed ? { suppressed } : {}) });
    this.ctx.log.info(`agents: ${message}${suppressed ? ` (not shown: ${suppressed})` : ''}`);
    if (suppressed) return;
    const show = state.state === 'failed' || state.state === 'timedOut' ? vscode.window.showErrorMessage : state.state === 'stalled' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const actions = agent.pane ? ['Focus'] : [];
    void show(message, ...actions).then((choice) => {
      if (choice === 'Focus') void vscode.commands.executeCommand('tmuxSessionManager.focusAgent', session);
    });
  }

  /** Whether the user is looking at this agent's terminal right now. */
  private terminalInFront(session: string): boolean {
    const sessionId = this.ctx.service().tree.sessions.find((candidate) => candidate.name === session)?.id;
    const terminal = sessionId ? this.ctx.terminals.terminalFor(sessionId) : undefined;
    return !!terminal && vscode.window.state.focused && vscode.window.activeTerminal === terminal;
  }

  /** Opens (or shows) the attach terminal on the agent's own pane. */
  async focus(session: string): Promise<void> {
    const fleet = await this.fleet();
    const agent = fleet.get(session);
    if (!agent) throw new Error(`No agent runs in session "${session}" any more.`);
    const service = this.ctx.service();
    const pane = agent.pane ? findById(service.tree, agent.pane) : undefined;
    const target = pane ?? service.tree.sessions.find((candidate) => candidate.name === session);
    if (!target) throw new Error(`Session "${session}" is gone; the agent no longer has a terminal.`);
    await vscode.commands.executeCommand('tmuxSessionManager.attach', target);
  }

  /** The waiting agents, in the view's order. */
  waiting(): AgentInfo[] {
    return (this.current?.list() ?? []).filter((agent) => agent.state.state === 'waiting');
  }

  private updateStatus(): void {
    const waiting = this.waiting();
    if (waiting.length === 0) {
      this.statusItem.hide();
      return;
    }
    this.statusItem.text = `$(bell) ${waiting.length === 1 ? '1 agent' : `${waiting.length} agents`} waiting`;
    this.statusItem.tooltip = waiting.map((agent) => transitionMessage(agent)).join('\n');
    this.statusItem.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    this.statusItem.show();
  }

  /** Looks again whether the lease is free: soon at first (a reloading window's old process takes a moment to end), then now and then. */
  private watchLease(generation: number): void {
    clearTimeout(this.leaseRetry);
    this.leaseAttempts++;
    this.leaseRetry = setTimeout(async () => {
      if (generation !== this.generation) return;
      const lease = await takeLease((argv) => this.ctx.service().run(argv), AGENTS_LEASE, this.leaseToken).catch(() => undefined);
      if (generation !== this.generation || !lease) return;
      if (lease.held) {
        this.ctx.log.info('agents: this window supervises the agents now (the window that did has gone)');
        void this.open();
      } else if (lease.holder !== '') this.watchLease(generation);
    }, this.leaseAttempts <= 4 ? 250 : LEASE_RETRY_MS);
  }

  private close(): void {
    this.fleetSubscriptions.forEach((subscription) => subscription.dispose());
    this.fleetSubscriptions = [];
    const old = this.current;
    this.current = undefined;
    this.tree.bind(undefined);
    this.updateStatus();
    old?.dispose();
  }

  dispose(): void {
    this.generation++;
    clearTimeout(this.leaseRetry);
    // Hands supervision on at once instead of when this process has ended.
    if (this.supervising) void releaseLease((argv) => this.ctx.service().run(argv), AGENTS_LEASE, this.leaseToken).catch(() => undefined);
    this.serverSubscription?.dispose();
    this.close();
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
