import * as vscode from 'vscode';
import { Session } from '../tmux/model';
import { ServerAddress, serverFlags } from '../tmux/server';

/**
 * Integrated terminals attached to tmux sessions, one per session and reused. The terminal's
 * environment drops TMUX and TMUX_PANE: a VS Code started from inside tmux would otherwise make
 * `tmux attach` refuse to nest or talk to the surrounding server.
 */
export class AttachTerminals implements vscode.Disposable {
  private readonly terminals = new Map<string, vscode.Terminal>();
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.subscription = vscode.window.onDidCloseTerminal((terminal) => {
      for (const [id, known] of this.terminals) if (known === terminal) this.terminals.delete(id);
    });
  }

  /** Shows the session's terminal, creating it when there is none or it has exited. */
  attach(address: ServerAddress, session: Session, target: string = session.id): vscode.Terminal {
    const existing = this.terminals.get(session.id);
    if (existing && existing.exitStatus === undefined) {
      existing.show();
      return existing;
    }
    const terminal = vscode.window.createTerminal({
      name: `tmux: ${session.name}`,
      shellPath: address.tmuxPath,
      shellArgs: [...serverFlags(address), 'attach-session', '-t', target],
      env: { TMUX: null, TMUX_PANE: null },
      iconPath: new vscode.ThemeIcon('terminal-tmux'),
    });
    this.terminals.set(session.id, terminal);
    terminal.show();
    return terminal;
  }

  terminalFor(sessionId: string): vscode.Terminal | undefined {
    return this.terminals.get(sessionId);
  }

  dispose(): void {
    this.subscription.dispose();
    this.terminals.clear();
  }
}
