import * as vscode from 'vscode';
import { CleanupCandidate, CleanupOutcome, describePolicy, planCleanup, runCleanup, setProtected } from '../../core/gc';
import { ExtensionContextServices } from '../context';
import { Cancelled, pickSession, resolveNode } from '../pick';
import { cleanupSource, logOutcomes, summarize } from './source';

export interface CleanUpArgs {
  /** Only list the candidates (what the quick pick would show) and return them. */
  readonly dryRun?: boolean;
  /** Act on these candidate keys without asking (scripts and tests). */
  readonly keys?: readonly string[];
}

export interface CleanUpResult {
  readonly candidates: readonly CleanupCandidate[];
  readonly outcomes: readonly CleanupOutcome[];
}

const ICON: Record<CleanupCandidate['kind'], string> = {
  idleSession: '$(terminal-tmux)',
  missingFolder: '$(terminal-tmux)',
  deadPane: '$(debug-stop)',
  deletedSessionSnapshots: '$(history)',
  staleLock: '$(lock)',
  staleTempFile: '$(file)',
};

/**
 * Clean Up…: the dry run first, as a list with a checkbox and the reason for each candidate, all
 * ticked. Every row already matches the policy the user set, so the list is a review: untick what
 * to keep, Enter to act (the same as VS Code's own multi-select lists of proposed changes, and as
 * Restore Autosaved Sessions here). Nothing happens until Enter; Escape changes nothing.
 */
export async function cleanUp(ctx: ExtensionContextServices, args: CleanUpArgs = {}): Promise<CleanUpResult> {
  const source = cleanupSource(ctx);
  const candidates = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Looking for what to clean up' }, () => planCleanup(source));
  if (args.dryRun) return { candidates, outcomes: [] };

  let chosen: readonly CleanupCandidate[];
  if (args.keys) {
    chosen = candidates.filter((candidate) => args.keys!.includes(candidate.key));
  } else {
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`Nothing to clean up. The policy: ${describePolicy(source.policy)}.`, 'Cleanup Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'tmuxSessionManager.cleanup');
      });
      return { candidates, outcomes: [] };
    }
    const items = candidates.map((candidate) => ({ label: `${ICON[candidate.kind]} ${candidate.label}`, detail: candidate.reason, picked: true, candidate }));
    const picked = await vscode.window.showQuickPick(items, {
      canPickMany: true,
      title: `Clean Up: ${candidates.length === 1 ? '1 candidate' : `${candidates.length} candidates`}`,
      placeHolder: 'Untick what to keep; Enter acts (sessions get Ctrl-C first)',
      matchOnDetail: true,
      ignoreFocusOut: true,
    });
    if (!picked || picked.length === 0) throw new Cancelled();
    chosen = picked.map((item) => item.candidate);
  }

  const outcomes = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Cleaning up' }, (progress) =>
    runCleanup(source, chosen, (candidate, _index, total) => progress.report({ message: candidate.label, increment: 100 / total })),
  );
  logOutcomes(ctx, outcomes, 'cleanup');
  ctx.service().requestSnapshot();
  const failed = outcomes.some((outcome) => outcome.result === 'failed');
  const message = `Cleaned up: ${summarize(outcomes)}.`;
  const show = failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  void show(message, 'Show Log').then((choice) => {
    if (choice) ctx.log.show();
  });
  return { candidates, outcomes };
}

/** Protect / Unprotect on a session row: a mark kept in tmux, so every window and the command-line tool see it. */
export async function protectSession(ctx: ExtensionContextServices, node: unknown, on: boolean): Promise<void> {
  const service = ctx.service();
  const found = resolveNode(service, node);
  const session = found?.kind === 'session' ? found : found ? service.tree.sessions.find((s) => s.id === (found as { sessionId: string }).sessionId) : await pickSession(service, on ? 'Protect which session from cleanup?' : 'Unprotect which session?');
  if (!session) throw new Error('That session is gone.');
  await setProtected((argv) => service.run(argv), session.id, on);
  ctx.log.info(`${on ? 'protected' : 'unprotected'} session "${session.name}"`);
  // Setting an option fires no hook: read the tree again so the mark shows now.
  await service.refresh();
  ctx.treeProvider.refreshNow();
}

export function cleanupCommands(ctx: ExtensionContextServices): Record<string, (...args: any[]) => unknown> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    'tmuxSessionManager.cleanUp': (args?: CleanUpArgs) => cleanUp(ctx, typeof args === 'object' && args !== null ? args : {}),
    'tmuxSessionManager.protectSession': (node?: unknown) => protectSession(ctx, node, true),
    'tmuxSessionManager.unprotectSession': (node?: unknown) => protectSession(ctx, node, false),
  };
}
