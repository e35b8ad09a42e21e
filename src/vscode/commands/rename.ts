import * as vscode from 'vscode';
import { renameSession, renameWindow } from '../../tmux/commands';
import { sessionNameProblem, windowNameProblem } from '../../tmux/names';
import { ExtensionContextServices } from '../context';
import { Cancelled, pickSession, resolveNode } from '../pick';

/** Renames the clicked session or window (a session from the palette). */
export async function rename(ctx: ExtensionContextServices, node?: unknown, newName?: string): Promise<void> {
  const service = ctx.service();
  const target = resolveNode(service, node) ?? (await pickSession(service, 'Rename which tmux session?'));
  if (target.kind === 'pane') throw new Error('Panes have no name of their own; rename their window instead.');
  const run = (argv: readonly string[]) => service.run(argv);
  if (target.kind === 'session') {
    const taken = new Set(service.tree.sessions.filter((s) => s.id !== target.id).map((s) => s.name));
    const name = newName ?? (await vscode.window.showInputBox({
      title: `Rename Session "${target.name}"`,
      value: target.name,
      validateInput: (value) => sessionNameProblem(value) ?? (taken.has(value) ? `A session named "${value}" already exists.` : undefined),
    }));
    if (name === undefined) throw new Cancelled();
    if (taken.has(name)) throw new Error(`A session named "${name}" already exists. Choose another name.`);
    await renameSession(run, target.id, name);
  } else {
    const name = newName ?? (await vscode.window.showInputBox({
      title: `Rename Window "${target.index}: ${target.name}"`,
      value: target.name,
      validateInput: (value) => (value.length === 0 ? 'A window name cannot be empty.' : windowNameProblem(value)),
    }));
    if (name === undefined) throw new Cancelled();
    await renameWindow(run, target.id, name);
  }
  service.requestSnapshot();
}
