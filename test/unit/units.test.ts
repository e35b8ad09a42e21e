import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { stripEscapes } from '../../src/tmux/commands';
import {
  classifyFailure,
  NoServerError,
  TargetNotFoundError,
  TmuxCommandError,
  TmuxNotInstalledError,
  TmuxVersionError,
} from '../../src/tmux/errors';
import { detectVersion } from '../../src/tmux/exec';
import { assertKeyName, keyNameProblem, splitKeyNames } from '../../src/tmux/keys';
import { sessionNameProblem, suggestSessionName, windowNameProblem } from '../../src/tmux/names';
import { MINIMUM_VERSION, parseVersion, versionAtLeast } from '../../src/tmux/version';

/** No half of a surrogate pair (in a `u` regex a whole pair is one code point, not a surrogate). */
const wellFormed = (text: string) => !/\p{Surrogate}/u.test(text);

describe('parseVersion and versionAtLeast', function () {
  const cases: [string, { major: number; minor: number; patch: string; text: string }, boolean][] = [
    ['tmux 3.3a\n', { major: 3, minor: 3, patch: 'a', text: '3.3a' }, true],
    ['tmux 3.2', { major: 3, minor: 2, patch: '', text: '3.2' }, true],
    ['3.2', { major: 3, minor: 2, patch: '', text: '3.2' }, true],
    ['tmux 3.2a', { major: 3, minor: 2, patch: 'a', text: '3.2a' }, true],
    ['tmux 3.1c', { major: 3, minor: 1, patch: 'c', text: '3.1c' }, false],
    ['tmux 3.1', { major: 3, minor: 1, patch: '', text: '3.1' }, false],
    ['tmux 2.9a', { major: 2, minor: 9, patch: 'a', text: '2.9a' }, false],
    ['tmux 3.10', { major: 3, minor: 10, patch: '', text: '3.10' }, true],
    ['tmux 4.0', { major: 4, minor: 0, patch: '', text: '4.0' }, true],
    ['tmux next-3.5', { major: 3, minor: 5, patch: '', text: 'next-3.5' }, true],
    ['tmux next-3.1', { major: 3, minor: 1, patch: '', text: 'next-3.1' }, false],
    ['tmux master', { major: 999, minor: 0, patch: '', text: 'master' }, true],
    ['tmux openbsd-7.4', { major: 999, minor: 0, patch: '', text: 'openbsd-7.4' }, true],
  ];
  for (const [output, expected, supported] of cases) {
    it(`reads ${JSON.stringify(output)} as ${expected.text} (${supported ? 'supported' : 'too old'})`, function () {
      const version = parseVersion(output);
      assert.deepEqual(version, expected);
      assert.equal(versionAtLeast(version, MINIMUM_VERSION), supported);
    });
  }

  it('compares patch letters', function () {
    assert.ok(versionAtLeast(parseVersion('3.3a'), parseVersion('3.3')));
    assert.ok(versionAtLeast(parseVersion('3.3b'), parseVersion('3.3a')));
    assert.ok(!versionAtLeast(parseVersion('3.3'), parseVersion('3.3a')));
  });
});

