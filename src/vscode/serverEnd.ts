import * as vscode from 'vscode';
import type { ServerEnd } from '../tmux/hooks';
import { ExtensionContextServices } from './context';
import { savedAtText } from './snapshots/describe';

/** What the crash notice said, for tests and the log. */
export interface ServerEndNotice {
  readonly message: string;
  readonly actions: readonly string[];
}

const RESTORE = 'Restore Autosaved Sessions';
const SHOW_LOG = 'Show Log';

/**
 * Says so when the server we were connected to died (a crash, an OOM kill): everything in it is
 * gone, and the last autosave is what can bring it back, so that is offered at once. A server that
 * stopped in order (the user's own kill-server, its last session closed) is only logged.
 */
export async function noticeServerEnd(ctx: ExtensionContextServices, end: ServerEnd, shown?: (notice: ServerEndNotice) => void): Promise<void> {
  const at = savedAtText(end.at);
  if (!end.unexpected) {
    ctx.log.info(`the tmux server stopped at ${at} (${end.detail})`);
    return;
  }
  ctx.log.error(`the tmux server stopped unexpectedly at ${at}: ${end.detail}`);
  const manifest = await ctx.store().readManifest().catch(() => undefined);
  const saved = manifest && Object.keys(manifest.sessions).length > 0 ? new Date(manifest.savedAt) : undefined;
  const message = saved
    ? `The tmux server stopped unexpectedly at ${at}; your sessions were last autosaved at ${savedAtText(saved)}.`
    : `The tmux server stopped unexpectedly at ${at}, and its sessions are gone. Nothing had been autosaved, so they cannot be restored.`;
  const actions = saved ? [RESTORE, SHOW_LOG] : [SHOW_LOG];
  shown?.({ message, actions });
  const choice = await vscode.window.showErrorMessage(message, ...actions);
  if (choice === RESTORE) await vscode.commands.executeCommand('tmuxSessionManager.restoreAutosaved');
  else if (choice === SHOW_LOG) ctx.log.show();
}
