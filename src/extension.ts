import * as vscode from 'vscode';
import type { Autosaver } from './core/snapshots/autosave';
import { LayoutKeeper } from './core/snapshots/proportions';
import { SnapshotStore } from './core/snapshots/store';
import { waitForOutput, WaitForOptions, WaitResult } from './core/output/waitFor';
import { PaneId, TmuxObject } from './tmux/model';
import { TmuxService } from './tmux/service';
import { registerCommands } from './vscode/commands';
import { registerLanguageModelTools } from './vscode/languageModelTools';
import { outputHub } from './vscode/outputs';
import { PaneFollowers } from './vscode/commands/followPane';
import { MetricsController } from './vscode/metrics/controller';
import { refreshInstalledCli } from './vscode/commands/installCli';
import { ExtensionContextServices } from './vscode/context';
import { channelLogger } from './vscode/log';
import { affectsAutosave, affectsConnection, affectsMetrics, affectsStore, readSettings, Settings } from './vscode/settings';
import { AutosaveController } from './vscode/snapshots/autosave';
import { hasAutosave, offerRestoreAfterReboot } from './vscode/snapshots/startup';
import { SNAPSHOTS_VIEW_ID, SnapshotNode, SnapshotTreeProvider } from './vscode/snapshots/view';
import { HealthStatusBar } from './vscode/statusBar';
import { noticeServerEnd, ServerEndNotice } from './vscode/serverEnd';
import { AttachTerminals } from './vscode/terminals';
import { AutomaticCleanup, followStaleMarks } from './vscode/gc/automatic';
import { agentsController, showAgentsView } from './vscode/agents/controller';
import { SessionTreeProvider, VIEW_ID } from './vscode/tree';

/** What activate returns: for tests and for other extensions that want to read the live model. */
export interface TmuxSessionManagerApi {
  service(): TmuxService;
  readonly statusBar: HealthStatusBar;
  readonly treeProvider: SessionTreeProvider;
  /** The Snapshots view's provider. */
  readonly snapshotTree: SnapshotTreeProvider;
  /** Where snapshots are saved (follows the dataDir setting). */
  store(): SnapshotStore;
  /** The running autosaver; undefined while autosave is off. */
  autosaver(): Autosaver | undefined;
  layoutKeeper(): LayoutKeeper;
  /** What each "server stopped unexpectedly" notice said, oldest first. */
  readonly serverEndNotices: readonly ServerEndNotice[];
  /** The open Follow Pane Output terminals. */
  readonly followers: PaneFollowers;
  /** Per-pane metrics: the sampler (its sample count), the table, limit breaches. */
  readonly metrics: MetricsController;
  /**
   * Waits for a pane's new output to match, go quiet or end (see core/output/waitFor.ts), sharing
   * the pane's one pipe with this window's Follow views and other waits.
   */
  waitForOutput(paneId: PaneId, options: Omit<WaitForOptions, 'open' | 'output'>): Promise<WaitResult>;
}

let current: TmuxService | undefined;
let currentKeeper: LayoutKeeper | undefined;
let currentAutosave: AutosaveController | undefined;

