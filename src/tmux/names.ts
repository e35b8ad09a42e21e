import { InvalidInputError } from './errors';

/** C0 and C1 control characters and DEL: tmux stores them in a name as octal escapes. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** tmux stores a backslash in a session name, or a renamed window's, as two (utf8_stravis). */
const BACKSLASH_PROBLEM = (kind: string) => `tmux would store "\\" in a ${kind} name as "\\\\". Use "/" or "-" instead.`;
/** tmux 3.3a as Debian and Ubuntu build it also stores "$" before a letter, "_" or "{" as "\$". */
const DOLLAR = /\$[A-Za-z_{]/;
const DOLLAR_PROBLEM = (kind: string) => `tmux would store "$" before a letter, "_" or "{" in a ${kind} name as "\\$". Leave the "$" out or put a space after it.`;
/** tmux's utf8_stravis would show these as escapes; a name must read back as it was typed. */
const MAX_NAME_LENGTH = 256;

/**
 * Why a session name cannot be used, or undefined when it can. tmux rewrites `.` and `:` to `_`
 * (they separate the parts of a target) and control characters to escapes, so the session would
 * not have the name asked for.
 */
export function sessionNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'A session name cannot be empty.';
  if (name.trim().length === 0) return 'A session name cannot be only spaces.';
  if (name.includes('.') || name.includes(':')) {
    return `tmux does not allow "." or ":" in session names (it would rename "${name}" to "${name.replace(/[.:]/g, '_')}"). Use "-" or "_" instead.`;
  }
  if (CONTROL.test(name)) return 'A session name cannot contain tabs, newlines or other control characters.';
  if (name.includes('\\')) return BACKSLASH_PROBLEM('session');
  if (DOLLAR.test(name)) return DOLLAR_PROBLEM('session');
  if (name.includes('\u0000')) return 'A session name cannot contain a NUL character.';
  if (name.length > MAX_NAME_LENGTH) return `A session name can be at most ${MAX_NAME_LENGTH} characters long.`;
  return undefined;
}

/** Why a window name cannot be used, or undefined. Windows may use `.` and `:` (we never target by name). */
export function windowNameProblem(name: string): string | undefined {
  if (CONTROL.test(name)) return 'A window name cannot contain tabs, newlines or other control characters.';
  if (name.includes('\\')) return BACKSLASH_PROBLEM('window');
  if (DOLLAR.test(name)) return DOLLAR_PROBLEM('window');
  if (name.length > MAX_NAME_LENGTH) return `A window name can be at most ${MAX_NAME_LENGTH} characters long.`;
  return undefined;
}

export function assertSessionName(name: string): void {
  const problem = sessionNameProblem(name);
  if (problem) throw new InvalidInputError(problem);
}

export function assertWindowName(name: string): void {
  const problem = windowNameProblem(name);
  if (problem) throw new InvalidInputError(problem);
}

/** A session name made from a folder name: what the user most likely wants, already valid. */
export function suggestSessionName(folderName: string, taken: ReadonlySet<string> = new Set()): string {
  let base = folderName.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').replace(/[.:\\]|\$(?=[A-Za-z_{])/g, '-').trim();
  if (!base) base = 'main';
  // Cut to length without splitting a surrogate pair (an emoji) in half.
  base = base.slice(0, MAX_NAME_LENGTH - 4).replace(/[\ud800-\udbff]$/, '');
  return firstFreeName(base, taken);
}

/** `base`, else `base-2`, `base-3`…: the first name not taken. */
export function firstFreeName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}
