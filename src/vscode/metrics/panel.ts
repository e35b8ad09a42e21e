import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { MetricsSample } from '../../core/metrics/sample';
import { MetricsSampler } from '../../core/metrics/sampler';
import { bytes, percent, rate } from './describe';

/** One table row as the page gets it: display text plus the numbers it sorts by. */
export interface MetricsRow {
  readonly target: string;
  readonly paneId: string;
  readonly program: string;
  readonly pid: number;
  readonly cpu: string;
  readonly rss: string;
  readonly read: string;
  readonly write: string;
  readonly cpuValue: number;
  readonly rssValue: number;
}

export function tableRows(sample: MetricsSample): MetricsRow[] {
  return sample.panes.map((pane) => ({
    target: pane.target,
    paneId: pane.paneId,
    program: pane.program,
    pid: pane.pid,
    cpu: percent(pane.cpuPercent),
    rss: bytes(pane.rssBytes),
    read: rate(pane.readBytesPerSecond),
    write: rate(pane.writeBytesPerSecond),
    cpuValue: pane.cpuPercent ?? -1,
    rssValue: pane.rssBytes,
  }));
}

/**
 * "Tmux: Show Metrics": a table of every pane, updated with each sample while it is visible (its
 * being visible is itself a reason to sample). One panel at a time; the command reveals it again.
 * The page loads nothing remote and runs only its own nonce-tagged script; pane names and programs
 * reach it as data and are set as text, never as markup.
 */
export class MetricsPanel implements vscode.Disposable {
  static readonly viewType = 'tmuxSessionManager.metrics';
  private panel: vscode.WebviewPanel | undefined;
  private demand: vscode.Disposable | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Rows posted to the page (tests read it). */
  lastPosted: readonly MetricsRow[] = [];

  constructor(private readonly sampler: () => MetricsSampler) {}

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(MetricsPanel.viewType, 'Tmux Metrics', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
    this.panel = panel;
    panel.webview.html = page(crypto.randomBytes(16).toString('base64'), panel.webview.cspSource);
    this.subscriptions.push(
      panel.onDidChangeViewState(() => this.followVisibility()),
      panel.webview.onDidReceiveMessage((message: { type?: string }) => {
        if (message?.type === 'ready' && this.sampler().latest) this.post(this.sampler().latest!);
      }),
      panel.onDidDispose(() => this.closed()),
    );
    this.followVisibility();
  }

  /** Called by the controller with each sample. */
  update(sample: MetricsSample): void {
    if (this.panel?.visible) this.post(sample);
  }

  private post(sample: MetricsSample): void {
    this.lastPosted = tableRows(sample);
    void this.panel?.webview.postMessage({ type: 'sample', rows: this.lastPosted, takenAt: sample.takenAt, source: sample.source });
  }

  private followVisibility(): void {
    if (this.panel?.visible) this.demand ??= this.sampler().demand('metrics table');
    else {
      this.demand?.dispose();
      this.demand = undefined;
    }
  }

  private closed(): void {
    this.demand?.dispose();
    this.demand = undefined;
    this.subscriptions.splice(0).forEach((subscription) => subscription.dispose());
    this.panel = undefined;
  }

  get visible(): boolean {
    return !!this.panel?.visible;
  }

  dispose(): void {
    this.panel?.dispose();
    this.closed();
  }
}

function page(nonce: string, cspSource: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Tmux Metrics</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 12px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); white-space: nowrap; }
  th { position: sticky; top: 0; background: var(--vscode-editor-background); font-weight: 600; }
  th.sortable { cursor: pointer; text-decoration: underline dotted; }
  td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
  .muted { color: var(--vscode-descriptionForeground); }
</style>
</head>
<body>
<p id="status" class="muted">Waiting for the first sample…</p>
<table id="metrics" aria-label="Tmux panes by resource use">
<thead><tr>
  <th>Pane</th><th>Program</th>
  <th class="number sortable" data-sort="cpuValue" tabindex="0">CPU</th>
  <th class="number sortable" data-sort="rssValue" tabindex="0">Memory</th>
  <th class="number">Disk read</th><th class="number">Disk write</th><th class="number">PID</th><th>Id</th>
</tr></thead>
<tbody></tbody>
</table>
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  let rows = [];
  let sortKey = (vscode.getState() || {}).sortKey || 'cpuValue';
  const headers = document.querySelectorAll('th.sortable');
  function render() {
    const body = document.querySelector('#metrics tbody');
    const sorted = [...rows].sort((a, b) => b[sortKey] - a[sortKey] || a.target.localeCompare(b.target));
    body.replaceChildren(...sorted.map((row) => {
      const tr = document.createElement('tr');
      for (const [key, number] of [['target'], ['program'], ['cpu', 1], ['rss', 1], ['read', 1], ['write', 1], ['pid', 1], ['paneId']]) {
        const td = document.createElement('td');
        td.textContent = String(row[key]);
        if (number) td.className = 'number';
        tr.appendChild(td);
      }
      return tr;
    }));
    headers.forEach((th) => {
      const active = th.dataset.sort === sortKey;
      th.setAttribute('aria-sort', active ? 'descending' : 'none');
      th.textContent = th.textContent.replace(/ ▼$/, '') + (active ? ' ▼' : '');
    });
  }
  headers.forEach((th) => {
    const choose = () => { sortKey = th.dataset.sort; vscode.setState({ sortKey }); render(); };
    th.addEventListener('click', choose);
    th.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') choose(); });
  });
  window.addEventListener('message', (event) => {
    if (event.data.type !== 'sample') return;
    rows = event.data.rows;
    document.getElementById('status').textContent = rows.length + (rows.length === 1 ? ' pane' : ' panes') + ' · sampled ' + new Date(event.data.takenAt).toLocaleTimeString() + (event.data.source === 'ps' ? ' · from ps (no disk I/O here)' : '') + ' · click CPU or Memory to sort';
    render();
  });
  render();
  vscode.postMessage({ type: 'ready' });
</script>
</body>
</html>`;
}
