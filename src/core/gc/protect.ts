import { Runner } from '../../tmux/commands';
import { SessionId } from '../../tmux/model';
import { PROTECTED_OPTION } from '../../tmux/snapshot';

/**
 * Protect keeps its mark in tmux itself, as a session user option: it survives the editor and
 * reaches every window and the command-line tool, and it goes with the session when it closes.
 * The target is the session's id (`$3`), never its name, so names with `:`, `.`, `;` or quotes
 * cannot be misread as a window or pane target; one-shot commands pass it as one argument.
 */
export async function setProtected(run: Runner, sessionId: SessionId, on: boolean): Promise<void> {
  if (on) await run(['set-option', '-t', sessionId, `@${PROTECTED_OPTION}`, '1']);
  else await run(['set-option', '-u', '-t', sessionId, `@${PROTECTED_OPTION}`]);
}
