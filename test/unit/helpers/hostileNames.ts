/**
 * Hostile session names, shared by the tmux layer's battery (hostile.test.ts) and the
 * command-line tool's (cli.test.ts): 'exact' names must reach tmux and come back as typed, the
 * others must be refused with a message matching the pattern. `~/pwned-N` names are canaries:
 * the file must never appear.
 */
export type Outcome = 'exact' | RegExp;

/** Session names: created with new-session, then set again with rename-session. */
export const SESSION_NAMES: [string, Outcome][] = [
  ['plain', 'exact'],
  ['with space', 'exact'],
  [' leading and trailing ', 'exact'],
  ['semi;colon', 'exact'],
  ['x ; new-session -d -s PWNED', 'exact'],
  ['" ; kill-server ; "', 'exact'],
  ["' ; kill-server ; '", 'exact'],
  ['\\" ; kill-server ; \\"', /"\\" in a session name as "\\\\"/],
  ['} ; kill-server ; {', 'exact'],
  ['double "quoted"', 'exact'],
  ["single 'quoted'", 'exact'],
  ['#{pane_id}', 'exact'],
  ['#{session_name}#{?1,a,b}', 'exact'],
  ['#(touch ~/pwned-1)', 'exact'],
  ['#[fg=red]styled', 'exact'],
  ['##[double', 'exact'],
  ['hash # at end #', 'exact'],
  ['$(touch ~/pwned-2)', 'exact'],
  ['`touch ~/pwned-3`', 'exact'],
  ['$HOME', /"\$" before a letter, "_" or "\{" in a session name as "\\\$"\. Leave the "\$" out or put a space after it/],
  ['${HOME}', /"\$" before a letter/],
  ['price $5 or $ x', 'exact'],
  ['~', 'exact'],
  ['~root', 'exact'],
  ['%if 1', 'exact'],
  ['{braces}', 'exact'],
  ['-t', 'exact'],
  ['--', 'exact'],
  ['-', 'exact'],
  ['$1', 'exact'],
  ['@1', 'exact'],
  ['=exact', 'exact'],
  ['中文 名前', 'exact'],
  ['emoji 😀 👩‍👩‍👧 🇯🇵', 'exact'],
  ['combining e\u0301', 'exact'],
  ['rtl \u202eoverride', 'exact'],
  ['zero\u200bwidth', 'exact'],
  ['x'.repeat(256), 'exact'],
  ['中'.repeat(256), 'exact'],
  ['x'.repeat(257), /at most 256 characters/],
  ['', /cannot be empty/],
  ['   ', /only spaces/],
  ['dotted.name', /"\." or ":".*"dotted_name".*Use "-" or "_" instead/],
  ['host:1', /"\." or ":"/],
  ['new\nline', /control characters/],
  ['tab\there', /control characters/],
  ['esc\u001b[31m', /control characters/],
  ['c1\u0085control', /control characters/],
  ['back\\slash', /tmux would store "\\" in a session name as "\\\\"\. Use "\/" or "-" instead/],
];

