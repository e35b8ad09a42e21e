import { stripEscapes } from '../../tmux/commands';

/**
 * A complete escape sequence at the start of what follows: CSI (`ESC [ … final`), OSC (`ESC ] …`
 * ended by BEL or `ESC \`), or a short one (`ESC 7`, `ESC ( B`, `ESC =`). The forms stripEscapes
 * removes, so what we hold back and what it strips agree.
 */
const COMPLETE_ESCAPE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[ -/]*[0-Z\\^-~])/y;
/** The start of one of those, cut off by the end of a chunk. */
const ESCAPE_PREFIX = /^\u001b(?:\[[0-?]*[ -/]*|\][^\u0007\u001b]*\u001b?|[ -/]*)$/;
/** An escape longer than this is not held back any more (a runaway OSC would grow without end). */
const MAX_HELD = 4096;

/**
 * Turns a pane's output, chunk by chunk, into the text a person reads: escape sequences and stray
 * control bytes removed, line ends (`\r\n`, `\r\r\n`) as `\n`.
 *
 * Why strip before matching: programs colour and move the cursor in the middle of words (`ls
 * --color`, prompts, progress bars), so the bytes of "error: 3 failed" can have escapes between
 * them and a plain pattern would miss what the user sees on screen.
 *
 * Chunks end anywhere, so an escape sequence or a `\r\n` cut in two by a chunk's end is held back
 * until the rest arrives; stripping each chunk alone would leave the tail of a sequence (`31m`) as
 * text.
 */
export class PlainTextDecoder {
  private held = '';

  /** The plain text of `chunk`, less whatever may be the start of a sequence it ends with. */
  push(chunk: string): string {
    const text = this.held + chunk;
    const cut = incompleteTail(text);
    this.held = text.slice(cut);
    return toPlain(text.slice(0, cut));
  }

  /** What was held back, as plain text, at the end of the stream. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return toPlain(rest);
  }
}

function toPlain(text: string): string {
  // `\r\r\n` too: a program that writes `\r\n` gets a second `\r` from the terminal (onlcr).
  return stripEscapes(text).replace(/\r+\n/g, '\n');
}

/** Where the part of `text` that may still change with the next chunk begins (text.length if none). */
function incompleteTail(text: string): number {
  let from = Math.max(0, text.length - MAX_HELD);
  for (;;) {
    const escape = text.indexOf('\u001b', from);
    if (escape < 0) break;
    COMPLETE_ESCAPE.lastIndex = escape;
    if (COMPLETE_ESCAPE.test(text)) {
      from = COMPLETE_ESCAPE.lastIndex;
      continue;
    }
    if (ESCAPE_PREFIX.test(text.slice(escape))) return escape;
    from = escape + 1;
  }
  // Final `\r`s may be the start of a `\r\n`.
  let end = text.length;
  while (end > 0 && text[end - 1] === '\r') end--;
  return end;
}

/**
 * The last `limit` characters of a text that keeps growing: what a pattern is matched against, so a
 * match split over chunks is found and memory stays bounded however long the output.
 */
export class RecentText {
  private text = '';

  constructor(readonly limit: number) {}

  append(more: string): void {
    const joined = this.text + more;
    this.text = joined.length > this.limit ? joined.slice(joined.length - this.limit) : joined;
  }

  toString(): string {
    return this.text;
  }

  /**
   * The last `count` lines as a terminal would show them: a `\r` within a line returns to its start,
   * and what follows writes over what was there (progress bars, spinners).
   */
  lastLines(count: number): string[] {
    if (count <= 0) return [];
    const lines = this.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count).map(overwritten);
  }
}

function overwritten(line: string): string {
  if (!line.includes('\r')) return line;
  return line.split('\r').reduce((shown, over) => over + shown.slice(over.length), '');
}
