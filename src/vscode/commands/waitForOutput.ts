import * as vscode from 'vscode';
import { parseUserPattern, patternProblem } from '../../core/output/pattern';
import { waitForOutput as waitForPaneOutput, WaitResult } from '../../core/output/waitFor';
import { InvalidInputError } from '../../tmux/errors';
import { findById, Pane } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { outputHub } from '../outputs';
import { Cancelled, targetPane } from '../pick';
import { CaptureDocuments, showCapturedText } from './capturePane';
import { paneLabel } from './followPane';

/** What a script or keybinding can pass instead of answering the prompts. */
export interface WaitForOutputArgs {
  /** The pane id (`%12`); asked for when missing and no tree row was clicked. */
  readonly pane?: string;
  /** A pattern as a person types it: `/source/flags` or the bare source (see parseUserPattern). */
  readonly pattern?: string;
  readonly quietMs?: number;
  readonly untilExit?: boolean;
  /** Defaults to the `waitTimeoutSeconds` setting. */
  readonly timeoutMs?: number;
  /** Show no notification with the outcome (scripts read the result). */
  readonly silent?: boolean;
}

type Mode = vscode.QuickPickItem & { readonly mode: 'pattern' | 'quiet' | 'exit' };

/**
 * "Wait for Output…": waits, without polling, until the pane's new output matches a pattern, the
 * pane goes quiet, or its program exits (core/output/waitFor.ts). Shown as a cancellable
 * notification; resolves to the result so scripts and tests can read it.
 */
export async function waitForOutput(ctx: ExtensionContextServices, captures: CaptureDocuments, node?: unknown, args: WaitForOutputArgs = {}): Promise<WaitResult | undefined> {
  const service = ctx.service();
  const pane = args.pane ? paneById(ctx, args.pane) : await targetPane(service, node, 'Wait for the output of which pane?');
  const label = paneLabel(ctx, pane);
  const what = args.pattern !== undefined || args.quietMs !== undefined || args.untilExit ? fromArgs(args) : await askWhatToWaitFor(label);
  const timeoutMs = args.timeoutMs ?? ctx.settings().waitTimeoutSeconds * 1000;
  const title = what.regex ? `Waiting for ${what.regex} in ${label}…` : what.untilExit ? `Waiting for ${label} to exit…` : `Waiting for ${label} to be quiet for ${seconds(what.quietMs ?? 0)}…`;
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_progress, token) => {
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    return waitForPaneOutput((argv) => service.run(argv), service.address, pane.id, { ...what, timeoutMs, signal: controller.signal, open: outputHub(service).open }).finally(() => subscription.dispose());
  });
  ctx.log.info(`wait for output of ${pane.id} (${label}): ${result.kind} after ${result.elapsedMs} ms${result.match === undefined ? '' : `: ${JSON.stringify(result.match)}`}`);
  if (!args.silent) void tellOutcome(ctx, captures, pane, label, result, timeoutMs, what.quietMs);
  return result;
}

function paneById(ctx: ExtensionContextServices, id: string): Pane {
  const found = findById(ctx.service().tree, id);
  if (found?.kind !== 'pane') throw new InvalidInputError(`There is no pane ${JSON.stringify(id)}. Pane ids look like %12; the Sessions view's pane tooltips show them.`);
  return found;
}

function fromArgs(args: WaitForOutputArgs): { regex?: RegExp; quietMs?: number; untilExit?: boolean } {
  return {
    ...(args.pattern !== undefined ? { regex: parseUserPattern(args.pattern) } : {}),
    ...(args.quietMs !== undefined ? { quietMs: args.quietMs } : {}),
    ...(args.untilExit ? { untilExit: true } : {}),
  };
}

async function askWhatToWaitFor(label: string): Promise<{ regex?: RegExp; quietMs?: number; untilExit?: boolean }> {
  const modes: Mode[] = [
    { label: '$(regex) Text matching a pattern…', detail: 'New output only: not what is on the screen now.', mode: 'pattern' },
    { label: '$(watch) No output for a while…', detail: 'For example a build or test run that has finished printing.', mode: 'quiet' },
    { label: '$(debug-stop) The program to exit', detail: "Until the pane's program exits or the pane closes.", mode: 'exit' },
  ];
  const picked = await vscode.window.showQuickPick(modes, { title: `Wait for ${label}`, placeHolder: 'Wait until…' });
  if (!picked) throw new Cancelled();
  if (picked.mode === 'exit') return { untilExit: true };
  if (picked.mode === 'quiet') {
    const text = await vscode.window.showInputBox({
      title: `Wait for ${label} to be quiet`,
      prompt: 'Seconds without output',
      value: '2',
      validateInput: (value) => (/^\d+(\.\d+)?$/.test(value.trim()) && Number(value) > 0 ? undefined : 'A number of seconds, such as 2 or 0.5.'),
    });
    if (text === undefined) throw new Cancelled();
    return { quietMs: Math.round(Number(text) * 1000) };
  }
  const text = await vscode.window.showInputBox({
    title: `Wait for output of ${label}`,
    prompt: 'A regular expression (or /pattern/flags) to find in the output printed from now on',
    placeHolder: 'listening on port \\d+',
    validateInput: (value) => (value === '' ? undefined : patternProblem(value)),
  });
  if (!text) throw new Cancelled();
  return { regex: parseUserPattern(text) };
}

async function tellOutcome(ctx: ExtensionContextServices, captures: CaptureDocuments, pane: Pane, label: string, result: WaitResult, timeoutMs: number, quietMs?: number): Promise<void> {
  const after = seconds(result.elapsedMs);
  let choice: string | undefined;
  switch (result.kind) {
    case 'matched':
      choice = await vscode.window.showInformationMessage(`${label} printed ${JSON.stringify(result.match)} after ${after}.`, 'Follow Output', 'Attach');
      break;
    case 'quiet':
      choice = await vscode.window.showInformationMessage(`${label} has printed nothing for ${seconds(quietMs ?? 0)}.`, 'Show Last Lines');
      break;
    case 'exited':
      choice = await vscode.window.showInformationMessage(`The program in ${label} has exited.`, 'Show Last Lines');
      break;
    case 'timeout':
      choice = await vscode.window.showWarningMessage(`Gave up waiting for ${label} after ${seconds(timeoutMs)}: no match. The setting tmuxSessionManager.waitTimeoutSeconds sets how long to wait.`, 'Show Last Lines');
      break;
    case 'cancelled':
      return;
  }
  if (choice === 'Follow Output') await vscode.commands.executeCommand('tmuxSessionManager.followPane', pane);
  if (choice === 'Attach') await vscode.commands.executeCommand('tmuxSessionManager.attach', pane);
  if (choice === 'Show Last Lines') {
    const text = result.lastLines.length ? result.lastLines.join('\n') : '(the pane printed nothing while waiting)';
    await showCapturedText(captures, `${label} last lines`, pane.id, text);
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
