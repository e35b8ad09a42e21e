import { InvalidInputError } from './errors';

/**
 * Key names `send-keys` understands (tmux's key-string.c table; looked up without regard to
 * case). tmux sends an unknown name as literal text instead of failing, so we check first: a
 * typo like `Entr` should be an error, not the letters E-n-t-r typed into an agent's prompt.
 */
const NAMED_KEYS = [
  'F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'F10', 'F11', 'F12',
  'IC', 'Insert', 'DC', 'Delete', 'Home', 'End', 'NPage', 'PageDown', 'PgDn', 'PPage', 'PageUp', 'PgUp',
  'Tab', 'BTab', 'Space', 'BSpace', 'Enter', 'Escape', 'Up', 'Down', 'Left', 'Right',
  'KP/', 'KP*', 'KP-', 'KP7', 'KP8', 'KP9', 'KP+', 'KP4', 'KP5', 'KP6', 'KP1', 'KP2', 'KP3', 'KPEnter', 'KP0', 'KP.',
  'FocusIn', 'FocusOut', 'PasteStart', 'PasteEnd',
];
const NAMED = new Map(NAMED_KEYS.map((key) => [key.toLowerCase(), key]));

/** Named keys offered in pickers, most used first. */
export const COMMON_KEYS = ['Enter', 'C-c', 'C-d', 'Escape', 'Tab', 'Up', 'Down', 'Left', 'Right', 'C-z', 'C-l', 'BSpace', 'Space', 'PageUp', 'PageDown', 'Home', 'End', 'F1', 'F5'];

const MODIFIER = /^(?:[CMS]-|\^)/i;

/** Why `key` is not a tmux key name, or undefined when it is one. */
export function keyNameProblem(key: string): string | undefined {
  if (key.length === 0) return 'A key name cannot be empty.';
  let rest = key;
  while (rest.length > 1 && MODIFIER.test(rest)) {
    rest = rest.startsWith('^') ? rest.slice(1) : rest.slice(2);
  }
  if ([...rest].length === 1 && !/[\u0000-\u001f\u007f]/.test(rest)) return undefined;
  if (NAMED.has(rest.toLowerCase())) return undefined;
  const hint = suggestion(rest);
  const shown = JSON.stringify(key);
  return `${shown} is not a tmux key name${hint ? ` (did you mean "${key.slice(0, key.length - rest.length)}${hint}"?)` : ''}. Use names like Enter, Escape, C-c, M-x, Up, F5, or send it as text instead.`;
}

export function assertKeyName(key: string): void {
  const problem = keyNameProblem(key);
  if (problem) throw new InvalidInputError(problem);
}

/** Splits what a user typed ("C-c Enter" or "C-c, Enter") into key names. */
export function splitKeyNames(input: string): string[] {
  return input.split(/[\s,]+/).filter((part) => part.length > 0);
}

function suggestion(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const [key, canonical] of NAMED) {
    const distance = editDistance(lower, key);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = canonical;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length];
}
