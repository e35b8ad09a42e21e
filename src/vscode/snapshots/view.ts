import * as vscode from 'vscode';
import { countPanes } from '../../core/snapshots/document';
import type { SnapshotEntry, SnapshotStore } from '../../core/snapshots/store';
import { plural, tildePath } from '../format';
import { entryDescription, entryLabel, groupBySession } from './describe';

export const SNAPSHOTS_VIEW_ID = 'tmuxSessionManager.snapshots';
/** The ages in the descriptions ("5 min ago") are redrawn this often while the view is visible (only then). */
const AGE_REFRESH_MS = 60_000;

export interface SnapshotGroupNode {
  readonly type: 'snapshotGroup';
  readonly sessionName: string;
  /** Newest first. */
  readonly entries: readonly SnapshotEntry[];
}

export interface SnapshotEntryNode {
  readonly type: 'snapshot';
  readonly entry: SnapshotEntry;
}

export type SnapshotNode = SnapshotGroupNode | SnapshotEntryNode;

/**
 * Session name → its snapshots, newest first. Reads the store on every refresh; the store's
 * watcher refreshes it when files change, also when another window or the command-line tool
 * wrote them. contextValue is `snapshot.<good|broken>.<auto|manual>`, which the menus match.
 */
export class SnapshotTreeProvider implements vscode.TreeDataProvider<SnapshotNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<SnapshotNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private stopWatching: (() => void) | undefined;
  private view: vscode.TreeView<SnapshotNode> | undefined;
  private groups: SnapshotGroupNode[] = [];
  private ageTimer: NodeJS.Timeout | undefined;

  constructor(
    private store: SnapshotStore,
    private readonly log?: vscode.LogOutputChannel,
  ) {
    this.bind(store);
  }

  /** Follows another store (the data dir changed). */
  bind(store: SnapshotStore): void {
    this.stopWatching?.();
    this.store = store;
    try {
      this.stopWatching = store.watch(() => this.refresh());
    } catch (error) {
      this.stopWatching = undefined;
      this.log?.warn(`cannot watch ${store.snapshotsDir} for changes: ${(error as Error).message}`);
    }
    this.refresh();
  }

  attach(view: vscode.TreeView<SnapshotNode>): vscode.Disposable {
    this.view = view;
    this.followAges(view.visible);
    return view.onDidChangeVisibility((event) => {
      this.followAges(event.visible);
      if (event.visible) this.refresh();
    });
  }

  /** A hidden view costs nothing: no timer runs for it. */
  private followAges(visible: boolean): void {
    clearInterval(this.ageTimer);
    this.ageTimer = visible ? setInterval(() => this.refresh(), AGE_REFRESH_MS) : undefined;
  }

  refresh(): void {
    this.changeEmitter.fire(undefined);
  }

  /** The groups as last read (for tests and for the view's parents). */
  get currentGroups(): readonly SnapshotGroupNode[] {
    return this.groups;
  }

  async getChildren(element?: SnapshotNode): Promise<SnapshotNode[]> {
    if (element?.type === 'snapshotGroup') return element.entries.map((entry) => ({ type: 'snapshot', entry }));
    if (element) return [];
    let entries: SnapshotEntry[];
    try {
      entries = await this.store.list();
      if (this.view) this.view.message = undefined;
    } catch (error) {
      const message = `Cannot read the snapshots in ${tildePath(this.store.snapshotsDir)}: ${(error as Error).message}`;
      this.log?.warn(message);
      if (this.view) this.view.message = message;
      entries = [];
    }
    this.groups = [...groupBySession(entries)].map(([sessionName, list]) => ({ type: 'snapshotGroup', sessionName, entries: list }));
    return this.groups;
  }

  getParent(element: SnapshotNode): SnapshotNode | undefined {
    if (element.type === 'snapshotGroup') return undefined;
    return this.groups.find((g) => g.sessionName === element.entry.sessionName);
  }

  getTreeItem(element: SnapshotNode): vscode.TreeItem {
    return element.type === 'snapshotGroup' ? groupItem(element) : entryItem(element.entry);
  }

  /** Host and tmux version are in the document, not the listing: read it when the tooltip is wanted. */
  async resolveTreeItem(item: vscode.TreeItem, element: SnapshotNode): Promise<vscode.TreeItem> {
    if (element.type !== 'snapshot' || element.entry.broken) return item;
    try {
      const snapshot = await this.store.read(element.entry);
      const tooltip = entryTooltip(element.entry);
      tooltip.appendMarkdown(`\n- host: ${escapeMarkdown(snapshot.host)}\n- tmux ${escapeMarkdown(snapshot.tmuxVersion)}\n`);
      tooltip.appendMarkdown(`- windows: ${snapshot.session.windows.map((w) => `${w.index}: ${escapeMarkdown(w.name)}`).join(', ')} (${plural(countPanes(snapshot), 'pane')})\n`);
      item.tooltip = tooltip;
    } catch (error) {
      item.tooltip = `${entryLabel(element.entry)}: ${(error as Error).message}`;
    }
    return item;
  }

  dispose(): void {
    clearInterval(this.ageTimer);
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.changeEmitter.dispose();
  }
}

