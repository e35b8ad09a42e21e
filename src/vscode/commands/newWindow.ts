import { newWindow as createWindow } from '../../tmux/commands';
import { WindowId } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { pickSession, resolveNode, targetPane } from '../pick';

/** Adds a window to the clicked (or picked) session, in the folder of its active pane. */
export async function newWindow(ctx: ExtensionContextServices, node?: unknown): Promise<WindowId> {
  const service = ctx.service();
  const resolved = resolveNode(service, node);
  const sessionId = resolved ? (resolved.kind === 'session' ? resolved.id : resolved.sessionId) : (await pickSession(service, 'New window in which tmux session?')).id;
  const pane = await targetPane(service, resolved ?? service.tree.sessions.find((s) => s.id === sessionId), '');
  const id = await createWindow((argv) => service.run(argv), sessionId, { cwd: pane.currentPath || undefined });
  service.requestSnapshot();
  return id;
}
