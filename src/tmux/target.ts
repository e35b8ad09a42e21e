import { InvalidInputError } from './errors';
import { isPaneId, isSessionId, isWindowId, Pane, TmuxObject, Tree, Window } from './model';

/** A target that names nothing in the tree; the message lists what there is. */
export class UnknownTargetError extends InvalidInputError {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownTargetError';
  }
}

/**
 * The one reading of a target that a person, a script or a language model writes, in this order:
 * 1. a session whose name is exactly the text (names may hold spaces, quotes, `;`, `#{…}`, `$1`,
 *    `=x`: the match is made here, on the tree, never by tmux's own target syntax, which would read
 *    `=`, `:` `.`, `$` and `@` as its own, and take a prefix as a match);
 * 2. a tmux id: `$1` session, `@3` window, `%7` pane;
 * 3. `SESSION:WINDOW` or `SESSION:WINDOW.PANE`, with window and pane indexes; the last `:` splits it,
 *    so a session named `a:1` is still found (by 1.) and `a:1:0.0` is its window 0, pane 0.
 */
export function resolveTarget(tree: Tree, text: string): TmuxObject {
  if (text === '') throw new InvalidInputError('The target is empty. Name a session, a tmux id ($1, @3, %7) or SESSION:WINDOW.PANE.');
  const byName = tree.sessions.find((session) => session.name === text);
  if (byName) return byName;
  if (isSessionId(text) || isWindowId(text) || isPaneId(text)) {
    for (const session of tree.sessions) {
      if (session.id === text) return session;
      for (const window of session.windows) {
        if (window.id === text) return window;
        for (const pane of window.panes) if (pane.id === text) return pane;
      }
    }
    throw new UnknownTargetError(`No session, window or pane has the id ${text}. ${listHint(tree)}`);
  }
  const match = /^(.*):(\d+)(?:\.(\d+))?$/s.exec(text);
  if (match) {
    const session = tree.sessions.find((candidate) => candidate.name === match[1]);
    if (!session) throw new UnknownTargetError(`No session is named ${JSON.stringify(match[1])}. ${listHint(tree)}`);
    const window = session.windows.find((candidate) => candidate.index === Number(match[2]));
    if (!window) throw new UnknownTargetError(`Session ${JSON.stringify(session.name)} has no window ${match[2]} (it has ${session.windows.map((w) => w.index).join(', ')}).`);
    if (match[3] === undefined) return window;
    const pane = window.panes.find((candidate) => candidate.index === Number(match[3]));
    if (!pane) throw new UnknownTargetError(`Window ${session.name}:${window.index} has no pane ${match[3]} (it has ${window.panes.map((p) => p.index).join(', ')}).`);
    return pane;
  }
  throw new UnknownTargetError(`No session is named ${JSON.stringify(text)}. ${listHint(tree)}`);
}

/** The pane a session or window target means: its active window's active pane, as tmux would pick. */
export function paneOf(target: TmuxObject): Pane {
  if (target.kind === 'pane') return target;
  const window: Window = target.kind === 'window' ? target : (target.windows.find((w) => w.active) ?? target.windows[0]);
  return window.panes.find((pane) => pane.active) ?? window.panes[0];
}

function listHint(tree: Tree): string {
  if (tree.sessions.length === 0) return 'The server has no sessions.';
  const names = tree.sessions.slice(0, 8).map((s) => JSON.stringify(s.name));
  return `Sessions: ${names.join(', ')}${tree.sessions.length > 8 ? `, and ${tree.sessions.length - 8} more` : ''} (see "tmux-session-manager ls").`;
}
