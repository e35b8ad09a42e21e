import { InvalidInputError } from './errors';
import { Pane, Session, Tree } from './model';

/**
 * Finds a pane in the tree from what a person or a language model writes: a pane id (`%12`), a
 * `session:window.pane` address (indexes as tmux shows them), `session:window` (its active pane) or
 * a session name (its active window's active pane).
 *
 * Matched against the names in the tree, never handed to tmux as a target: tmux's own target
 * parser would read `:` and `.` inside a session name as separators, and take a prefix as a match.
 */
export function findPane(tree: Tree, spec: string): Pane {
  const text = spec.trim();
  if (/^%\d+$/.test(text)) {
    for (const session of tree.sessions) for (const window of session.windows) for (const pane of window.panes) if (pane.id === text) return pane;
    throw new InvalidInputError(`There is no pane ${text}. List the panes to see their ids.`);
  }
  const exact = tree.sessions.find((session) => session.name === text);
  if (exact) return activePane(exact);
  // The session name may itself hold ":" and "."; try each ":" from the right as the separator.
  for (let at = text.lastIndexOf(':'); at > 0; at = text.lastIndexOf(':', at - 1)) {
    const session = tree.sessions.find((s) => s.name === text.slice(0, at));
    const address = /^(\d+)(?:\.(\d+))?$/.exec(text.slice(at + 1));
    if (!session || !address) continue;
    const window = session.windows.find((w) => w.index === Number(address[1]));
    if (!window) continue;
    const pane = address[2] === undefined ? (window.panes.find((p) => p.active) ?? window.panes[0]) : window.panes.find((p) => p.index === Number(address[2]));
    if (pane) return pane;
  }
  const names = tree.sessions.map((s) => JSON.stringify(s.name)).join(', ');
  throw new InvalidInputError(`No pane matches ${JSON.stringify(spec)}. Give a pane id like %3, or session:window.pane like work:1.0${names ? `; sessions: ${names}` : ' (no sessions are running)'}.`);
}

function activePane(session: Session): Pane {
  const window = session.windows.find((w) => w.active) ?? session.windows[0];
  return window.panes.find((p) => p.active) ?? window.panes[0];
}

/** The `session:window.pane` address of a pane, as findPane reads it back. */
export function paneAddress(tree: Tree, pane: Pane): string {
  const session = tree.sessions.find((s) => s.id === pane.sessionId);
  const window = session?.windows.find((w) => w.id === pane.windowId);
  return `${session?.name ?? pane.sessionId}:${window?.index ?? '?'}.${pane.index}`;
}