describe('session and window names', function () {
  const badSessions: [string, RegExp][] = [
    ['', /cannot be empty/],
    ['   ', /only spaces/],
    ['my.project', /"\." or ":".*"my_project".*Use "-" or "_" instead/],
    ['host:1', /"host_1"/],
    ['tab\there', /control characters/],
    ['line\nbreak', /control characters/],
    ['bell\u0007', /control characters/],
    ['c1\u0085', /control characters/],
    ['back\\slash', /"\\".*Use "\/" or "-" instead/],
    ['$HOME', /"\$" before a letter, "_" or "\{"/],
    ['x${y}', /"\$" before a letter/],
    ['a$_b', /"\$" before a letter/],
    ['x'.repeat(257), /at most 256 characters/],
  ];
  for (const [name, message] of badSessions) {
    it(`refuses the session name ${JSON.stringify(name.length > 20 ? name.slice(0, 20) + '…' : name)}`, function () {
      assert.match(sessionNameProblem(name) ?? '', message);
    });
  }

  for (const name of ['main', 'my session', 'x;y', '#{pane_id}', '$(id)', '"q"', "'q'", '中文 😀', '-t', '~', 'x'.repeat(256), ' padded ']) {
    it(`accepts the session name ${JSON.stringify(name.length > 20 ? name.slice(0, 20) + '…' : name)}`, function () {
      assert.equal(sessionNameProblem(name), undefined);
    });
  }

  it('window names may use . and : and be empty, but not control characters, backslashes or 257 characters', function () {
    for (const name of ['a.b:c', '', '-t', '#{x}', '中文']) assert.equal(windowNameProblem(name), undefined, name);
    assert.match(windowNameProblem('a\tb') ?? '', /control characters/);
    assert.match(windowNameProblem('a\\b') ?? '', /Use "\/" or "-" instead/);
    assert.match(windowNameProblem('$EDITOR') ?? '', /"\$" before a letter/);
    assert.equal(windowNameProblem('$ 5'), undefined);
    assert.match(windowNameProblem('x'.repeat(257)) ?? '', /at most 256/);
  });

  const suggestions: [string, string[], string][] = [
    ['my.project', [], 'my-project'],
    ['host:8080', [], 'host-8080'],
    ['  spaced  ', [], 'spaced'],
    ['', [], 'main'],
    ['...', [], '---'],
    ['\t\n', [], 'main'],
    ['back\\slash', [], 'back-slash'],
    ['$HOME $5', [], '-HOME $5'],
    ['api', ['api'], 'api-2'],
    ['api', ['api', 'api-2', 'api-3'], 'api-4'],
    ['中文', [], '中文'],
  ];
  for (const [folder, taken, expected] of suggestions) {
    it(`suggests ${JSON.stringify(expected)} for the folder ${JSON.stringify(folder)}${taken.length ? ` when ${taken.join(', ')} are taken` : ''}`, function () {
      assert.equal(suggestSessionName(folder, new Set(taken)), expected);
    });
  }

  it('always suggests a valid, unused, well-formed name', function () {
    const folder = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', minLength: 240, maxLength: 300 }),
      fc.array(fc.constantFrom('.', ':', '\\', ' ', '\u0085', '$', 'a', '_', '{', '😀'), { maxLength: 300 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(folder, fc.array(fc.string({ maxLength: 6 }), { maxLength: 5 }), (name, takenList) => {
        const taken = new Set([...takenList, suggestSessionName(name)]);
        for (const set of [new Set<string>(), taken]) {
          const suggestion = suggestSessionName(name, set);
          assert.equal(sessionNameProblem(suggestion), undefined, `suggestion ${JSON.stringify(suggestion)}`);
          assert.ok(!set.has(suggestion));
          assert.ok(wellFormed(suggestion), 'no half of a surrogate pair');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('does not cut an emoji in half when shortening a long folder name', function () {
    const suggestion = suggestSessionName('a' + '😀'.repeat(200));
    assert.ok(wellFormed(suggestion));
    assert.ok(suggestion.length <= 252);
  });
});

describe('key names', function () {
  for (const key of ['Enter', 'enter', 'C-c', 'c-c', '^c', 'C-A', 'C-[', 'C-?', 'C-Space', 'C-2', 'M-x', 'C-M-x', 'M-Tab', 'BTab', 'S-Up', 'C-S-F5', 'M-S-Home', 'F5', 'F12', 'Up', 'PageDown', 'KPEnter', 'Escape', 'BSpace', 'Space', 'a', ';', '"', '中', '😀', 'M-Enter', 'C-Up']) {
    it(`accepts ${JSON.stringify(key)}`, function () {
      assert.equal(keyNameProblem(key), undefined);
      assert.doesNotThrow(() => assertKeyName(key));
    });
  }

  const typos: [string, string][] = [
    ['Entr', 'Enter'],
    ['enterr', 'Enter'],
    ['Escpe', 'Escape'],
    ['M-Entr', 'M-Enter'],
    ['M-Tabb', 'M-Tab'],
    ['PgDwn', 'PgDn'],
    ['Deleet', 'Delete'],
  ];
  for (const [key, suggestion] of typos) {
    it(`refuses ${JSON.stringify(key)} and suggests ${suggestion}`, function () {
      const problem = keyNameProblem(key) ?? '';
      assert.ok(problem.startsWith(`${JSON.stringify(key)} is not a tmux key name`), problem);
      assert.ok(problem.includes(`did you mean "${suggestion}"?`), problem);
    });
  }

  for (const key of ['', 'C-', 'Foo Bar', 'Enter; kill-server', 'hello', 'e\u0301', '\u0003', '--']) {
    it(`refuses ${JSON.stringify(key)} with a message naming it`, function () {
      const problem = keyNameProblem(key);
      assert.ok(problem, 'a problem is reported');
      if (key === '') assert.match(problem, /cannot be empty/);
      else {
        assert.ok(problem.includes(JSON.stringify(key)), problem);
        assert.match(problem, /Use names like Enter, Escape, C-c/);
      }
      assert.throws(() => assertKeyName(key), { name: 'InvalidInputError', message: problem });
    });
  }

  // tmux 3.3a types these as text (S-Tab, S-a, C-M-1, M-^a) or sends nothing (C-Enter, C-1).
  const unsendable: [string, RegExp][] = [
    ['S-Tab', /tmux cannot send "S-Tab": it sends Shift \(S-\) only with .* \(did you mean "BTab"\?\)/],
    ['M-S-Tab', /did you mean "M-BTab"\?/],
    ['S-a', /Shift .*did you mean "A"\?/],
    ['S-Enter', /tmux cannot send "S-Enter": it sends Shift/],
    ['C-Enter', /tmux cannot send "C-Enter": it sends Ctrl \(C-\) only with letters/],
    ['C-Tab', /Ctrl/],
    ['C-1', /Ctrl/],
    ['C-M-2', /Ctrl/],
    ['C-中', /Ctrl/],
    ['M-^a', /not a tmux key name/],
    ['FocusIn', /not a tmux key name/],
    ['PasteStart', /not a tmux key name/],
  ];
  for (const [key, message] of unsendable) {
    it(`refuses ${JSON.stringify(key)}, which tmux cannot send as a key`, function () {
      assert.match(keyNameProblem(key) ?? '', message);
    });
  }

  it('does not suggest anything for text that is nothing like a key', function () {
    assert.ok(!(keyNameProblem('Foo Bar') ?? '').includes('did you mean'));
  });

  it('splits what a user typed into key names', function () {
    assert.deepEqual(splitKeyNames('C-c Enter'), ['C-c', 'Enter']);
    assert.deepEqual(splitKeyNames(' C-c,  Enter ,Up '), ['C-c', 'Enter', 'Up']);
    assert.deepEqual(splitKeyNames(''), []);
  });
});

describe('stripEscapes', function () {
  const cases: [string, string, string][] = [
    ['colours', '\u001b[1;31mred\u001b[0m text', 'red text'],
    ['cursor moves and private modes', '\u001b[2J\u001b[H\u001b[?25lok\u001b[?2004h', 'ok'],
    ['a title set with BEL', '\u001b]0;my title\u0007after', 'after'],
    ['a hyperlink with ST', '\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\', 'link'],
    ['two-byte ESC forms', '\u001b7saved\u001b8\u001bM\u001b=\u001b>\u001bc', 'saved'],
    ['charset selection (what tput sgr0 prints)', '\u001b(Bplain\u001b)0', 'plain'],
    ['stray control bytes', 'a\u0000b\u0007c\u007fd', 'abcd'],
    ['keeping tabs, newlines and unicode', 'col1\tcol2\n中文 😀\r\n', 'col1\tcol2\n中文 😀\r\n'],
    ['plain text', 'nothing to strip; "q" #{x}', 'nothing to strip; "q" #{x}'],
  ];
  for (const [what, input, expected] of cases) {
    it(`removes ${what}`, function () {
      assert.equal(stripEscapes(input), expected);
    });
  }
});

describe('classifyFailure', function () {
  const cases: [string, string, new (...args: never[]) => Error][] = [
    ['no server running on /tmp/tmux-1000/default', 'no server', NoServerError],
    ['error connecting to /tmp/x/sock (No such file or directory)', 'no server', NoServerError],
    ['error connecting to /tmp/x/sock (Connection refused)', 'no server', NoServerError],
    ['server exited unexpectedly', 'no server', NoServerError],
    ["can't find session: foo", 'gone', TargetNotFoundError],
    ["can't find window: @99", 'gone', TargetNotFoundError],
    ["can't find pane: %99", 'gone', TargetNotFoundError],
    ['unknown command: frobnicate', 'other', TmuxCommandError],
    ['duplicate session: main', 'other', TmuxCommandError],
    ['', 'other', TmuxCommandError],
  ];
  for (const [stderr, kind, type] of cases) {
    it(`classifies ${JSON.stringify(stderr)} as ${kind}`, function () {
      const error = classifyFailure({ argv: ['kill-session', '-t', 'foo'], exitCode: 1, stderr });
      assert.ok(error instanceof type, `${error.name}: ${error.message}`);
      assert.deepEqual(error.argv, ['kill-session', '-t', 'foo']);
      assert.equal(error.stderr, stderr);
      if (type === NoServerError) assert.match(error.message, /No tmux server is running/);
      else if (stderr) assert.equal(error.message, stderr);
      else assert.equal(error.message, 'tmux exited with code 1');
    });
  }
});

describe('detectVersion with a fake or missing tmux', function () {
  let folder: string;

  beforeEach(function () {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-fake-'));
  });

  afterEach(function () {
    fs.rmSync(folder, { recursive: true, force: true });
  });

  function fakeTmux(output: string): string {
    const file = path.join(folder, 'tmux');
    fs.writeFileSync(file, `#!/bin/sh\necho '${output}'\n`, { mode: 0o755 });
    return file;
  }

  it('rejects tmux 3.1 with TmuxVersionError telling what is needed', async function () {
    await assert.rejects(detectVersion(fakeTmux('tmux 3.1')), (error: unknown) => {
      assert.ok(error instanceof TmuxVersionError);
      assert.equal(error.found, '3.1');
      assert.equal(error.required, '3.2');
      assert.match(error.message, /tmux 3\.1 is too old: this extension needs tmux 3\.2 or newer\. Upgrade tmux, or set tmuxSessionManager\.tmuxPath/);
      return true;
    });
  });

  it('accepts a fake tmux 3.2 (so the check above is about the version)', async function () {
    assert.equal((await detectVersion(fakeTmux('tmux 3.2'))).text, '3.2');
  });

  it('accepts the real tmux', async function () {
    const version = await detectVersion('tmux');
    assert.ok(versionAtLeast(version, MINIMUM_VERSION), version.text);
  });

  for (const [what, make] of [
    ['a path that does not exist', (dir: string) => path.join(dir, 'no-such-tmux')],
    ['a folder', (dir: string) => dir],
    ['a file that is not executable', (dir: string) => {
      const file = path.join(dir, 'not-executable');
      fs.writeFileSync(file, '#!/bin/sh\necho tmux 3.3a\n', { mode: 0o644 });
      return file;
    }],
  ] as const) {
    it(`reports ${what} as TmuxNotInstalledError telling the user to install tmux or set the path`, async function () {
      const tmuxPath = make(folder);
      await assert.rejects(detectVersion(tmuxPath), (error: unknown) => {
        assert.ok(error instanceof TmuxNotInstalledError, String(error));
        assert.equal(error.tmuxPath, tmuxPath);
        assert.match(error.message, /Install tmux 3\.2 or newer, or set tmuxSessionManager\.tmuxPath/);
        assert.ok(error.message.includes(tmuxPath));
        return true;
      });
    });
  }
});
