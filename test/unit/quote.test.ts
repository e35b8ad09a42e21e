import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { literalArgument, runTmux } from '../../src/tmux/exec';
import { commandLine, escapeFormat, quoteArgument, UnquotableArgumentError } from '../../src/tmux/quote';
import { usePrivateControlClient } from './helpers/tmux';

/**
 * quoteArgument is the only thing between a user's text and tmux's command parser, so it is
 * checked against the real parser: generated strings are stored in user options through a
 * control-mode client (which quotes every argument with quoteArgument) and read back.
 *
 * Reading back: `show-options -gv @name` prints the stored value as is. With -v tmux neither
 * quotes nor escapes it (cmd-show-options.c only escapes without -v), and a control client that
 * runs with a UTF-8 locale gets the bytes unsanitised. The one change is that a newline in the
 * value ends an output line, so joining the reply lines with '\n' gives the value back exactly; an
 * empty value is one empty line. `display-message -p '#{@name}'` would do too, but goes through the
 * format code, which is not what is under test here.
 */

/** Pieces that mean something to tmux's parser, to formats, to shells, or to terminals. */
const SPECIAL = [
  ';', ' ; ', '\\;', "'", '"', '\\', '\\\\', '\\"', "\\'", '#', '#{', '#{pane_id}', '##', '#(touch x)', '#[fg=red]',
  '$', '$HOME', '${HOME}', '$(id)', '`id`', '~', '~root', '{', '}', '{ }', '%', '%if', '%endif', '%end 1 2 1', '%begin',
  '\n', '\r', '\r\n', '\t', '\u001b', '\u001b[31m', '\u007f', '\u0001', '\\001', '\\n', '\\u00e9', '-', '--', '-t', ' ',
  '\u00e9', 'e\u0301', '\u4e2d\u6587', '\u{1f600}', '\u{1f469}\u200d\u{1f469}\u200d\u{1f467}', '\u{1f1ef}\u{1f1f5}',
  '\u200b', '\u202e', '\ufeff', '\u00a0', '\u0080', '\u009f', '\u{10ffff}', '\u{e0001}',
];

const controlChar = fc.integer({ min: 1, max: 0x1f }).map((code) => String.fromCharCode(code));
/** Any code point but NUL and the surrogate halves (a JavaScript string cannot send those as UTF-8). */
const anyCodePoint = fc
  .integer({ min: 1, max: 0x10ffff })
  .filter((code) => code < 0xd800 || code > 0xdfff)
  .map((code) => String.fromCodePoint(code));
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: controlChar },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 3 }).map((s) => s.replace(/\u0000/g, '0')) },
  { weight: 2, arbitrary: anyCodePoint },
);
const probeText = fc.oneof(
  { weight: 6, arbitrary: fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.array(piece, { maxLength: 12 }).map((parts) => '-' + parts.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '-', '--', '-g', ';', '"', '\\', '\n', '#{') },
);
/** About 10 KB of the same mix (code points, so the UTF-8 form is longer still). */
const bigText = fc.array(piece, { minLength: 2000, maxLength: 3000 }).map((parts) => {
  let text = parts.join('');
  while ([...text].length < 10_240) text += text;
  return [...text].slice(0, 10_240).join(''); // cut between code points, never inside a surrogate pair
});

const BATCH = 50;
const BATCH_RUNS = 200; // 200 × 50 = 10,000 strings
const BIG_RUNS = 12;