export function activate(context: vscode.ExtensionContext): TmuxSessionManagerApi {
  const log = vscode.window.createOutputChannel('Tmux', { log: true });
  let settings: Settings = readSettings();
  let service = createService(settings, log);
  let store = createStore(settings, log);
  let layoutKeeper = new LayoutKeeper(service);
  currentKeeper = layoutKeeper;

  const treeProvider = new SessionTreeProvider(service);
  const treeView = vscode.window.createTreeView<TmuxObject>(VIEW_ID, { treeDataProvider: treeProvider, showCollapseAll: true });
  const statusBar = new HealthStatusBar(service);
  const terminals = new AttachTerminals();
  const snapshotTree = new SnapshotTreeProvider(store, log);
  const snapshotView = vscode.window.createTreeView<SnapshotNode>(SNAPSHOTS_VIEW_ID, { treeDataProvider: snapshotTree, showCollapseAll: true });
  const autosave = new AutosaveController(statusBar, log);
  currentAutosave = autosave;
  autosave.rebuild(service, store, settings);
  const metrics = new MetricsController({ log, settings: () => settings, run: (argv) => service.run(argv), tree: () => service.tree, treeProvider, treeView });
  const services: ExtensionContextServices = {
    extension: context,
    log,
    terminals,
    treeProvider,
    statusBar,
    snapshotTree,
    followers: new PaneFollowers(),
    service: () => service,
    settings: () => settings,
    store: () => store,
    autosaver: () => autosave.current,
    layoutKeeper: () => layoutKeeper,
    metrics,
  };

  const automaticCleanup = new AutomaticCleanup(services);
  const staleMarks = followStaleMarks(treeProvider, treeView as vscode.TreeView<unknown>, () => settings.cleanup.staleMinutes);

  // Launchers installed earlier point at the folder of the version that wrote them.
  refreshInstalledCli(services);
  const serverEndNotices: ServerEndNotice[] = [];
  const follow = () => followState(service, treeView, services, serverEndNotices);
  let stateSubscription = follow();
  context.subscriptions.push(
    log,
    treeProvider,
    treeView,
    treeProvider.attach(treeView),
    statusBar,
    terminals,
    snapshotTree,
    snapshotView,
    snapshotTree.attach(snapshotView),
    autosave,
    automaticCleanup,
    staleMarks,
    metrics,
    ...registerCommands(services),
    ...registerLanguageModelTools(services),
    showAgentsView(services),
    { dispose: () => stateSubscription.dispose() },
    { dispose: () => layoutKeeper.dispose() },
    // The manifest the last autosave left is read before this session's autosaver may replace it.
    offerRestoreAfterReboot(services, () => autosave.start()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('tmuxSessionManager')) return;
      settings = readSettings();
      const reconnect = affectsConnection(event);
      const newStore = affectsStore(event);
      if (reconnect) {
        log.info('connection settings changed: reconnecting');
        const old = service;
        service = createService(settings, log);
        treeProvider.bind(service);
        statusBar.bind(service);
        stateSubscription.dispose();
        stateSubscription = follow();
        layoutKeeper.dispose();
        layoutKeeper = new LayoutKeeper(service);
        currentKeeper = layoutKeeper;
        void old.dispose();
        void service.start();
      }
      // The agents follow the server, and their kinds and data folder.
      if (reconnect || newStore || event.affectsConfiguration('tmuxSessionManager.agents.customKinds') || event.affectsConfiguration('tmuxSessionManager.restoreCommands')) {
        void agentsController(services).open();
      }
      if (newStore) {
        log.info(`data folder changed: snapshots are now in ${settings.dataDir}`);
        store = createStore(settings, log);
        snapshotTree.bind(store);
      }
      if (reconnect || newStore || affectsAutosave(event)) autosave.rebuild(service, store, settings);
      if (event.affectsConfiguration('tmuxSessionManager.cleanup')) {
        automaticCleanup.rebuild();
        staleMarks.settingsChanged();
      }
      if (affectsMetrics(event)) metrics.settingsChanged();
    }),
  );
  void service.start();
  return {
    service: () => service,
    statusBar,
    treeProvider,
    snapshotTree,
    store: () => store,
    autosaver: () => autosave.current,
    layoutKeeper: () => layoutKeeper,
    serverEndNotices,
    followers: services.followers,
    metrics,
    waitForOutput: (paneId, options) => waitForOutput((argv) => service.run(argv), service.address, paneId, { ...options, open: outputHub(service).open }),
  };
}

function createService(settings: Settings, log: vscode.LogOutputChannel): TmuxService {
  current = new TmuxService(settings.address, { log: channelLogger(log), watchPrograms: settings.watchPrograms, connection: settings.connection });
  return current;
}

function createStore(settings: Settings, log: vscode.LogOutputChannel): SnapshotStore {
  return new SnapshotStore(settings.dataDir, { log: { warn: (message) => log.warn(message) } });
}

/**
 * Mirrors the state into a context key (welcome views and menus read it) and the view's message.
 * With no server, also whether the last autosave could bring sessions back, so the welcome view
 * and the status bar offer that only when it would do something. A server that died is said so.
 */
function followState(service: TmuxService, view: vscode.TreeView<TmuxObject>, services: ExtensionContextServices, notices: ServerEndNotice[]): vscode.Disposable {
  const apply = () => {
    const state = service.state;
    void vscode.commands.executeCommand('setContext', 'tmuxSessionManager.state', state.kind);
    void vscode.commands.executeCommand('setContext', 'tmuxSessionManager.serverDied', state.kind === 'noServer' && !!state.lastEnd?.unexpected);
    view.message = state.kind === 'reconnecting' ? `Reconnecting to tmux… (${state.reason})` : undefined;
    if (state.kind === 'noServer') {
      void hasAutosave(services)
        .catch(() => false)
        .then((available) => {
          void vscode.commands.executeCommand('setContext', 'tmuxSessionManager.hasAutosave', available);
          services.statusBar.setAutosaveToRestore(available);
        });
    }
  };
  apply();
  const ended = service.onDidEndServer((end) => void noticeServerEnd(services, end, (notice) => notices.push(notice)));
  const changed = service.onDidChangeState(apply);
  return { dispose: () => [ended, changed].forEach((subscription) => subscription.dispose()) };
}

/** Stops autosave, closes the control connection and removes the hooks and subscription we added to tmux. */
export async function deactivate(): Promise<void> {
  currentAutosave?.dispose();
  currentAutosave = undefined;
  currentKeeper?.dispose();
  currentKeeper = undefined;
  await current?.dispose();
  current = undefined;
}
