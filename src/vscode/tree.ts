import * as vscode from 'vscode';
import { isStale } from '../core/gc/candidates';
import type { PaneMetrics, SessionMetrics } from '../core/metrics/sample';
import { findById, Pane, Session, TmuxObject, Tree, Window } from '../tmux/model';
import { TmuxService } from '../tmux/service';
import { ago, plural, tildePath } from './format';
import { metricsLines, shortMetrics } from './metrics/describe';

/** What the rows show of the metrics, when sampling runs (see src/vscode/metrics/controller.ts). */
export interface TreeMetrics {
  pane(id: string): PaneMetrics | undefined;
  session(id: string): SessionMetrics | undefined;
  /** `metrics.showInDescription`: "12% · 340 MB" in the row's description too, not only its tooltip. */
  readonly inDescription: boolean;
}

export const VIEW_ID = 'tmuxSessionManager.sessions';
/** Coalesces bursts of changes (a script creating ten windows) into one repaint. */
const REFRESH_DEBOUNCE_MS = 40;

/**
 * Sessions → windows → panes. Elements are the model's own objects; TreeItem.id is the tmux id,
 * so VS Code keeps expansion and selection when the tree is rebuilt. Repaints follow the service's
 * change events and wait while the view is hidden.
 */
export class SessionTreeProvider implements vscode.TreeDataProvider<TmuxObject>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TmuxObject | TmuxObject[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private tree: Tree;
  private view: vscode.TreeView<TmuxObject> | undefined;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private serviceSubscription: vscode.Disposable | undefined;
  /** Counts repaints, for tests and the health report. */
  repaints = 0;
  /** Minutes without activity before a session shows "stale" (setting cleanup.staleMinutes); 0: never. */
  staleMinutes = 5;
  private metrics: TreeMetrics | undefined;
  /** A pane that runs a profile's service shows the service's state (set by the profiles controller). */
  serviceLook: ((pane: Pane) => { name: string; label: string; icon: vscode.ThemeIcon; tooltip: string } | undefined) | undefined;

  constructor(private service: TmuxService) {
    this.tree = service.tree;
    this.bind(service);
  }

  /** Follows a new service after the connection settings changed. */
  bind(service: TmuxService): void {
    this.serviceSubscription?.dispose();
    this.service = service;
    this.serviceSubscription = service.onDidChangeTree(() => this.scheduleRefresh());
    this.scheduleRefresh();
  }

  attach(view: vscode.TreeView<TmuxObject>): vscode.Disposable {
    this.view = view;
    return view.onDidChangeVisibility((event) => {
      if (event.visible && this.pending) this.scheduleRefresh();
    });
  }

  /** Repaints now (the Refresh button). */
  refreshNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = false;
    this.tree = this.service.tree;
    this.repaints++;
    this.changeEmitter.fire(undefined);
  }

  /** Shows (or, with undefined, stops showing) metrics on the rows. */
  setMetrics(metrics: TreeMetrics | undefined): void {
    this.metrics = metrics;
    this.changeEmitter.fire(undefined);
  }

  /** Repaints only the rows whose metrics text changed, by tmux id; an idle server repaints nothing. */
  repaintMetrics(ids: readonly string[]): void {
    const rows = ids.map((id) => findById(this.tree, id)).filter((row): row is TmuxObject => row !== undefined);
    if (rows.length > 0) this.changeEmitter.fire(rows);
  }

  private scheduleRefresh(): void {
    this.pending = true;
    if (this.view && !this.view.visible) return;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending) this.refreshNow();
    }, REFRESH_DEBOUNCE_MS);
  }

  getChildren(element?: TmuxObject): TmuxObject[] {
    if (!element) return [...this.tree.sessions];
    const current = findById(this.tree, element.id);
    if (!current) return [];
    if (current.kind === 'session') return [...current.windows];
    if (current.kind === 'window') return [...current.panes];
    return [];
  }

  getParent(element: TmuxObject): TmuxObject | undefined {
    if (element.kind === 'session') return undefined;
    if (element.kind === 'window') return findById(this.tree, element.sessionId);
    return findById(this.tree, element.windowId);
  }

  getTreeItem(element: TmuxObject): vscode.TreeItem {
    switch (element.kind) {
      case 'session':
        return sessionItem(element, this.staleMinutes, this.metrics);
      case 'window':
        return windowItem(element);
      case 'pane': {
        const item = paneItem(element, this.metrics);
        const look = this.serviceLook?.(element);
        if (look) {
          // The service's name says more than its program (`sleep`, or `tmux` for a dead pane).
          item.label = look.name;
          item.description = `${look.label} · ${item.description}`;
          item.iconPath = look.icon;
          item.tooltip = new vscode.MarkdownString(`${look.tooltip}\n\n---\n\n${(item.tooltip as vscode.MarkdownString).value}`);
          item.contextValue = `${item.contextValue ?? 'tmuxPane'}.service`;
        }
        return item;
      }
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.serviceSubscription?.dispose();
    this.changeEmitter.dispose();
  }
}

