import { InvalidInputError } from '../tmux/errors';
import { Session, TmuxObject, Tree } from '../tmux/model';
import { paneOf, resolveTarget as resolveInTree, UnknownTargetError } from '../tmux/target';
import { NotFoundError, UsageError } from './errors';

/** What a command-line target names (src/tmux/target.ts); a target naming nothing is "not found", an empty one a usage error. */
export function resolveTarget(tree: Tree, text: string): TmuxObject {
  try {
    return resolveInTree(tree, text);
  } catch (error) {
    if (error instanceof UnknownTargetError) throw new NotFoundError(error.message);
    if (error instanceof InvalidInputError) throw new UsageError(error.message);
    throw error;
  }
}

export { paneOf };

export function describeTarget(target: TmuxObject, tree: Tree): string {
  if (target.kind === 'session') return `session ${JSON.stringify(target.name)} (${target.id})`;
  const session = tree.sessions.find((s) => s.id === target.sessionId) as Session | undefined;
  if (target.kind === 'window') return `window ${session ? `${session.name}:` : ''}${target.index} (${target.id})`;
  const window = session?.windows.find((w) => w.id === target.windowId);
  return `pane ${session && window ? `${session.name}:${window.index}.${target.index}` : target.id} (${target.id})`;
}

