import * as os from 'node:os';
import * as vscode from 'vscode';
import type { AgentFleet } from '../../core/agents/fleet';
import type { AgentState } from '../../core/agents/state';
import { contextValue, rowDescription, tooltipLines } from './describe';

export const AGENTS_VIEW_ID = 'tmuxSessionManager.agents';
/** Hook events come in bursts (a tool call is two or three events): one repaint per burst. */
const REPAINT_DEBOUNCE_MS = 50;
/** "· 2 min" in each row goes stale; while the view is visible it is redrawn this often. */
const CLOCK_TICK_MS = 15_000;

/** The state icon: a codicon and a theme colour, so it follows the user's theme. */
export function stateIcon(state: AgentState): vscode.ThemeIcon {
  const icon = (name: string, color?: string) => new vscode.ThemeIcon(name, color ? new vscode.ThemeColor(color) : undefined);
  switch (state.state) {
    case 'starting':
      return icon('loading~spin');
    case 'working':
      return icon('sync~spin', 'charts.blue');
    case 'waiting':
      return state.reason === 'blocked' ? icon('warning', 'charts.orange') : icon('bell', 'charts.yellow');
    case 'idle':
      return icon('circle-large-outline');
    case 'done':
      return icon('check', 'charts.green');
    case 'failed':
      return icon('error', 'errorForeground');
    case 'timedOut':
      return icon('clock', 'errorForeground');
    case 'recovering':
      return icon('debug-restart', 'charts.yellow');
    case 'stalled':
      return icon('debug-pause', 'charts.orange');
    case 'stopping':
      return icon('debug-stop');
    default:
      return icon('circle-slash', 'disabledForeground');
  }
}

/**
 * One row per agent of the current fleet. Elements are the agents' session names (stable across
 * state changes, so VS Code keeps the selection); rows are redrawn after the fleet's changes,
 * debounced, and not at all while the view is hidden.
 */
export class AgentTreeProvider implements vscode.TreeDataProvider<string>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<string | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private fleet: AgentFleet | undefined;
  private fleetSubscription: { dispose(): void } | undefined;
  private view: vscode.TreeView<string> | undefined;
  private pending = false;
  private debounce: NodeJS.Timeout | undefined;
  private clock: NodeJS.Timeout | undefined;
  /** Counts repaints, for tests. */
  repaints = 0;

  bind(fleet: AgentFleet | undefined): void {
    this.fleetSubscription?.dispose();
    this.fleet = fleet;
    this.fleetSubscription = fleet?.onDidChange(() => this.scheduleRepaint());
    this.repaintNow();
  }

  attach(view: vscode.TreeView<string>): vscode.Disposable {
    this.view = view;
    const visibility = view.onDidChangeVisibility((event) => {
      if (event.visible && this.pending) this.scheduleRepaint();
      this.followClock();
    });
    this.followClock();
    return visibility;
  }

  getChildren(element?: string): string[] {
    if (element || !this.fleet) return [];
    return this.fleet.list().map((agent) => agent.record.session);
  }

  getParent(): undefined {
    return undefined;
  }

  getTreeItem(session: string): vscode.TreeItem {
    const agent = this.fleet?.get(session);
    const item = new vscode.TreeItem(agent?.record.task ?? session, vscode.TreeItemCollapsibleState.None);
    item.id = `agent:${session}`;
    if (!agent) return item;
    item.description = rowDescription(agent);
    item.iconPath = stateIcon(agent.state);
    item.contextValue = contextValue(agent, this.fleet?.canAnswerPermission(session) ?? false);
    const tooltip = new vscode.MarkdownString(tooltipLines(agent, os.homedir()).join('\n'));
    tooltip.supportThemeIcons = true;
    item.tooltip = tooltip;
    item.accessibilityInformation = { label: `${agent.record.task}, ${item.description}` };
    // A click does what a user most often wants from a row: look at the agent.
    if (agent.pane) item.command = { command: 'tmuxSessionManager.focusAgent', title: 'Focus', arguments: [session] };
    return item;
  }

  /** The agent whose row to reveal, for the status bar's click. */
  async reveal(session: string): Promise<void> {
    await this.view?.reveal(session, { select: true, focus: true });
  }

  repaintNow(): void {
    clearTimeout(this.debounce);
    this.debounce = undefined;
    this.pending = false;
    this.repaints++;
    this.changeEmitter.fire(undefined);
    this.followClock();
  }

  dispose(): void {
    clearTimeout(this.debounce);
    clearInterval(this.clock);
    this.fleetSubscription?.dispose();
    this.changeEmitter.dispose();
  }

  private scheduleRepaint(): void {
    this.pending = true;
    if (this.view && !this.view.visible) return;
    if (this.debounce) return;
    this.debounce = setTimeout(() => this.repaintNow(), REPAINT_DEBOUNCE_MS);
  }

  /** Ticks only while someone can see the times and there is an agent to show. */
  private followClock(): void {
    const wanted = !!this.view?.visible && (this.fleet?.list().length ?? 0) > 0;
    if (wanted && !this.clock) this.clock = setInterval(() => this.repaintNow(), CLOCK_TICK_MS);
    if (!wanted && this.clock) {
      clearInterval(this.clock);
      this.clock = undefined;
    }
  }
}
