import * as vscode from 'vscode';
import type { AutosaveRecord } from '../core/snapshots/autosave';
import { allPanes, Tree } from '../tmux/model';
import { ServerState, TmuxService } from '../tmux/service';
import { describeServer } from '../tmux/server';
import { plural } from './format';
import { savedAtText } from './snapshots/describe';

export const STATUS_ITEM_ID = 'tmuxSessionManager.health';

interface Look {
  readonly text: string;
  readonly summary: string;
  readonly background?: 'warning' | 'error';
}

/** Text, icon and colour for a state; the tooltip adds the details. */
export function describeState(state: ServerState, tree: Tree): Look {
  switch (state.kind) {
    case 'ok': {
      const sessions = plural(tree.sessions.length, 'session');
      const dead = allPanes(tree).filter((pane) => pane.dead).length;
      if (dead > 0) return { text: `$(warning) tmux: ${sessions} · ${plural(dead, 'dead pane')}`, summary: `${sessions}, ${plural(dead, 'pane')} whose program ended`, background: 'warning' };
      return { text: `$(terminal-tmux) tmux: ${sessions}`, summary: `Connected: ${sessions}` };
    }
    case 'connecting':
      return { text: '$(sync~spin) tmux', summary: 'Connecting to tmux…' };
    case 'noServer':
      if (state.lastEnd?.unexpected) {
        const at = savedAtText(state.lastEnd.at);
        return { text: '$(error) tmux: server stopped unexpectedly', summary: `The tmux server stopped unexpectedly at ${at} (${state.lastEnd.detail}). Restore the autosaved sessions, or start a new one.`, background: 'error' };
      }
      return { text: '$(circle-slash) tmux: no server', summary: 'No tmux server is running. Click to start one.', background: 'warning' };
    case 'tmuxMissing':
      return { text: '$(error) tmux: not installed', summary: state.message, background: 'error' };
    case 'versionTooOld':
      return { text: `$(error) tmux: ${state.found} too old`, summary: state.message, background: 'error' };
    case 'reconnecting':
      return { text: '$(sync~spin) tmux: reconnecting', summary: `Reconnecting (attempt ${state.attempt}): ${state.reason}`, background: 'warning' };
    case 'error':
      return { text: '$(error) tmux: error', summary: state.message, background: 'error' };
    case 'stopped':
      return { text: '$(circle-slash) tmux: stopped', summary: 'Stopped.' };
  }
}

/** What the tooltip says about autosave: whether it is on, and what the last run did. */
export interface AutosaveStatus {
  /** 0: autosave is off. */
  readonly intervalMinutes: number;
  readonly record?: AutosaveRecord;
}

/** The tooltip's "last autosave" cell. */
export function describeAutosave(status: AutosaveStatus | undefined): string {
  if (!status) return '—';
  if (status.intervalMinutes <= 0) return 'off (setting "Autosave Minutes" is 0)';
  const record = status.record;
  if (!record) return `none yet (every ${plural(status.intervalMinutes, 'minute')})`;
  const time = record.at.toLocaleTimeString();
  if (record.error) return `failed at ${time}: ${record.error}`;
  const parts = [`${plural(record.sessionsWritten, 'session')} saved`];
  if (record.sessionsUnchanged > 0) parts.push(`${record.sessionsUnchanged} unchanged`);
  return `${time} · ${parts.join(', ')}`;
}

/**
 * The health indicator. It follows the service's state and tree at once (not debounced, and also
 * while the tree view is hidden), since it is the only thing the user sees most of the time.
 */
export class HealthStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private subscriptions: vscode.Disposable[] = [];
  private autosave: AutosaveStatus | undefined;
  private autosaveToRestore = false;

  constructor(private service: TmuxService) {
    this.item = vscode.window.createStatusBarItem(STATUS_ITEM_ID, vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Tmux Health';
    this.item.command = 'tmuxSessionManager.showHealth';
    this.bind(service);
    this.item.show();
  }

  bind(service: TmuxService): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.service = service;
    this.subscriptions = [service.onDidChangeState(() => this.update()), service.onDidChangeTree(() => this.update())];
    this.update();
  }

  /** Shown text, for tests. */
  get text(): string {
    return this.item.text;
  }

  /** The tooltip's markdown, for tests. */
  get tooltipText(): string {
    const tooltip = this.item.tooltip;
    return typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? '');
  }

  /** The autosaver reports here after every run (and when it is turned on or off). */
  setAutosave(status: AutosaveStatus | undefined): void {
    this.autosave = status;
    this.update();
  }

  /** With no server, the tooltip offers to restore the last autosave, when there is one. */
  setAutosaveToRestore(available: boolean): void {
    if (this.autosaveToRestore === available) return;
    this.autosaveToRestore = available;
    this.update();
  }

  update(): void {
    const state = this.service.state;
    const tree = this.service.tree;
    const look = describeState(state, tree);
    this.item.text = look.text;
    this.item.backgroundColor = look.background ? new vscode.ThemeColor(`statusBarItem.${look.background}Background`) : undefined;
    this.item.accessibilityInformation = { label: `tmux: ${look.summary}` };
    this.item.tooltip = this.tooltip(look);
  }

  private tooltip(look: Look): vscode.MarkdownString {
    const stats = this.service.getStats();
    const tree = this.service.tree;
    const windows = tree.sessions.reduce((n, s) => n + s.windows.length, 0);
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['tmuxSessionManager.showHealth', 'tmuxSessionManager.newSession', 'tmuxSessionManager.showLog', 'tmuxSessionManager.restoreAutosaved'] };
    md.appendMarkdown(`**tmux** — ${escape(look.summary)}\n\n`);
    md.appendMarkdown(`| | |\n|---|---|\n`);
    md.appendMarkdown(`| tmux | \`${escape(this.service.address.tmuxPath)}\` ${stats.version ? stats.version.text : ''} |\n`);
    md.appendMarkdown(`| server | ${escape(describeServer(this.service.address))} |\n`);
    md.appendMarkdown(`| socket | \`${escape(stats.socket)}\` |\n`);
    if (this.service.state.kind === 'ok') {
      md.appendMarkdown(`| objects | ${plural(tree.sessions.length, 'session')}, ${plural(windows, 'window')}, ${plural(allPanes(tree).length, 'pane')} |\n`);
    }
    md.appendMarkdown(`| last event | ${stats.lastEventAt ? new Date(stats.lastEventAt).toLocaleTimeString() : '—'} |\n`);
    if (stats.lastError) md.appendMarkdown(`| last error | ${escape(stats.lastError.message)} (${new Date(stats.lastError.at).toLocaleTimeString()}) |\n`);
    if (this.autosave) md.appendMarkdown(`| last autosave | ${escape(describeAutosave(this.autosave))} |\n`);
    md.appendMarkdown(`\n[Health report](command:tmuxSessionManager.showHealth) · [Log](command:tmuxSessionManager.showLog)`);
    if (this.service.state.kind === 'noServer') {
      md.appendMarkdown(' · [New session](command:tmuxSessionManager.newSession)');
      if (this.autosaveToRestore) md.appendMarkdown(' · [Restore autosaved sessions](command:tmuxSessionManager.restoreAutosaved)');
    }
    return md;
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.item.dispose();
  }
}

function escape(text: string): string {
  return text.replace(/[|\\`*_[\]<>]/g, '\\$&');
}