export function isSnapshotNode(value: unknown): value is SnapshotNode {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'snapshot' || type === 'snapshotGroup';
}

export function entryContextValue(entry: SnapshotEntry): string {
  return `snapshot.${entry.broken ? 'broken' : 'good'}.${entry.kind}`;
}

function groupItem(group: SnapshotGroupNode): vscode.TreeItem {
  const item = new vscode.TreeItem(group.sessionName, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `snapshotGroup:${group.sessionName}`;
  const good = group.entries.filter((e) => !e.broken);
  const broken = group.entries.length - good.length;
  item.description = plural(group.entries.length, 'snapshot') + (broken > 0 ? ` · ${broken} broken` : '');
  item.iconPath = new vscode.ThemeIcon('terminal-tmux');
  item.contextValue = good.length > 0 ? 'snapshotGroup.restorable' : 'snapshotGroup';
  item.tooltip = `Saved tmux session "${group.sessionName}": ${item.description}`;
  item.accessibilityInformation = { label: `snapshots of session ${group.sessionName}, ${item.description}` };
  return item;
}

function entryItem(entry: SnapshotEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(entryLabel(entry), vscode.TreeItemCollapsibleState.None);
  item.id = `snapshot:${entry.id}`;
  item.description = entryDescription(entry);
  item.contextValue = entryContextValue(entry);
  if (entry.broken) {
    item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
    item.tooltip = new vscode.MarkdownString().appendMarkdown(`**Cannot be restored:** ${escapeMarkdown(entry.broken)}\n\n`).appendMarkdown(`\`${escapeCode(tildePath(entry.file))}\``);
  } else {
    item.iconPath = new vscode.ThemeIcon(entry.kind === 'auto' ? 'history' : 'bookmark');
    item.tooltip = entryTooltip(entry);
  }
  item.accessibilityInformation = { label: `snapshot ${entryLabel(entry)} of ${entry.sessionName}, ${item.description}` };
  return item;
}

function entryTooltip(entry: SnapshotEntry): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escapeMarkdown(entryLabel(entry))}** — session ${escapeMarkdown(entry.sessionName)}\n\n`);
  md.appendMarkdown(`- saved ${escapeMarkdown(entry.savedAt.toLocaleString())} (${entry.kind === 'auto' ? 'autosave' : 'manual, kept until deleted'})\n`);
  md.appendMarkdown(`- ${plural(entry.windows, 'window')}, ${plural(entry.panes, 'pane')}, ${formatBytes(entry.bytes)}\n`);
  md.appendMarkdown(`- file: \`${escapeCode(tildePath(entry.file))}\``);
  return md;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function escapeCode(text: string): string {
  return text.replace(/`/g, "'");
}
