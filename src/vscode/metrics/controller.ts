import * as vscode from 'vscode';
import { LimitEnforcer } from '../../core/metrics/enforcer';
import { describeBreach, LimitBreach, parseLimitSpecs, PaneRestarter } from '../../core/metrics/limits';
import { byPane, MetricsSample, PaneMetrics, SessionMetrics } from '../../core/metrics/sample';
import { MetricsSampler } from '../../core/metrics/sampler';
import { PaneId, SessionId, TmuxObject, Tree } from '../../tmux/model';
import { Settings } from '../settings';
import { SessionTreeProvider, TreeMetrics } from '../tree';
import { metricsLines, shortMetrics } from './describe';
import { MetricsPanel } from './panel';

export interface MetricsControllerOptions {
  readonly log: vscode.LogOutputChannel;
  readonly settings: () => Settings;
  /** The current service's runner and tree (the service is replaced on reconnect). */
  readonly run: (argv: readonly string[]) => Promise<string[]>;
  readonly tree: () => Tree;
  readonly treeProvider: SessionTreeProvider;
  readonly treeView: vscode.TreeView<TmuxObject>;
}

/**
 * Wires the metrics core to the workbench: sampling while the Sessions view or the metrics table is
 * visible (or limits are set), the numbers on tree rows, the table, and limit breaches logged and
 * notified once each.
 */
export class MetricsController implements vscode.Disposable, TreeMetrics {
  readonly sampler: MetricsSampler;
  readonly panel: MetricsPanel;
  private readonly enforcer: LimitEnforcer;
  private readonly disposables: vscode.Disposable[] = [];
  private viewDemand: vscode.Disposable | undefined;
  private panes = new Map<PaneId, PaneMetrics>();
  private sessions = new Map<SessionId, SessionMetrics>();
  /** What each row showed last, to repaint only rows whose text changed. */
  private shown = new Map<string, string>();
  private restarter: PaneRestarter | undefined;
  private lastError: string | undefined;
  /** Every breach notified, oldest first (tests read it). */
  readonly breaches: LimitBreach[] = [];

  constructor(private readonly options: MetricsControllerOptions) {
    const settings = options.settings();
    this.sampler = new MetricsSampler(options.tree, { intervalSeconds: settings.metricsIntervalSeconds, onError: (error) => this.sampleFailed(error) });
    this.panel = new MetricsPanel(() => this.sampler);
    this.enforcer = new LimitEnforcer(this.sampler, this.readLimits(settings), {
      run: options.run,
      tree: options.tree,
      timings: settings,
      restarter: { restart: (paneId) => this.restarter?.restart(paneId) ?? Promise.resolve(false) },
      onBreach: (breach) => this.notifyBreach(breach),
      onActionError: (breach, error) => options.log.error(`limit action "${breach.spec.action}" on ${breach.pane.target} failed: ${error instanceof Error ? error.message : String(error)}`),
    });
    this.disposables.push(
      this.sampler.onDidSample((sample) => this.sampled(sample)),
      options.treeView.onDidChangeVisibility(() => this.followView()),
    );
    this.followView();
  }

  get inDescription(): boolean {
    return this.options.settings().metricsShowInDescription;
  }

  pane(id: string): PaneMetrics | undefined {
    return this.panes.get(id as PaneId);
  }

  session(id: string): SessionMetrics | undefined {
    return this.sessions.get(id as SessionId);
  }

  /** A supervisor that restarts panes its own way takes `restart` actions first. */
  setRestarter(restarter: PaneRestarter | undefined): void {
    this.restarter = restarter;
  }

  /** After `metrics.*` settings changed. */
  settingsChanged(): void {
    const settings = this.options.settings();
    this.sampler.setInterval(settings.metricsIntervalSeconds);
    this.enforcer.setSpecs(this.readLimits(settings));
    this.shown.clear();
    this.options.treeProvider.setMetrics(this.panes.size > 0 ? this : undefined);
  }

  private readLimits(settings: Settings) {
    const { specs, problems } = parseLimitSpecs(settings.metricsLimits);
    if (problems.length > 0) {
      problems.forEach((problem) => this.options.log.warn(`tmuxSessionManager.metrics.limits: ${problem}`));
      void vscode.window.showWarningMessage(`Tmux: ${problems.length === 1 ? 'a limit' : `${problems.length} limits`} in tmuxSessionManager.metrics.limits cannot be used: ${problems[0]}`, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettingsJson');
      });
    }
    if (specs.length > 0) this.options.log.info(`watching ${specs.length} resource limit${specs.length === 1 ? '' : 's'}`);
    return specs;
  }

  private followView(): void {
    if (this.options.treeView.visible) this.viewDemand ??= this.sampler.demand('Sessions view');
    else {
      this.viewDemand?.dispose();
      this.viewDemand = undefined;
    }
  }

  private sampled(sample: MetricsSample): void {
    this.lastError = undefined;
    const first = this.panes.size === 0;
    this.panes = byPane(sample);
    this.sessions = new Map(sample.sessions.map((session) => [session.sessionId, session]));
    this.panel.update(sample);
    if (first) {
      this.options.treeProvider.setMetrics(this);
      this.shown.clear();
    }
    const changed: string[] = [];
    const note = (id: string, metrics: PaneMetrics | SessionMetrics) => {
      const text = shortMetrics(metrics) + metricsLines(metrics);
      if (this.shown.get(id) !== text) changed.push(id);
      this.shown.set(id, text);
    };
    sample.panes.forEach((pane) => note(pane.paneId, pane));
    sample.sessions.forEach((session) => note(session.sessionId, session));
    if (!first && changed.length > 0) this.options.treeProvider.repaintMetrics(changed);
  }

  private notifyBreach(breach: LimitBreach): void {
    this.breaches.push(breach);
    const text = describeBreach(breach);
    this.options.log.warn(`limit: ${text}`);
    void vscode.window.showWarningMessage(`Tmux limit: ${text}`, 'Show Metrics').then((choice) => {
      if (choice) this.panel.show();
    });
  }

  private sampleFailed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    // Logged once per cause, not every 2 s.
    if (message !== this.lastError) this.options.log.warn(`metrics: a sample failed: ${message}`);
    this.lastError = message;
  }

  dispose(): void {
    this.viewDemand?.dispose();
    this.enforcer.dispose();
    this.panel.dispose();
    this.sampler.dispose();
    this.disposables.splice(0).forEach((item) => item.dispose());
  }
}