describe('quoteArgument against the real tmux parser', function () {
  this.timeout(90_000);
  const tmux = usePrivateControlClient('quote');

  /** Stores every value in its own option and reads them all back, in one round trip. */
  async function roundTrip(values: readonly string[]): Promise<string[]> {
    const sets = values.map((value, i) => ['set-option', '-g', `@tsm_probe_${i}`, value]);
    const shows = values.map((_, i) => ['show-options', '-gv', `@tsm_probe_${i}`]);
    const replies = await tmux.client.commands([...sets, ...shows]);
    return replies.slice(values.length).map((lines) => lines.join('\n'));
  }

  it('round-trips a fixed set of nasty strings', async function () {
    const values = [...SPECIAL, SPECIAL.join(''), SPECIAL.join(' '), '" ; kill-server ; "', "'; new-session -d -s PWNED; '"];
    assert.deepEqual(await roundTrip(values), values);
    assert.equal(tmux.server.tmux('list-sessions', '-F', '#{session_name}'), 'quote\n', 'no command smuggled in a value ran');
  });

  it(`round-trips ${BATCH_RUNS * BATCH} generated strings exactly`, async function () {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(probeText, { minLength: BATCH, maxLength: BATCH }), async (values) => {
        const back = await roundTrip(values);
        checked += values.length;
        for (let i = 0; i < values.length; i++) {
          assert.equal(back[i], values[i], `value ${JSON.stringify(values[i])} came back as ${JSON.stringify(back[i])}`);
        }
      }),
      { numRuns: BATCH_RUNS, endOnFailure: false },
    );
    assert.ok(checked >= 10_000, `only ${checked} strings were checked`);
    assert.equal(tmux.server.tmux('list-sessions', '-F', '#{session_name}'), 'quote\n', 'no command smuggled in a value ran');
  });

  it('round-trips 10 KB strings', async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(bigText, { minLength: 4, maxLength: 4 }), async (values) => {
        assert.ok(values.every((value) => [...value].length === 10_240));
        assert.deepEqual(await roundTrip(values), values);
      }),
      { numRuns: BIG_RUNS, endOnFailure: true },
    );
  });

  it('keeps #{...} literal in a plain argument and expands it only with -F', async function () {
    await tmux.client.command(['set-option', '-g', '@tsm_probe_plain', '#{session_name}']);
    await tmux.client.command(['set-option', '-gF', '@tsm_probe_expanded', '#{session_name}']);
    assert.deepEqual(await tmux.client.command(['show-options', '-gv', '@tsm_probe_plain']), ['#{session_name}']);
    // The control: the same text with -F is expanded, so the check above could fail.
    assert.deepEqual(await tmux.client.command(['show-options', '-gv', '@tsm_probe_expanded']), ['quote']);
  });

  it('rejects NUL before sending anything', async function () {
    for (const value of ['\u0000', 'a\u0000b', '\u0000; kill-server']) {
      assert.throws(() => quoteArgument(value), (error: unknown) => {
        assert.ok(error instanceof UnquotableArgumentError);
        assert.match(error.message, /NUL/);
        assert.equal(error.argument, value);
        return true;
      });
      await assert.rejects(tmux.client.command(['set-option', '-g', '@tsm_probe_nul', value]), UnquotableArgumentError);
    }
    assert.ok(tmux.server.isRunning());
    // The connection is still in step after the refusals.
    assert.deepEqual(await tmux.client.command(['display-message', '-p', 'still here']), ['still here']);
  });
});

describe('one-shot commands (argument arrays) against the real tmux parser', function () {
  const tmux = usePrivateControlClient('oneshot');

  it('keep a final semicolon, which tmux would otherwise take for the end of the command', async function () {
    const values = ['a;', ';', 'x;;', 'a\\;', 'ls; kill-server;', 'PWNED;'];
    for (const value of values) {
      const { stdout } = await runTmux(tmux.server.address, ['display-message', '-p', '--', escapeFormat(value)]);
      assert.equal(stdout, `${value}\n`);
    }
    assert.equal(tmux.server.tmux('list-sessions', '-F', '#{session_name}'), 'oneshot\n');
  });

  it('arguments without a final semicolon are passed as they are', function () {
    assert.equal(literalArgument('a;b'), 'a;b');
    assert.equal(literalArgument('a;'), 'a\\;');
  });
});

