import * as vscode from 'vscode';
import { splitPane as split, SplitDirection } from '../../tmux/commands';
import { PaneId } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { Cancelled, targetPane } from '../pick';

/** Splits the clicked (or picked) pane, the new pane starting in the same folder. */
export async function splitPane(ctx: ExtensionContextServices, node?: unknown, direction?: SplitDirection): Promise<PaneId> {
  const service = ctx.service();
  const pane = await targetPane(service, node, 'Split which pane?');
  const chosen = direction ?? (await vscode.window.showQuickPick(
    [
      { label: '$(split-horizontal) Right', description: 'side by side (tmux split-window -h)', direction: 'right' as const },
      { label: '$(split-vertical) Down', description: 'one above the other (tmux split-window -v)', direction: 'down' as const },
    ],
    { placeHolder: 'Split the pane which way?' },
  ))?.direction;
  if (!chosen) throw new Cancelled();
  const id = await split((argv) => service.run(argv), pane.id, chosen, { cwd: pane.currentPath || undefined });
  service.requestSnapshot();
  return id;
}
