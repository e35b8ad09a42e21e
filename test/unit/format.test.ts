import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flag, FormatError, formatString, int, optionalInt, parseRows, text } from '../../src/tmux/format';
import { allPanes, Tree } from '../../src/tmux/model';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

const SESSION_ROW = {
  id: text('session_id'),
  name: text('session_name'),
  windows: int('session_windows'),
  attached: flag('session_attached'),
  group: text('session_group'),
} as const;

const PANE_ROW = {
  id: text('pane_id'),
  path: text('pane_current_path'),
  window: text('window_name'),
  status: optionalInt('pane_dead_status'),
} as const;

describe('formatString', function () {
  it('asks for every field shell-quoted, separated by spaces, with a lone ; at the end of the row', function () {
    assert.equal(
      formatString(SESSION_ROW),
      '#{q:session_id} #{q:session_name} #{q:session_windows} #{q:session_attached} #{q:session_group} ;',
    );
  });
});

describe('parseRows on text tmux 3.3a printed', function () {
  // The reply lines of `list-sessions -F <formatString(SESSION_ROW)>` over a control client, copied
  // as tmux wrote them (JSON-escaped here).
  const sessions = [
    '\\$4 \\  1 0  ;',
    '\\$3 \\$\\(x\\)\\ \\`y\\`\\ ~z\\ {a}\\ \\%b 1 0  ;',
    '\\$0 plain 1 1  ;',
    '\\$1 with\\ space\\;\\ semi\\ \\"dq\\"\\ \\\'sq\\\'\\ \\#hash 1 0  ;',
    '\\$2 中文\\ 😀\\ é 1 0  ;',
  ];

  it('reads escaped spaces, ;, quotes, #, $ and unicode back into the names', function () {
    assert.deepEqual(parseRows(SESSION_ROW, sessions), [
      { id: '$4', name: ' ', windows: 1, attached: false, group: '' },
      { id: '$3', name: '$(x) `y` ~z {a} %b', windows: 1, attached: false, group: '' },
      { id: '$0', name: 'plain', windows: 1, attached: true, group: '' },
      { id: '$1', name: 'with space; semi "dq" \'sq\' #hash', windows: 1, attached: false, group: '' },
      { id: '$2', name: '中文 😀 é', windows: 1, attached: false, group: '' },
    ]);
  });

  it('joins a value that holds a raw newline across lines, and keeps tabs and backslashes', function () {
    // `list-panes -F <formatString(PANE_ROW)>`: the first pane's folder is "two\nlines ;\ end", the
    // second window is named "tab<TAB>here", the third "nl<LF>x". tmux does not escape newlines.
    const lines = [
      '\\%0 /srv/two',
      'lines\\ \\;\\\\\\ end sleep  ;',
      '\\%1 /srv/two',
      'lines\\ \\;\\\\\\ end tab\there  ;',
      '\\%2 /srv/two',
      'lines\\ \\;\\\\\\ end nl',
      'x  ;',
    ];
    assert.deepEqual(parseRows(PANE_ROW, lines), [
      { id: '%0', path: '/srv/two\nlines ;\\ end', window: 'sleep', status: undefined },
      { id: '%1', path: '/srv/two\nlines ;\\ end', window: 'tab\there', status: undefined },
      { id: '%2', path: '/srv/two\nlines ;\\ end', window: 'nl\nx', status: undefined },
    ]);
  });

  it('keeps empty lines inside a value and a value that ends with a newline', function () {
    assert.deepEqual(parseRows(PANE_ROW, ['\\%0 /a', '', 'b w', ' 3 ;']), [{ id: '%0', path: '/a\n\nb', window: 'w\n', status: 3 }]);
  });

  it('reads empty fields, negative numbers and an escaped ; that is not the row end', function () {
    assert.deepEqual(parseRows(PANE_ROW, ['\\%9  \\; -1 ;']), [{ id: '%9', path: '', window: ';', status: -1 }]);
  });

  it('skips blank lines between rows and returns nothing for an empty reply', function () {
    assert.deepEqual(parseRows(SESSION_ROW, []), []);
    assert.deepEqual(parseRows(SESSION_ROW, ['', '\\$0 a 1 0  ;', '']), [{ id: '$0', name: 'a', windows: 1, attached: false, group: '' }]);
  });

  const broken: [string, string[], RegExp][] = [
    ['too few fields', ['\\$0 plain 1  ;'], /a row was cut short|expected 5 fields/],
    ['too many fields', ['\\$0 plain 1 0 x y ;'], /a row was cut short|expected 5 fields/],
    ['a row without its end', ['\\$0 plain 1 0 '], /a row was cut short \(4 of 5 fields\)/],
    ['a non-numeric int', ['\\$0 plain one 0  ;'], /session_windows should be a number, not "one"/],
    ['a number with a fraction', ['\\$0 plain 1.5 0  ;'], /session_windows should be a number/],
    ['an empty int', ['\\$0 plain  0  ;'], /session_windows should be a number, not ""/],
    ['a flag that is not 0 or 1', ['\\$0 plain 1 2  ;'], /session_attached should be 0 or 1, not "2"/],
    ['text after the end of a row', ['\\$0 plain 1 0  ; \\$1 b 1 0  ;'], /text after the end of a row/],
  ];
  for (const [what, lines, message] of broken) {
    it(`throws FormatError for ${what}`, function () {
      assert.throws(() => parseRows(SESSION_ROW, lines), (error: unknown) => {
        assert.ok(error instanceof FormatError, `expected FormatError, got ${String(error)}`);
        assert.match(error.message, message);
        assert.ok(error.input.length > 0, 'the error carries the text it could not read');
        return true;
      });
    });
  }

  it('throws FormatError for a non-numeric optional int but accepts it empty', function () {
    assert.throws(() => parseRows(PANE_ROW, ['\\%0 /a w x ;']), FormatError);
    assert.equal(parseRows(PANE_ROW, ['\\%0 /a w  ;'])[0].status, undefined);
  });
});

