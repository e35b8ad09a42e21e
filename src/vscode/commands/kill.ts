import * as vscode from 'vscode';
import { KillReport, killGracefully } from '../../core/kill';
import { TmuxObject } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { plural } from '../format';
import { Cancelled, pickSession, resolveNode } from '../pick';

export interface KillArgs {
  /** Scripts and tests that already asked the user can skip the confirmation. */
  readonly confirm?: boolean;
}

const STEP_TEXT = { interrupt: 'sending Ctrl-C', terminate: 'sending SIGTERM', kill: 'sending SIGKILL', close: 'closing' } as const;

/** Asks, then ends the session, window or pane gracefully: C-c, SIGTERM, SIGKILL, close. */
export async function kill(ctx: ExtensionContextServices, node?: unknown, args: KillArgs = {}): Promise<KillReport> {
  const service = ctx.service();
  const target = resolveNode(service, node) ?? (await pickSession(service, 'Kill which tmux session?'));
  const settings = ctx.settings();
  if (args.confirm !== false) {
    const choice = await vscode.window.showWarningMessage(
      `Kill ${describe(target)}?`,
      {
        modal: true,
        detail: `${consequence(target)} Programs get Ctrl-C, then SIGTERM after ${settings.interruptWaitMs / 1000} s, then SIGKILL after ${settings.terminateWaitMs / 1000} s more.`,
      },
      'Kill',
    );
    if (choice !== 'Kill') throw new Cancelled();
  }
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Killing ${describe(target)}` },
    (progress) => killGracefully((argv) => service.run(argv), target, settings, (step) => progress.report({ message: STEP_TEXT[step] })),
  );
  ctx.log.info(`killed ${describe(target)} (last step: ${report.lastStep}; ${report.terminated} terminated, ${report.killed} killed)`);
  service.requestSnapshot();
  return report;
}

function describe(target: TmuxObject): string {
  if (target.kind === 'session') return `session "${target.name}"`;
  if (target.kind === 'window') return `window "${target.index}: ${target.name}"`;
  return `pane ${target.id} (${target.currentCommand})`;
}

function consequence(target: TmuxObject): string {
  if (target.kind === 'session') {
    const panes = target.windows.reduce((n, w) => n + w.panes.length, 0);
    return `Its ${plural(target.windows.length, 'window')} and ${plural(panes, 'pane')} close.`;
  }
  if (target.kind === 'window') return `Its ${plural(target.panes.length, 'pane')} close.`;
  return 'The pane closes.';
}
