/**
 * Reading an agent's input box off its screen: what the sender needs to know before it pastes
 * (is the box empty, or does it hold a draft someone else typed?) and after it presses Enter (did
 * the box let go of the text?).
 *
 * Each reader describes the screen shape of one program, as far as it is known. A reader answers
 * `undefined` when the screen does not have that shape (the program is still starting, a dialog
 * covers the box, the shape changed in a new release): the sender then waits or fails, it never
 * guesses. Screen text comes from `capture-pane -e`, so a reader can also tell a dim placeholder
 * ("Type a message") from text that was really typed.
 */

/** One capture of a pane's visible screen. */
export interface Screen {
  /** Each row as plain text, trailing blanks removed. */
  readonly lines: readonly string[];
  /** Each row with its SGR attributes (colour, dim), as `capture-pane -e` prints them. */
  readonly styledLines: readonly string[];
}

export interface InputBoxReader {
  /** A name for messages ("claude", "codex"…). */
  readonly kind: string;
  /**
   * The text in the input box as far as the screen shows it ('' when the box is empty or shows
   * only its placeholder), or undefined when no input box of this shape is on the screen.
   */
  readDraft(screen: Screen): string | undefined;
  /** Whether the program shows it is busy with a turn (what is submitted now waits its turn). */
  isBusy?(screen: Screen): boolean;
  /** The first lines of the messages the program shows as queued, in order. */
  queued?(screen: Screen): readonly string[];
  /** Keys (tmux key names) that make the box take typing, when the screen shows it does not (a vim NORMAL mode). */
  keysBeforeTyping?(screen: Screen): readonly string[] | undefined;
}

/** Builds a Screen from `capture-pane -p -e` output lines. */
export function screenFromCapture(styledLines: readonly string[]): Screen {
  return { styledLines, lines: styledLines.map((line) => plainCells(line).text.replace(/\s+$/, '')) };
}