describe('snapshot of a real server with hostile names', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let service: TmuxService | undefined;
  const savedLocale: Record<string, string | undefined> = {};

  beforeEach(function () {
    server = new PrivateTmux();
  });

  afterEach(async function () {
    await service?.dispose();
    service = undefined;
    for (const [name, value] of Object.entries(savedLocale)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    server.kill();
  });

  const SESSION_NAMES = ['with space', 'semi;colon', 'dq"sq\'', 'hash #{pane_id} #(true)', 'unicode 中文 😀 e\u0301', '$(x) `y` ~z {a} %b', ' lead and trail '];
  const WINDOW_NAMES = ['w space', 'w;semi', 'w "q" \'q\'', 'w#{session_name}', 'back\\slash', 'w 中文 😀', 'a.b:c', '-t'];
  const TITLE = 'title ; "q" #x 中文';

  /** Builds the objects with a separate tmux process, the way a user's shell would. */
  function populate(): { folder: string } {
    const folder = path.join(server.folder, 'folder with space; "q" #{x} \\ 中文\nnewline');
    fs.mkdirSync(folder);
    for (const name of SESSION_NAMES) {
      // -s is expanded as a format, so # is doubled here like the product does.
      server.tmux('new-session', '-d', '-x', '100', '-y', '30', '-s', name.replace(/#/g, '##'), '-c', folder.replace(/#/g, '##'), 'sleep 100');
    }
    const target = server.tmux('list-sessions', '-F', '#{session_id} #{session_name}').split('\n').find((line) => line.endsWith(' with space'))!.split(' ')[0];
    for (const name of WINDOW_NAMES) {
      server.tmux('new-window', '-d', '-t', `${target}:`, '-n', name.replace(/#/g, '##'), '-c', folder.replace(/#/g, '##'), 'sleep 100');
    }
    const pane = server.tmux('split-window', '-d', '-t', target, '-P', '-F', '#{pane_id}', '-c', folder.replace(/#/g, '##'), 'sleep 100').trim();
    server.tmux('select-pane', '-t', pane, '-T', TITLE);
    return { folder };
  }

  function check(tree: Tree, folder: string): void {
    assert.deepEqual(tree.sessions.map((s) => s.name).sort(), [...SESSION_NAMES].sort());
    const target = tree.sessions.find((s) => s.name === 'with space')!;
    // The first window keeps the name tmux gives it (its program's); the others are ours.
    assert.deepEqual(target.windows.slice(1).map((w) => w.name), WINDOW_NAMES);
    for (const pane of allPanes(tree)) {
      assert.equal(pane.currentPath, folder, `pane ${pane.id} folder`);
      assert.equal(pane.currentCommand, 'sleep');
      assert.equal(pane.dead, false);
    }
    assert.ok(allPanes(tree).some((pane) => pane.title === TITLE), 'the pane title with ; quotes # and unicode');
    // Every pane tmux lists is in the tree: nothing was lost to a misread row.
    assert.equal(allPanes(tree).length, Number(server.tmux('list-panes', '-a', '-F', '1').trim().split('\n').length));
  }

  it('parses back exactly', async function () {
    const { folder } = populate();
    service = new TmuxService({ ...server.address });
    await service.start();
    await eventually('connected', () => service!.state.kind === 'ok');
    check(await service.refresh(), folder);
  });

  it('parses back exactly when the editor runs without a UTF-8 locale', async function () {
    const { folder } = populate();
    // Editors started from a desktop launcher or in a container often have no LANG at all. tmux
    // then replaces every non-ASCII character it prints with "_" unless the client says it
    // speaks UTF-8.
    for (const name of ['LANG', 'LC_ALL', 'LC_CTYPE']) {
      savedLocale[name] = process.env[name];
      delete process.env[name];
    }
    service = new TmuxService({ ...server.address });
    await service.start();
    await eventually('connected', () => service!.state.kind === 'ok');
    check(await service.refresh(), folder);
    const [name] = await service.run(['display-message', '-p', '-t', service.tree.sessions.find((s) => s.name.startsWith('unicode'))!.id, '#{session_name}']);
    assert.equal(name, 'unicode 中文 😀 e\u0301');
  });
});
