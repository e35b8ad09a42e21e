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
  // Not FocusIn, FocusOut, PasteStart, PasteEnd: tmux 3.3a does not know those names and would type
  // them as text.
];
const NAMED = new Map(NAMED_KEYS.map((key) => [key.toLowerCase(), key]));

/** Named keys offered in pickers, most used first. */
export const COMMON_KEYS = ['Enter', 'C-c', 'C-d', 'Escape', 'Tab', 'Up', 'Down', 'Left', 'Right', 'C-z', 'C-l', 'BSpace', 'Space', 'PageUp', 'PageDown', 'Home', 'End', 'F1', 'F5'];

const MODIFIER = /^(?:[CMS]-|\^)/i;

/** Keys tmux 3.3a sends with any of C-, M- and S- held (xterm-style modified sequences). */
const MODIFIABLE = new Set(
  ['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'F10', 'F11', 'F12', 'IC', 'Insert', 'DC', 'Delete', 'Home', 'End',
    'NPage', 'PageDown', 'PgDn', 'PPage', 'PageUp', 'PgUp', 'Up', 'Down', 'Left', 'Right'].map((key) => key.toLowerCase()),
);
/** What tmux turns into a control character with C- (C-a is 0x01, C-[ is Escape, C-? is DEL). */
const CONTROLLABLE = /^[a-zA-Z@[\\\]^_ ?]$/;

/**
 * Why `key` is not a tmux key name, or undefined when it is one. A known name with a modifier
 * tmux cannot send with it (S-Tab, S-a, C-Enter) is refused too: tmux 3.3a would type it as text
 * or send nothing at all.
 */
export function keyNameProblem(key: string): string | undefined {
  if (key.length === 0) return 'A key name cannot be empty.';
  let rest = key;
  const modifiers = new Set<string>();
  // `^` (for C-) only counts first: tmux types "M-^a" as text.
  while (rest.length > 1 && (rest === key ? MODIFIER : /^[CMS]-/i).test(rest)) {
    modifiers.add(rest.startsWith('^') ? 'C' : rest[0].toUpperCase());
    rest = rest.startsWith('^') ? rest.slice(1) : rest.slice(2);
  }
  const shown = JSON.stringify(key);
  const single = [...rest].length === 1 && !/[\u0000-\u001f\u007f]/.test(rest);
  if (!single && !NAMED.has(rest.toLowerCase())) {
    const hint = suggestion(rest);
    return `${shown} is not a tmux key name${hint ? ` (did you mean "${key.slice(0, key.length - rest.length)}${hint}"?)` : ''}. Use names like Enter, Escape, C-c, M-x, Up, F5, or send it as text instead.`;
  }
  if (MODIFIABLE.has(rest.toLowerCase())) return undefined;
  if (modifiers.has('S')) {
    const others = key.slice(0, key.length - rest.length).replace(/s-/gi, '');
    const base = rest.toLowerCase() === 'tab' ? 'BTab' : single && rest.toUpperCase() !== rest ? rest.toUpperCase() : undefined;
    const hint = base && others + base;
    return `tmux cannot send ${shown}: it sends Shift (S-) only with F1-F12, the arrow keys, Home, End, Insert, Delete, PageUp and PageDown${hint ? ` (did you mean "${hint}"?)` : ''}.`;
  }
  // C-2, C-6, C-- and C-/ are control characters too, but tmux types them as text with M- added.
  const controllable = CONTROLLABLE.test(rest) || rest.toLowerCase() === 'space' || (!modifiers.has('M') && /^[-26/]$/.test(rest));
  if (modifiers.has('C') && !controllable) {
    return `tmux cannot send ${shown}: it sends Ctrl (C-) only with letters, Space, @ [ \\ ] ^ _ ?, F1-F12, the arrow keys, Home, End, Insert, Delete, PageUp and PageDown.`;
  }
  return undefined;
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

/** Levenshtein distance: how many single-character edits turn `a` into `b` (for "did you mean"). */
export function editDistance(a: string, b: string): number {
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
