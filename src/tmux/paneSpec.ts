import { InvalidInputError } from './errors';
import { Pane, Tree } from './model';
import { paneOf, resolveTarget } from './target';

/**
 * Finds a pane from what a person or a language model writes (read by the one target reader,
 * target.ts): a pane id (`%12`), `session:window.pane`, `session:window` (its active pane) or a
 * session name (its active window's active pane), with messages that say what to give.
 */
export function findPane(tree: Tree, spec: string): Pane {
  const text = spec.trim();
  try {
    return paneOf(resolveTarget(tree, text));
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    if (/^%\d+$/.test(text)) throw new InvalidInputError(`There is no pane ${text}. List the panes to see their ids.`);
    const names = tree.sessions.map((s) => JSON.stringify(s.name)).join(', ');
    throw new InvalidInputError(`No pane matches ${JSON.stringify(spec)}. Give a pane id like %3, or session:window.pane like work:1.0${names ? `; sessions: ${names}` : ' (no sessions are running)'}.`);
  }
}

/** The `session:window.pane` address of a pane, as findPane reads it back. */
export function paneAddress(tree: Tree, pane: Pane): string {
  const session = tree.sessions.find((s) => s.id === pane.sessionId);
  const window = session?.windows.find((w) => w.id === pane.windowId);
  return `${session?.name ?? pane.sessionId}:${window?.index ?? '?'}.${pane.index}`;
}
