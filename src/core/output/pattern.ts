import { InvalidInputError } from '../../tmux/errors';

/**
 * A pattern a person typed: `/source/flags` as in JavaScript, or the bare source. Bare patterns get
 * the `m` flag, so `^` and `$` mean a line's start and end, which is what someone waiting for a
 * line of output expects; a `/…/` form says its flags itself.
 */
export function parseUserPattern(text: string): RegExp {
  const slashed = /^\/(.*)\/([a-z]*)$/s.exec(text);
  const source = slashed ? slashed[1] : text;
  const flags = slashed ? slashed[2] : 'm';
  if (source === '') throw new InvalidInputError('The pattern is empty. Type the text or regular expression to wait for, for example "listening on port \\d+".');
  try {
    return new RegExp(source, flags);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
    throw new InvalidInputError(`Not a valid regular expression: ${reason}. Escape special characters such as ( [ { * + ? with a backslash to match them literally.`);
  }
}

/** Why the text is not a pattern, or undefined when it is one: for input boxes that check as you type. */
export function patternProblem(text: string): string | undefined {
  try {
    parseUserPattern(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
