import * as vscode from 'vscode';
import { InvalidInputError, TmuxError } from '../../tmux/errors';
import { ExtensionContextServices } from '../context';
import { Cancelled } from '../pick';
import { agentCommands } from '../agents/commands';
import { agentsController } from '../agents/controller';
import { cleanupCommands } from '../gc/commands';
import { profileCommands } from '../profiles/commands';
import { snapshotCommands } from '../snapshots/commands';
import { attach } from './attach';
import { CAPTURE_SCHEME, capturePane, CaptureDocuments } from './capturePane';
import { followPane, PaneFollowers } from './followPane';
import { installCli } from './installCli';
import { kill } from './kill';
import { newSession } from './newSession';
import { newWindow } from './newWindow';
import { rename } from './rename';
import { sendKeys } from './sendKeys';
import { showHealth } from './showHealth';
import { splitPane } from './splitPane';
import { waitForOutput } from './waitForOutput';

type Handler = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every command, by id. Ids are public: keybindings, menus and scripts name them. */
function commandTable(ctx: ExtensionContextServices, captures: CaptureDocuments, followers: PaneFollowers): Record<string, Handler> {
  return {
    'tmuxSessionManager.newSession': (args?: object) => newSession(ctx, isPlainArgs(args) ? args : {}),
    'tmuxSessionManager.attach': (node?: unknown) => attach(ctx, node),
    'tmuxSessionManager.rename': (node?: unknown, name?: string) => rename(ctx, node, name),
    'tmuxSessionManager.kill': (node?: unknown, args?: object) => kill(ctx, node, args),
    'tmuxSessionManager.newWindow': (node?: unknown) => newWindow(ctx, node),
    'tmuxSessionManager.splitPane': (node?: unknown, direction?: 'right' | 'down') => splitPane(ctx, node, direction),
    'tmuxSessionManager.splitPaneHorizontal': (node?: unknown) => splitPane(ctx, node, 'right'),
    'tmuxSessionManager.splitPaneVertical': (node?: unknown) => splitPane(ctx, node, 'down'),
    'tmuxSessionManager.sendKeys': (node?: unknown, args?: object) => sendKeys(ctx, node, args),
    'tmuxSessionManager.capturePane': (node?: unknown) => capturePane(ctx, captures, node),
    'tmuxSessionManager.followPane': (node?: unknown) => followPane(ctx, followers, node),
    'tmuxSessionManager.waitForOutput': (node?: unknown, args?: object) => waitForOutput(ctx, captures, isPlainArgs(node) ? undefined : node, isPlainArgs(node) ? node : isPlainArgs(args) ? args : {}),
    'tmuxSessionManager.refresh': async () => {
      await ctx.service().refresh();
      ctx.treeProvider.refreshNow();
      ctx.statusBar.update();
    },
    'tmuxSessionManager.showHealth': (args?: object) => showHealth(ctx, isPlainArgs(args) ? args : {}),
    'tmuxSessionManager.showLog': () => ctx.log.show(),
    'tmuxSessionManager.showMetrics': () => ctx.metrics.panel.show(),
    'tmuxSessionManager.installCli': () => installCli(ctx),
    ...snapshotCommands(ctx),
    ...cleanupCommands(ctx),
    ...profileCommands(ctx),
    ...agentCommands(ctx, agentsController(ctx)),
  };
}

/** The palette passes nothing; a tree click passes the element; scripts pass an options object. */
function isPlainArgs(value: unknown): value is Record<string, never> {
  return typeof value === 'object' && value !== null && !('kind' in value);
}

export function registerCommands(ctx: ExtensionContextServices): vscode.Disposable[] {
  const captures = new CaptureDocuments();
  const disposables: vscode.Disposable[] = [vscode.workspace.registerTextDocumentContentProvider(CAPTURE_SCHEME, captures), ctx.followers];
  for (const [id, handler] of Object.entries(commandTable(ctx, captures, ctx.followers))) {
    disposables.push(vscode.commands.registerCommand(id, (...args: unknown[]) => runReportingErrors(ctx, id, () => handler(...args))));
  }
  return disposables;
}

/**
 * The one place errors reach the user: a dismissed prompt is silent, bad input says what to do,
 * and a tmux failure offers the log. The command then resolves to undefined (rethrowing would make
 * the workbench show the same error a second time).
 */
async function runReportingErrors(ctx: ExtensionContextServices, id: string, body: () => unknown): Promise<unknown> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Cancelled) return undefined;
    const message = error instanceof Error ? error.message : String(error);
    ctx.log.error(`${id}: ${message}${error instanceof TmuxError ? ` (tmux ${error.argv.join(' ')}; exit ${error.exitCode ?? '-'}; ${error.stderr.trim()})` : ''}`);
    if (error instanceof InvalidInputError) {
      void vscode.window.showErrorMessage(message);
    } else {
      void vscode.window.showErrorMessage(message, 'Show Log', 'Health Report').then((choice) => {
        if (choice === 'Show Log') ctx.log.show();
        if (choice === 'Health Report') void vscode.commands.executeCommand('tmuxSessionManager.showHealth');
      });
    }
    return undefined;
  }
}