/** A row's characters without escape sequences, and for each character whether it was drawn faint. */
export function plainCells(styledLine: string): { readonly text: string; readonly faint: readonly boolean[] } {
  let text = '';
  const faint: boolean[] = [];
  let dim = false;
  let grey = false;
  // capture-pane -e writes SGR sequences only; anything else is dropped.
  const pattern = /\u001b\[([0-9;:]*)m|\u001b\[[0-?]*[ -/]*[@-~]|\u001b[^[]?|([^\u001b])/gsu;
  for (const match of styledLine.matchAll(pattern)) {
    if (match[2] !== undefined) {
      text += match[2];
      faint.push(dim || grey);
      continue;
    }
    if (match[1] === undefined) continue;
    const codes = match[1] === '' ? [0] : match[1].split(/[;:]/).map(Number);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      if (code === 0) dim = grey = false;
      else if (code === 2) dim = true;
      else if (code === 22) dim = false;
      else if (code === 39 || (code >= 30 && code <= 37) || (code >= 91 && code <= 97)) grey = false;
      else if (code === 90) grey = true;
      else if (code === 38 && codes[i + 1] === 5) {
        const index = codes[i + 2];
        grey = index === 8 || (index >= 240 && index <= 250);
        i += 2;
      } else if (code === 38 && codes[i + 1] === 2) {
        const [r, g, b] = codes.slice(i + 2, i + 5);
        grey = Math.max(r, g, b) - Math.min(r, g, b) <= 12 && r >= 90 && r <= 175;
        i += 4;
      } else if (code === 48 && (codes[i + 1] === 5 || codes[i + 1] === 2)) {
        i += codes[i + 1] === 5 ? 2 : 4;
      }
    }
  }
  return { text, faint };
}

/** Whether everything visible after `from` on a styled row is faint (a placeholder), or blank. */
function onlyFaintAfter(styledLine: string, from: number): boolean {
  const { text, faint } = plainCells(styledLine);
  // Positions in `text` count code points, as `from` does (see promptText).
  const chars = [...text];
  // A box's right border is drawn in the box's colour, not the placeholder's.
  for (let i = from; i < chars.length; i++) if (chars[i].trim() !== '' && chars[i] !== '│' && !faint[i]) return false;
  return true;
}

const isRule = (line: string): boolean => /^[\s╭╰]*─{8,}/.test(line);

/**
 * The draft of a prompt drawn as a marker row ("> text", "› text") and continuation rows
 * indented under it, from `markerRow` up to `end` (exclusive), inside `│` borders when `boxed`.
 * Faint text right after the marker is a placeholder, not a draft.
 */
function promptText(screen: Screen, markerRow: number, end: number, marker: RegExp, boxed = false): string {
  const unbox = (line: string): string => (boxed ? line.replace(/^\s*│/, '').replace(/│\s*$/, '') : line);
  const full = screen.lines[markerRow];
  const inner = boxed ? full.replace(/^\s*│/, '') : full;
  const found = marker.exec(inner);
  if (!found) return '';
  // Where the draft starts in the row, in characters (code points), as plainCells counts them.
  const bodyStart = [...full.slice(0, full.length - inner.length + found[0].length)].length;
  if (onlyFaintAfter(screen.styledLines[markerRow], bodyStart)) return '';
  const rows = [unbox(inner.slice(found[0].length))];
  for (let row = markerRow + 1; row < end; row++) rows.push(unbox(screen.lines[row]).replace(/^ {1,2}/, ''));
  while (rows.length > 0 && rows[rows.length - 1].trim() === '') rows.pop();
  return rows.map((row) => row.replace(/\s+$/, '')).join('\n');
}

/**
 * The stand-in TUI of the tests (test/fixtures/agents/standin-tui.js). Its screen:
 *
 *     standin-tui · submitted 3
 *     status: ready                        (or "starting…", or "working ⠋ (esc to interrupt)")
 *     queued: first line of a queued message      (one row per queued message)
 *     ──────────────────────────────────   (may say "N more lines above")
 *     › first line of the draft            (faint "Type a message" when empty)
 *       next line of the draft
 *     ──────────────────────────────────
 *     -- INSERT --                         (vim mode only; or -- NORMAL --)
 */
export const standinReader: InputBoxReader = {
  kind: 'standin',
  readDraft(screen) {
    const rules = screen.lines.flatMap((line, row) => (/^─{3}/.test(line) ? [row] : []));
    if (rules.length < 2) return undefined;
    const [top, bottom] = rules.slice(-2);
    if (!screen.lines[top + 1]?.startsWith('›')) return undefined;
    return promptText(screen, top + 1, bottom, /^› ?/);
  },
  isBusy: (screen) => screen.lines.some((line) => line.startsWith('status: working')),
  queued: (screen) => screen.lines.filter((line) => line.startsWith('queued: ')).map((line) => line.slice('queued: '.length)),
  keysBeforeTyping: (screen) => (screen.lines.some((line) => line.startsWith('-- NORMAL --')) ? ['i'] : []),
};

/**
 * Claude Code. Two shapes are known:
 *
 *     ────────────────────────────────       (recent releases: rules above and below)
 *     > first line of the draft              ("❯" in some releases)
 *       next line
 *     ────────────────────────────────
 *       ? for shortcuts
 *
 *     ╭──────────────────────────────╮       (earlier releases: a rounded box)
 *     │ > first line of the draft    │
 *     ╰──────────────────────────────╯
 *
 * An empty box shows a faint suggestion (`> Try "…"`), which counts as empty. A large paste shows
 * as "[Pasted text #1 +40 lines]", which is a draft like any other. While a turn runs, the line
 * above the box says "esc to interrupt".
 */
export const claudeReader: InputBoxReader = {
  kind: 'claude',
  readDraft: (screen) => readRuledPrompt(screen, /^[>❯]\s?/),
  isBusy: (screen) => screen.lines.some((line) => /esc to interrupt/i.test(line)),
};

/**
 * Gemini CLI: a rounded box whose first row starts with ">", the placeholder
 * "Type your message or @path/to/file" drawn faint; "esc to cancel" while a turn runs.
 *
 *     ╭──────────────────────────────────────╮
 *     │ >   Type your message or @path/to/file │
 *     ╰──────────────────────────────────────╯
 */
export const geminiReader: InputBoxReader = {
  kind: 'gemini',
  readDraft: (screen) => readRuledPrompt(screen, /^\s*>\s*/),
  isBusy: (screen) => screen.lines.some((line) => /esc to cancel/i.test(line)),
};

/** A prompt between the last two rules (plain, or a rounded box's top and bottom). */
function readRuledPrompt(screen: Screen, marker: RegExp): string | undefined {
  const rules = screen.lines.flatMap((line, row) => (isRule(line) ? [row] : []));
  if (rules.length < 2) return undefined;
  for (let i = rules.length - 1; i >= 1; i--) {
    const top = rules[i - 1];
    const bottom = rules[i];
    const boxed = /^\s*╭/.test(screen.lines[top]);
    const first = boxed ? screen.lines[top + 1]?.replace(/^\s*│\s?/, '') : screen.lines[top + 1];
    if (bottom > top + 1 && first !== undefined && marker.test(first)) return promptText(screen, top + 1, bottom, boxed ? /^\s?[>❯]\s*/ : marker, boxed);
  }
  return undefined;
}

/**
 * Codex CLI: the composer is the last row starting with "›", continuation rows indented by two,
 * ending at a blank row or the footer ("? for shortcuts", "context left", "⏎ send"). An empty
 * composer shows a faint "Ask Codex to do anything". While a turn runs the status row above says
 * "esc to interrupt". (Earlier releases drew a "▌" bar instead, which this reader does not read.)
 *
 *     › first line of the draft
 *       next line
 *
 *       100% context left · ? for shortcuts
 */
export const codexReader: InputBoxReader = {
  kind: 'codex',
  readDraft(screen) {
    let markerRow = -1;
    for (let row = screen.lines.length - 1; row >= 0; row--) {
      if (/^›(\s|$)/.test(screen.lines[row])) {
        markerRow = row;
        break;
      }
    }
    if (markerRow < 0) return undefined;
    let end = markerRow + 1;
    while (end < screen.lines.length && /^ {2}\S/.test(screen.lines[end]) && !/for shortcuts|context left|⏎ send/.test(screen.lines[end])) end++;
    return promptText(screen, markerRow, end, /^› ?/);
  },
  isBusy: (screen) => screen.lines.some((line) => /esc to interrupt/i.test(line)),
};

/** The readers by agent kind. */
export const inputBoxReaders: Readonly<Record<string, InputBoxReader>> = {
  standin: standinReader,
  claude: claudeReader,
  codex: codexReader,
  gemini: geminiReader,
};
