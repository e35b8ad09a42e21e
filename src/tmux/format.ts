/**
 * One list of fields builds both the `-F` format string sent to tmux and the strict parser of what
 * comes back, so the two cannot drift apart.
 *
 * Every value is requested as `#{q:...}`: tmux backslash-escapes spaces, `;`, quotes, `#`,
 * backslashes and other shell characters in it (format.c, format_quote_shell). Fields are joined
 * with a plain space and each row ends with a lone `;`, so an unescaped space splits fields and an
 * unescaped `;` ends a row whatever a name contains. tmux does not escape a newline: a value that
 * holds one (a pane title can) continues on the next line, and the parser joins lines until it
 * reaches the row's end.
 */

export type FieldKind = 'string' | 'int' | 'flag' | 'optionalInt';

type ValueOf<K extends FieldKind> = K extends 'string' ? string : K extends 'int' ? number : K extends 'flag' ? boolean : number | undefined;

export interface Field<K extends FieldKind = FieldKind> {
  readonly variable: string;
  readonly kind: K;
}

export type FieldList = Readonly<Record<string, Field>>;
export type RecordOf<F extends FieldList> = { -readonly [P in keyof F]: ValueOf<F[P]['kind']> };

export const text = (variable: string): Field<'string'> => ({ variable, kind: 'string' });
export const int = (variable: string): Field<'int'> => ({ variable, kind: 'int' });
export const flag = (variable: string): Field<'flag'> => ({ variable, kind: 'flag' });
/** A number tmux leaves empty when it does not apply (a live pane's exit status). */
export const optionalInt = (variable: string): Field<'optionalInt'> => ({ variable, kind: 'optionalInt' });

const ROW_END = ';';

/** Thrown when tmux's reply does not have the shape we asked for: a bug or a broken connection. */
export class FormatError extends Error {
  constructor(message: string, readonly input: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/** The `-F` argument for a field list. Send it as one argument (quoted by the caller's transport). */
export function formatString(fields: FieldList): string {
  return Object.values(fields).map((field) => `#{q:${field.variable}}`).join(' ') + ' ' + ROW_END;
}

/** Parses every row of a reply to a command sent with {@link formatString}. */
export function parseRows<F extends FieldList>(fields: F, lines: readonly string[]): RecordOf<F>[] {
  const entries = Object.entries(fields);
  const rows: RecordOf<F>[] = [];
  let values: string[] = [];
  let current = '';
  let ended = false;
  /** The row's first line, for error messages; rows are rebuilt as text only when one is wrong. */
  let rowStart = -1;

  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex];
    if (rowStart < 0) {
      if (line === '') continue;
      rowStart = lineIndex;
    }
    // Copies runs of plain characters with one slice each: a 600-pane reply is ~14,000 values.
    let run = 0;
    for (let i = 0; i < line.length; i++) {
      const code = line.charCodeAt(i);
      if (code !== 0x5c /* \ */ && code !== 0x20 /* space */ && code !== 0x3b /* ; */) continue;
      if (ended) throw new FormatError('text after the end of a row', rowText(lines, rowStart, lineIndex));
      if (code === 0x5c) {
        if (i + 1 < line.length) {
          current += line.slice(run, i) + line[i + 1];
          i++;
          run = i + 1;
        }
      } else if (code === 0x20) {
        values.push(current + line.slice(run, i));
        current = '';
        run = i + 1;
      } else if (i === run && current === '' && values.length === entries.length) {
        ended = true;
        run = i + 1;
      }
    }
    if (ended) {
      if (run < line.length) throw new FormatError('text after the end of a row', rowText(lines, rowStart, lineIndex));
      rows.push(toRecord(entries, values, () => rowText(lines, rowStart, lineIndex)) as RecordOf<F>);
      values = [];
      current = '';
      ended = false;
      rowStart = -1;
    } else {
      current += line.slice(run) + '\n';
    }
  }
  if (rowStart >= 0) {
    throw new FormatError(`a row was cut short (${values.length} of ${entries.length} fields)`, rowText(lines, rowStart, lines.length - 1));
  }
  return rows;
}

function rowText(lines: readonly string[], first: number, last: number): string {
  return lines.slice(first, last + 1).join('\n');
}

function toRecord(entries: [string, Field][], values: string[], rowText: () => string): Record<string, unknown> {
  if (values.length !== entries.length) {
    throw new FormatError(`expected ${entries.length} fields, got ${values.length}`, rowText());
  }
  const record: Record<string, unknown> = {};
  for (let index = 0; index < entries.length; index++) {
    const [key, field] = entries[index];
    record[key] = convert(field, values[index], rowText);
  }
  return record;
}

function convert(field: Field, value: string, rowText: () => string): unknown {
  switch (field.kind) {
    case 'string':
      return value;
    case 'flag':
      if (value === '1') return true;
      if (value === '0' || value === '') return false;
      throw new FormatError(`${field.variable} should be 0 or 1, not ${JSON.stringify(value)}`, rowText());
    case 'int':
    case 'optionalInt':
      if (value === '' && field.kind === 'optionalInt') return undefined;
      if (!/^-?\d+$/.test(value)) throw new FormatError(`${field.variable} should be a number, not ${JSON.stringify(value)}`, rowText());
      return Number(value);
  }
}
