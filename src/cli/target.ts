import { isPaneId, isSessionId, isWindowId, Pane, Session, TmuxObject, Tree, Window } from '../tmux/model';
import { NotFoundError, UsageError } from './errors';

/**
 * Finds what a command-line target names, in this order:
 * 1. a session whose name is exactly the text (names may hold spaces, quotes, `;`, `#{…}`, `$1`,
 *    `=x`: the match is made here, on the listing, never by tmux's own target syntax, which would
 *    read `=`, `:` `.`, `$` and `@` as its own);
 * 2. a tmux id: `$1` session, `@3` window, `%7` pane;
 * 3. `SESSION:WINDOW` or `SESSION:WINDOW.PANE`, with window and pane indexes. Session names cannot
 *    hold `:` or `.` (tmux would turn them into `_`), so the last `:` splits it unambiguously.
 */
export function resolveTarget(tree: Tree, text: string): TmuxObject {
  if (text === '') throw new UsageError('The target is empty. Name a session, a tmux id ($1, @3, %7) or SESSION:WINDOW.PANE.');
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
    throw new NotFoundError(`No session, window or pane has the id ${text}. ${listHint(tree)}`);
  }
  const match = /^(.*):(\d+)(?:\.(\d+))?$/s.exec(text);
  if (match) {
    const session = tree.sessions.find((candidate) => candidate.name === match[1]);
    if (!session) throw new NotFoundError(`No session is named ${JSON.stringify(match[1])}. ${listHint(tree)}`);
    const window = session.windows.find((candidate) => candidate.index === Number(match[2]));
    if (!window) throw new NotFoundError(`Session ${JSON.stringify(session.name)} has no window ${match[2]} (it has ${session.windows.map((w) => w.index).join(', ')}).`);
    if (match[3] === undefined) return window;
    const pane = window.panes.find((candidate) => candidate.index === Number(match[3]));
    if (!pane) throw new NotFoundError(`Window ${session.name}:${window.index} has no pane ${match[3]} (it has ${window.panes.map((p) => p.index).join(', ')}).`);
    return pane;
  }
  throw new NotFoundError(`No session is named ${JSON.stringify(text)}. ${listHint(tree)}`);
}

/** The pane a session or window target means: its active window's active pane, as tmux would pick. */
export function paneOf(target: TmuxObject): Pane {
  if (target.kind === 'pane') return target;
  const window: Window = target.kind === 'window' ? target : (target.windows.find((w) => w.active) ?? target.windows[0]);
  return window.panes.find((pane) => pane.active) ?? window.panes[0];
}

export function describeTarget(target: TmuxObject, tree: Tree): string {
  if (target.kind === 'session') return `session ${JSON.stringify(target.name)} (${target.id})`;
  const session = tree.sessions.find((s) => s.id === target.sessionId) as Session | undefined;
  if (target.kind === 'window') return `window ${session ? `${session.name}:` : ''}${target.index} (${target.id})`;
  const window = session?.windows.find((w) => w.id === target.windowId);
  return `pane ${session && window ? `${session.name}:${window.index}.${target.index}` : target.id} (${target.id})`;
}

function listHint(tree: Tree): string {
  if (tree.sessions.length === 0) return 'The server has no sessions.';
  const names = tree.sessions.slice(0, 8).map((s) => JSON.stringify(s.name));
  return `Sessions: ${names.join(', ')}${tree.sessions.length > 8 ? `, and ${tree.sessions.length - 8} more` : ''} (see "tmux-session-manager ls").`;
}