function sessionItem(session: Session, staleMinutes: number, metrics?: TreeMetrics): vscode.TreeItem {
  const item = new vscode.TreeItem(session.name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = session.id;
  const parts = [plural(session.windows.length, 'window')];
  if (session.attachedClients > 0) parts.push(session.attachedClients === 1 ? 'attached' : `${session.attachedClients} attached`);
  const deadPanes = session.windows.reduce((n, w) => n + w.panes.filter((p) => p.dead).length, 0);
  if (deadPanes > 0) parts.push(plural(deadPanes, 'dead pane'));
  if (session.protected) parts.push('protected');
  if (isStale(session, Date.now(), staleMinutes)) parts.push('stale');
  item.description = parts.join(' · ');
  item.iconPath = new vscode.ThemeIcon(
    session.protected ? 'lock' : 'terminal-tmux',
    deadPanes > 0 ? new vscode.ThemeColor('list.warningForeground') : session.attachedClients > 0 ? new vscode.ThemeColor('charts.green') : undefined,
  );
  // The protection suffix comes last, so menus matching /^tmuxSession/ still match every session.
  item.contextValue = `${session.attachedClients > 0 ? 'tmuxSession.attached' : 'tmuxSession'}.${session.protected ? 'protected' : 'unprotected'}`;
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendMarkdown(`**${escapeMarkdown(session.name)}** \`${session.id}\`\n\n`);
  tooltip.appendMarkdown(`${item.description}\n\n`);
  tooltip.appendMarkdown(`Created ${ago(session.created)} · last activity ${ago(session.activity)}`);
  const usage = metrics?.session(session.id);
  if (usage) {
    tooltip.appendMarkdown(`\n\nAll its panes:\n${metricsLines(usage)}`);
    if (metrics?.inDescription) item.description += ` · ${shortMetrics(usage)}`;
  }
  item.tooltip = tooltip;
  item.accessibilityInformation = { label: `tmux session ${session.name}, ${item.description}` };
  return item;
}

function windowItem(window: Window): vscode.TreeItem {
  const item = new vscode.TreeItem(`${window.index}: ${window.name}`, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = window.id;
  const marks = [];
  if (window.active) marks.push('active');
  if (window.zoomed) marks.push('zoomed');
  if (window.panes.length > 1) marks.push(plural(window.panes.length, 'pane'));
  item.description = marks.join(' · ');
  item.iconPath = new vscode.ThemeIcon(window.zoomed ? 'screen-full' : 'window', window.active ? new vscode.ThemeColor('charts.blue') : undefined);
  item.contextValue = 'tmuxWindow';
  const tooltip = new vscode.MarkdownString();
  tooltip.appendMarkdown(`**${escapeMarkdown(window.name)}** \`${window.id}\` (index ${window.index})\n\n`);
  if (marks.length) tooltip.appendMarkdown(`${marks.join(' · ')}\n\n`);
  tooltip.appendMarkdown(`Last output ${ago(window.activity)}`);
  item.tooltip = tooltip;
  return item;
}

function paneItem(pane: Pane, metrics?: TreeMetrics): vscode.TreeItem {
  const item = new vscode.TreeItem(pane.currentCommand || '(starting)', vscode.TreeItemCollapsibleState.None);
  item.id = pane.id;
  const cwd = tildePath(pane.currentPath);
  if (pane.dead) {
    const status = pane.deadStatus === undefined ? 'exited' : `exited ${pane.deadStatus}`;
    item.description = `${status} · ${cwd}`;
    item.iconPath = new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor(pane.deadStatus === 0 ? 'disabledForeground' : 'errorForeground'));
    item.contextValue = 'tmuxPane.dead';
  } else {
    item.description = cwd;
    item.iconPath = new vscode.ThemeIcon('terminal', pane.inMode ? new vscode.ThemeColor('charts.yellow') : pane.active ? new vscode.ThemeColor('charts.blue') : undefined);
    item.contextValue = 'tmuxPane';
  }
  const tooltip = new vscode.MarkdownString();
  tooltip.appendMarkdown(`**${escapeMarkdown(pane.currentCommand)}** \`${pane.id}\`${pane.active ? ' (active)' : ''}\n\n`);
  tooltip.appendMarkdown(`- folder: \`${escapeMarkdown(cwd)}\`\n- pid: ${pane.pid}\n- size: ${pane.width}×${pane.height}\n`);
  if (pane.title && pane.title !== pane.currentCommand) tooltip.appendMarkdown(`- title: ${escapeMarkdown(pane.title)}\n`);
  if (pane.dead) tooltip.appendMarkdown(`- program ended${pane.deadStatus === undefined ? '' : ` with status ${pane.deadStatus}`}\n`);
  if (pane.inMode) tooltip.appendMarkdown('- in copy mode\n');
  const usage = pane.dead ? undefined : metrics?.pane(pane.id);
  if (usage) {
    tooltip.appendMarkdown(metricsLines(usage));
    if (metrics?.inDescription) item.description = `${shortMetrics(usage)} · ${item.description}`;
  }
  item.tooltip = tooltip;
  return item;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
