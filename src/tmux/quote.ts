/**
 * The one place that turns an argument into text for tmux's command parser.
 *
 * Control mode takes commands as lines of text, parsed by tmux's cmd-parse.y, so every argument we
 * send that way passes through {@link quoteArgument}. One-shot commands use argument arrays instead
 * and never need it.
 */

/** Thrown for a value that cannot be passed to tmux at all (tmux keeps strings as C strings). */
export class UnquotableArgumentError extends Error {
  constructor(readonly argument: string) {
    super('tmux cannot take a text that contains a NUL character (\\0); remove it and try again.');
    this.name = 'UnquotableArgumentError';
  }
}

/**
 * Quotes one argument so tmux's parser hands the command exactly `value`.
 *
 * Double quotes, because single quotes in tmux cannot hold a newline and one control-mode line is
 * one command. Inside double quotes tmux still expands `$VAR` and reads `\` escapes, so those are
 * escaped, and so is `~`, which tmux replaces with a home folder at the start of a quoted
 * string too (cmd-parse.y, yylex_token). Every control character is written as a three-digit octal
 * escape, which the parser turns back into that byte. `#{` is literal inside double quotes, and `;`
 * and `{` only separate commands outside them.
 */
export function quoteArgument(value: string): string {
  let quoted = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code === 0) throw new UnquotableArgumentError(value);
    if (char === '"' || char === '\\' || char === '$' || char === '~') {
      quoted += '\\' + char;
    } else if (code < 0x20 || code === 0x7f) {
      quoted += '\\' + code.toString(8).padStart(3, '0');
    } else {
      quoted += char;
    }
  }
  return quoted + '"';
}

/** One tmux command as a control-mode line: the command name, then each argument quoted. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('a tmux command needs at least its name');
  const [name, ...args] = argv;
  if (!/^[a-z-]+$/.test(name)) throw new Error(`not a tmux command name: ${JSON.stringify(name)}`);
  return [name, ...args.map(quoteArgument)].join(' ');
}

/**
 * Escapes `#` for arguments that tmux expands as a format (for example `-c start-directory`), so a
 * path like `/tmp/#{pane_id}` stays that path. A run of `#` right before `[` is left alone: tmux
 * copies such a run unchanged (it is a style for the status line, format.c), so doubling it would
 * double it in the result.
 */
export function escapeFormat(value: string): string {
  return value.replace(/#+(?=\[)|#/g, (match, offset: number) => (value[offset + match.length] === '[' ? match : '##'));
}
