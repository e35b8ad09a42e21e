import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { newSessionArgs } from '../../tmux/commands';
import { SessionId } from '../../tmux/model';
import { sessionNameProblem, suggestSessionName } from '../../tmux/names';
import { eventually } from '../../tmux/wait';
import { ExtensionContextServices } from '../context';
import { Cancelled } from '../pick';

export interface NewSessionArgs {
  readonly name?: string;
  readonly cwd?: string;
}

/** Creates a detached session named after the workspace folder (asked first), starting the server if needed. */
export async function newSession(ctx: ExtensionContextServices, args: NewSessionArgs = {}): Promise<SessionId> {
  const service = ctx.service();
  const folder = vscode.workspace.workspaceFolders?.[0];
  const cwd = args.cwd ?? folder?.uri.fsPath ?? os.homedir();
  const taken = new Set(service.tree.sessions.map((s) => s.name));
  let name = args.name;
  if (name === undefined) {
    name = await vscode.window.showInputBox({
      title: 'New tmux Session',
      prompt: `Name of the new session (it starts in ${cwd})`,
      value: suggestSessionName(folder ? folder.name : path.basename(cwd), taken),
      validateInput: (value) => sessionNameProblem(value) ?? (taken.has(value) ? `A session named "${value}" already exists. Choose another name.` : undefined),
    });
    if (name === undefined) throw new Cancelled();
  }
  if (taken.has(name)) throw new Error(`A session named "${name}" already exists. Choose another name.`);
  const [id] = await service.runStartingServer(newSessionArgs({ name, cwd }));
  ctx.log.info(`created session ${name} (${id}) in ${cwd}`);
  await eventually(() => service.tree.sessions.some((s) => s.id === id), 3000).catch(() => service.refresh());
  return id as SessionId;
}
