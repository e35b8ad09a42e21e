import * as vscode from 'vscode';
import { TmuxObject } from './tmux/model';
import { TmuxService } from './tmux/service';
import { registerCommands } from './vscode/commands';
import { ExtensionContextServices } from './vscode/context';
import { channelLogger } from './vscode/log';
import { affectsConnection, readSettings, Settings } from './vscode/settings';
import { HealthStatusBar } from './vscode/statusBar';
import { AttachTerminals } from './vscode/terminals';
import { SessionTreeProvider, VIEW_ID } from './vscode/tree';

/** What activate returns: for tests and for other extensions that want to read the live model. */
export interface TmuxSessionManagerApi {
  service(): TmuxService;
  readonly statusBar: HealthStatusBar;
  readonly treeProvider: SessionTreeProvider;
}

let current: TmuxService | undefined;

export function activate(context: vscode.ExtensionContext): TmuxSessionManagerApi {
  const log = vscode.window.createOutputChannel('Tmux', { log: true });
  let settings: Settings = readSettings();
  let service = createService(settings, log);

  const treeProvider = new SessionTreeProvider(service);
  const treeView = vscode.window.createTreeView<TmuxObject>(VIEW_ID, { treeDataProvider: treeProvider, showCollapseAll: true });
  const statusBar = new HealthStatusBar(service);
  const terminals = new AttachTerminals();
  const services: ExtensionContextServices = {
    extension: context,
    log,
    terminals,
    treeProvider,
    statusBar,
    service: () => service,
    settings: () => settings,
  };

  let stateSubscription = followState(service, treeView);
  context.subscriptions.push(
    log,
    treeProvider,
    treeView,
    treeProvider.attach(treeView),
    statusBar,
    terminals,
    ...registerCommands(services),
    { dispose: () => stateSubscription.dispose() },
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('tmuxSessionManager')) return;
      settings = readSettings();
      if (!affectsConnection(event)) return;
      log.info('connection settings changed: reconnecting');
      const old = service;
      service = createService(settings, log);
      treeProvider.bind(service);
      statusBar.bind(service);
      stateSubscription.dispose();
      stateSubscription = followState(service, treeView);
      void old.dispose();
      void service.start();
    }),
  );
  void service.start();
  return { service: () => service, statusBar, treeProvider };
}

function createService(settings: Settings, log: vscode.LogOutputChannel): TmuxService {
  current = new TmuxService(settings.address, { log: channelLogger(log), watchPrograms: settings.watchPrograms });
  return current;
}

/** Mirrors the state into a context key (welcome views and menus read it) and the view's message. */
function followState(service: TmuxService, view: vscode.TreeView<TmuxObject>): vscode.Disposable {
  const apply = () => {
    const state = service.state;
    void vscode.commands.executeCommand('setContext', 'tmuxSessionManager.state', state.kind);
    view.message = state.kind === 'reconnecting' ? `Reconnecting to tmux… (${state.reason})` : undefined;
  };
  apply();
  return service.onDidChangeState(apply);
}

/** Closes the control connection and removes the hooks and subscription we added to tmux. */
export async function deactivate(): Promise<void> {
  await current?.dispose();
  current = undefined;
}
