import * as vscode from 'vscode';
import { findById, Pane, Session, TmuxObject, Window } from '../tmux/model';
import { TmuxService } from '../tmux/service';
import { tildePath } from './format';

/** Thrown when the user dismisses a prompt: the command ends quietly. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** The clicked tree element, re-read from the live tree (it may have changed since it was drawn). */
export function resolveNode(service: TmuxService, node: unknown): TmuxObject | undefined {
  if (!node || typeof node !== 'object' || !('id' in node) || typeof (node as { id: unknown }).id !== 'string') return undefined;
  return findById(service.tree, (node as { id: string }).id);
}

function requireServer(service: TmuxService): void {
  if (service.state.kind !== 'ok') {
    throw new Error(service.state.kind === 'noServer' ? 'No tmux server is running. Create a session first (Tmux: New Session).' : `tmux is not available (${service.state.kind}). Run "Tmux: Show Health Report" for details.`);
  }
}

export async function pickSession(service: TmuxService, placeHolder: string): Promise<Session> {
  requireServer(service);
  const sessions = service.tree.sessions;
  if (sessions.length === 0) throw new Error('There are no tmux sessions. Create one with "Tmux: New Session".');
  const picked = await vscode.window.showQuickPick(
    sessions.map((session) => ({
      label: session.name,
      description: `${session.windows.length} window${session.windows.length === 1 ? '' : 's'}${session.attachedClients ? ' · attached' : ''}`,
      detail: session.windows.map((w) => `${w.index}: ${w.name}`).join('  '),
      session,
    })),
    { placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  if (!picked) throw new Cancelled();
  return picked.session;
}

export async function pickPane(service: TmuxService, placeHolder: string, within?: TmuxObject): Promise<Pane> {
  requireServer(service);
  const items: (vscode.QuickPickItem & { pane?: Pane })[] = [];
  const sessions = within ? service.tree.sessions.filter((s) => s.id === within.id || s.id === (within as Window | Pane).sessionId) : service.tree.sessions;
  for (const session of sessions) {
    items.push({ label: session.name, kind: vscode.QuickPickItemKind.Separator });
    for (const window of session.windows) {
      if (within?.kind === 'window' && window.id !== within.id) continue;
      for (const pane of window.panes) {
        items.push({
          label: `${window.index}.${pane.index}  ${pane.currentCommand}`,
          description: `${window.name}${pane.active && window.active ? ' · active' : ''}`,
          detail: tildePath(pane.currentPath),
          pane,
        });
      }
    }
  }
  const panes = items.filter((item) => item.pane);
  if (panes.length === 0) throw new Error('There are no tmux panes. Create a session first (Tmux: New Session).');
  if (panes.length === 1 && within) return panes[0].pane!;
  const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true });
  if (!picked?.pane) throw new Cancelled();
  return picked.pane;
}

/** The pane a command acts on: the clicked pane, the active pane of a clicked window/session, or a pick. */
export async function targetPane(service: TmuxService, node: unknown, placeHolder: string): Promise<Pane> {
  const resolved = resolveNode(service, node);
  if (resolved?.kind === 'pane') return resolved;
  if (resolved?.kind === 'window') return resolved.panes.find((p) => p.active) ?? resolved.panes[0];
  if (resolved?.kind === 'session') {
    const window = resolved.windows.find((w) => w.active) ?? resolved.windows[0];
    return window.panes.find((p) => p.active) ?? window.panes[0];
  }
  return pickPane(service, placeHolder);
}
