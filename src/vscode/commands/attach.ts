import { ExtensionContextServices } from '../context';
import { pickSession, resolveNode } from '../pick';

/** Opens (or shows) an integrated terminal attached to the session; a window or pane is selected in it. */
export async function attach(ctx: ExtensionContextServices, node?: unknown): Promise<void> {
  const service = ctx.service();
  const resolved = resolveNode(service, node);
  const session = resolved
    ? service.tree.sessions.find((s) => s.id === (resolved.kind === 'session' ? resolved.id : resolved.sessionId))!
    : await pickSession(service, 'Attach to which tmux session?');
  const existing = ctx.terminals.terminalFor(session.id);
  if (resolved && resolved.kind !== 'session' && existing && existing.exitStatus === undefined) {
    // The terminal is already attached: moving tmux's focus is enough.
    if (resolved.kind === 'window') await service.run(['select-window', '-t', resolved.id]);
    else await service.run(['select-window', '-t', resolved.windowId]).then(() => service.run(['select-pane', '-t', resolved.id]));
  }
  ctx.terminals.attach(service.address, session, resolved?.id ?? session.id);
}