describe('quoteArgument (text)', function () {
  const cases: [string, string][] = [
    ['', '""'],
    ['plain', '"plain"'],
    ['with space', '"with space"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['$HOME', '"\\$HOME"'],
    ['a;b', '"a;b"'],
    ["it's", '"it\'s"'],
    ['#{pane_id}', '"#{pane_id}"'],
    ['~', '"\\~"'],
    ['a~b', '"a\\~b"'],
    ['{x}', '"{x}"'],
    ['line\nnext', '"line\\012next"'],
    ['\t', '"\\011"'],
    ['\u001b[0m', '"\\033[0m"'],
    ['\u007f', '"\\177"'],
    ['\u0001' + '7', '"\\0017"'],
    ['\u4e2d\u{1f600}', '"\u4e2d\u{1f600}"'],
  ];
  for (const [input, expected] of cases) {
    it(`quotes ${JSON.stringify(input)} as ${expected}`, function () {
      assert.equal(quoteArgument(input), expected);
    });
  }

  it('never leaves a raw newline, carriage return or unescaped quote in its output', function () {
    fc.assert(
      fc.property(probeText, (value) => {
        const quoted = quoteArgument(value);
        assert.ok(!/[\u0000-\u001f\u007f]/.test(quoted), 'no raw control character');
        assert.ok(quoted.startsWith('"') && quoted.endsWith('"'));
        // Every '"' inside is preceded by an odd number of backslashes.
        const inner = quoted.slice(1, -1);
        for (const match of inner.matchAll(/(\\*)"/g)) assert.equal(match[1].length % 2, 1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('commandLine', function () {
  it('joins the command name and quoted arguments with spaces', function () {
    assert.equal(commandLine(['list-sessions']), 'list-sessions');
    assert.equal(commandLine(['rename-session', '-t', '$1', '--', 'a b;c']), 'rename-session "-t" "\\$1" "--" "a b;c"');
    assert.equal(commandLine(['display-message', '-p', '']), 'display-message "-p" ""');
  });

  it('always gives one line', function () {
    assert.ok(!commandLine(['set-option', '@x', 'a\nb\rc']).includes('\n'));
    assert.ok(!commandLine(['set-option', '@x', 'a\nb\rc']).includes('\r'));
  });

  it('refuses an empty command', function () {
    assert.throws(() => commandLine([]), /at least its name/);
  });

  for (const name of ['', 'kill-server;', 'List-Sessions', 'new session', 'ls\n', '"quoted"', 'a;b', '$(x)']) {
    it(`refuses ${JSON.stringify(name)} as a command name`, function () {
      assert.throws(() => commandLine([name]), /not a tmux command name/);
    });
  }

  it('refuses NUL in any argument', function () {
    assert.throws(() => commandLine(['send-keys', '-l', 'a\u0000']), UnquotableArgumentError);
  });
});

describe('escapeFormat', function () {
  const cases: [string, string][] = [
    ['', ''],
    ['plain', 'plain'],
    ['#', '##'],
    ['##', '####'],
    ['#{pane_id}', '##{pane_id}'],
    ['/tmp/#(touch x)/a#b', '/tmp/##(touch x)/a##b'],
    ['no hash ; $ { }', 'no hash ; $ { }'],
    // tmux copies a run of # before [ as it is (a status-line style), so it must not be doubled.
    ['#[fg=red]x', '#[fg=red]x'],
    ['a##[b', 'a##[b'],
    ['#{x}#[y]#', '##{x}#[y]##'],
  ];
  for (const [input, expected] of cases) {
    it(`escapes ${JSON.stringify(input)} as ${JSON.stringify(expected)}`, function () {
      assert.equal(escapeFormat(input), expected);
    });
  }

  describe('against tmux format expansion', function () {
    const tmux = usePrivateControlClient('fmt');

    /** `set-option -F` expands its value as a format, as new-session -s / -c and new-window -n do. */
    async function expanded(values: readonly string[]): Promise<string[]> {
      const sets = values.map((value, i) => ['set-option', '-gF', `@tsm_fmt_${i}`, escapeFormat(value)]);
      const shows = values.map((_, i) => ['show-options', '-gv', `@tsm_fmt_${i}`]);
      const replies = await tmux.client.commands([...sets, ...shows]);
      return replies.slice(values.length).map((lines) => lines.join('\n'));
    }

    it('keeps fixed nasty strings unchanged', async function () {
      const values = ['#{session_name}', '#(touch pwned)', '##', '#', 'a#b#', '#[fg=red]x', '##[x', 'x#', '#{?1,a,b}', '#S #W #P', '#{', '#}', '#,'];
      assert.deepEqual(await expanded(values), values);
      // The control: without escaping the same text is expanded, so the check above could fail.
      await tmux.client.command(['set-option', '-gF', '@tsm_fmt_raw', '#{session_name}']);
      assert.deepEqual(await tmux.client.command(['show-options', '-gv', '@tsm_fmt_raw']), ['fmt']);
    });

    it('keeps generated strings unchanged', async function () {
      const formatPiece = fc.oneof(
        fc.constantFrom('#', '##', '###', '[', ']', '{', '}', '#{', '#[', '#(', ')', ',', '?', ':', '=', 'pane_id', 'session_name', 'S', 'W', 'T', 'q:', 'E:', 'l:', '!', '&&', ' '),
        piece,
      );
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(formatPiece, { maxLength: 12 }).map((parts) => parts.join('')), { minLength: 25, maxLength: 25 }), async (values) => {
          assert.deepEqual(await expanded(values), values);
        }),
        { numRuns: 80 },
      );
    });
  });
});
