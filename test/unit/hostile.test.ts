import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  newSessionArgs,
  newWindow,
  renameSession,
  renameWindow,
  Runner,
  sendKeyNames,
  sendText,
  splitPane,
} from '../../src/tmux/commands';
import { InvalidInputError, TmuxCommandError } from '../../src/tmux/errors';
import { keyNameProblem } from '../../src/tmux/keys';
import { findById, PaneId, SessionId, WindowId } from '../../src/tmux/model';
import { TmuxService } from '../../src/tmux/service';
import { Outcome, SESSION_NAMES } from './helpers/hostileNames';
import { eventually, PrivateTmux } from './helpers/tmux';

/**
 * Hostile input through the product's own command builders and the service's control-mode
 * connection. Each input either fails with a clear InvalidInputError before anything is sent, or
 * reaches tmux exactly as typed. Inputs that try to smuggle in a command are checked with canaries:
 * a session called PWNED, a kill-server, and files that `$(...)`, backticks or `#(...)` would create.
 *
 * Canary files live in the home folder (a temporary one, see helpers/isolate.ts), written as `~/...`
 * in names so they hold nothing that makes a name invalid for another reason ("." or "$HOME").
 */
const CANARIES = ['pwned-1', 'pwned-2', 'pwned-3', 'pwned-4', 'pwned-5', 'pwned-6'];

/** Window names: created with new-window -n, then set again with rename-window. */
const WINDOW_NAMES: [string, Outcome][] = [
  ['plain', 'exact'],
  ['with space', 'exact'],
  ['a.b:c', 'exact'],
  ['x ; new-session -d -s PWNED', 'exact'],
  ['" ; kill-server ; "', 'exact'],
  ['#{pane_id}', 'exact'],
  ['#(touch ~/pwned-4)', 'exact'],
  ['#[bg=blue]', 'exact'],
  ['$(touch ~/pwned-5)', 'exact'],
  ['`id`', 'exact'],
  ['~', 'exact'],
  ['-t', 'exact'],
  ['%endif', 'exact'],
  ['中文 😀 e\u0301', 'exact'],
  ['x'.repeat(256), 'exact'],
  ['x'.repeat(257), /at most 256 characters/],
  ['new\nline', /control characters/],
  ['tab\there', /control characters/],
  ['back\\slash', /tmux would store "\\" in a window name as "\\\\"/],
  ['$USER', /"\$" before a letter, "_" or "\{" in a window name/],
];

/** Folder names for a session's, window's and pane's start folder (no "/": `cd;` goes home). */
const FOLDER_NAMES: string[] = [
  'with space',
  'semi;colon',
  'dq"x',
  "sq'x",
  '#{pane_id}',
  '#(cd;touch pwned-6)',
  '#[fg=red]',
  '$(cd;touch pwned-2)',
  '`cd;touch pwned-3`',
  '$HOME',
  '~tilde',
  '-t',
  ' leading',
  'trailing ',
  'new\nline',
  'x\nkill-server',
  'tab\there',
  '" ; kill-server ; "',
  'back\\slash',
  '{brace}',
  '中文 😀 e\u0301',
];

/** Text typed into a pane with sendText; each must arrive byte for byte. */
const TEXTS: [string, string][] = [
  ['plain', 'echo hello'],
  ['shell syntax', 'a;b "q" \'s\' $(touch $HOME/pwned-1) `id` && || > < | * ?'],
  ['tmux syntax', '#{pane_id} #(id) ; kill-server ; {x} %if \\; ~'],
  ['a leading tilde', '~/bin/run'],
  ['a key name as text', 'Enter'],
  ['a modifier key name as text', 'C-c'],
  ['a leading dash', '-t -l --'],
  ['tabs and newlines', 'col1\tcol2\nline2\n'],
  ['control characters', '\u0003\u0004\u001a\u0011\u0013\u0016\u007f'],
  ['an escape sequence', '\u001b[31mred\u001b[0m'],
  ['CR LF', '\r\n'],
  ['backslashes', '\\ \\\\ \\n \\012'],
  ['quotes only', '"\'"\''],
  ['unicode', '中文 😀 e\u0301 👩‍👩‍👧 \u202e'],
  ['a long line', 'x'.repeat(4000)],
];

describe('hostile input', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let service: TmuxService;
  let base: SessionId;
  let scratch: string;
  let sent: string[][];

  before(async function () {
    server = new PrivateTmux();
    base = server.newSession('base') as SessionId;
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-hostile-'));
    service = new TmuxService({ ...server.address });
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok');
  });

  after(async function () {
    await service?.dispose();
    server?.kill();
    fs.rmSync(scratch, { recursive: true, force: true });
    for (const canary of CANARIES) fs.rmSync(path.join(process.env.HOME!, canary), { force: true });
  });

  beforeEach(function () {
    sent = [];
  });

  /** The service's runner, recording what is sent. */
  const run: Runner = (argv) => {
    sent.push([...argv]);
    return service.run(argv);
  };

  /** Fails if a smuggled command ran; clears its traces first, so one failure does not spill into the next test. */
  function assertNothingSmuggled(): void {
    assert.ok(server.isRunning(), 'the server still runs');
    const sessions = server.tmux('list-sessions', '-F', '#{session_name}').split('\n');
    if (sessions.includes('PWNED')) server.tmux('kill-session', '-t', '=PWNED');
    const created = CANARIES.filter((canary) => fs.existsSync(path.join(process.env.HOME!, canary)));
    for (const canary of created) fs.rmSync(path.join(process.env.HOME!, canary));
    assert.ok(!sessions.includes('PWNED'), 'no PWNED session');
    assert.deepEqual(created, [], 'no canary file was created');
    assert.ok(sessions.includes('base'), 'the base session is still there');
    assert.equal(service.state.kind, 'ok');
  }

  /** Name, window name and path as tmux reports them, read by a separate tmux process. */
  function read(target: string, format: string): string {
    const lines = server.tmux('list-panes', '-a', '-F', `#{session_id} #{window_id} #{pane_id}`).split('\n');
    assert.ok(lines.some((line) => line.split(' ').includes(target)), `${target} exists`);
    return server.tmux('display-message', '-p', '-t', target, format).replace(/\n$/, '');
  }

  function expectRefusal(error: unknown, message: RegExp): true {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`);
    assert.match(error.message, message);
    assert.deepEqual(sent, [], 'nothing was sent to tmux');
    return true;
  }

  const label = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}… (${text.length})` : text);

  describe('session names', function () {
    for (const [name, outcome] of SESSION_NAMES) {
      it(`new-session ${label(name)}: ${outcome === 'exact' ? 'exact' : 'refused'}`, async function () {
        if (outcome !== 'exact') {
          assert.throws(() => newSessionArgs({ name }), (error) => expectRefusal(error, outcome));
          return;
        }
        const [id] = await service.runStartingServer(newSessionArgs({ name, command: 'sleep 600' }));
        try {
          assert.equal(read(id, '#{session_name}'), name);
          const session = findById(await service.refresh(), id);
          assert.equal(session?.kind === 'session' && session.name, name, 'the tree shows the same name');
          await new Promise((resolve) => setTimeout(resolve, 50)); // let a smuggled #() job run
          assertNothingSmuggled();
        } finally {
          server.tmux('kill-session', '-t', id);
        }
      });

      it(`rename-session ${label(name)}: ${outcome === 'exact' ? 'exact' : 'refused'}`, async function () {
        const id = server.newSession('to rename', 'sleep 600') as SessionId;
        try {
          sent = [];
          if (outcome !== 'exact') {
            await assert.rejects(renameSession(run, id, name), (error) => expectRefusal(error, outcome));
            assert.equal(read(id, '#{session_name}'), 'to rename');
            return;
          }
          await renameSession(run, id, name);
          assert.equal(read(id, '#{session_name}'), name);
          await new Promise((resolve) => setTimeout(resolve, 50));
          assertNothingSmuggled();
        } finally {
          server.tmux('kill-session', '-t', id);
        }
      });
    }

    it('reports a duplicate name as tmux\'s own clear error', async function () {
      await assert.rejects(service.runStartingServer(newSessionArgs({ name: 'base' })), (error: unknown) => {
        assert.ok(error instanceof TmuxCommandError);
        assert.match(error.message, /duplicate session: base/);
        return true;
      });
      assertNothingSmuggled();
    });
  });

  describe('window names', function () {
    for (const [name, outcome] of WINDOW_NAMES) {
      it(`new-window ${label(name)}: ${outcome === 'exact' ? 'exact' : 'refused'}`, async function () {
        if (outcome !== 'exact') {
          await assert.rejects(newWindow(run, base, { name, command: 'sleep 600' }), (error) => expectRefusal(error, outcome));
          return;
        }
        const id = await newWindow(run, base, { name, command: 'sleep 600' });
        try {
          assert.equal(read(id, '#{window_name}'), name);
          await new Promise((resolve) => setTimeout(resolve, 50));
          assertNothingSmuggled();
        } finally {
          server.tmux('kill-window', '-t', id);
        }
      });

      it(`rename-window ${label(name)}: ${outcome === 'exact' ? 'exact' : 'refused'}`, async function () {
        const id = server.tmux('new-window', '-d', '-t', `${base}:`, '-n', 'to rename', '-P', '-F', '#{window_id}', 'sleep 600').trim() as WindowId;
        try {
          if (outcome !== 'exact') {
            await assert.rejects(renameWindow(run, id, name), (error) => expectRefusal(error, outcome));
            assert.equal(read(id, '#{window_name}'), 'to rename');
            return;
          }
          await renameWindow(run, id, name);
          assert.equal(read(id, '#{window_name}'), name);
          await new Promise((resolve) => setTimeout(resolve, 50));
          assertNothingSmuggled();
        } finally {
          server.tmux('kill-window', '-t', id);
        }
      });
    }

    it('refuses an empty name when renaming', async function () {
      const id = server.tmux('list-windows', '-t', base, '-F', '#{window_id}').trim().split('\n')[0] as WindowId;
      await assert.rejects(renameWindow(run, id, ''), (error) => expectRefusal(error, /cannot be empty/));
    });
  });

  describe('start folders', function () {
    for (const folderName of FOLDER_NAMES) {
      it(`a session, a window and a pane start in ${label(folderName)}`, async function () {
        const folder = path.join(scratch, folderName);
        fs.mkdirSync(folder);
        const [sessionId] = await service.runStartingServer(newSessionArgs({ name: 'in folder', cwd: folder, command: 'sleep 600' }));
        try {
          const windowId = await newWindow(run, sessionId as SessionId, { cwd: folder, command: 'sleep 600' });
          const paneId = await splitPane(run, windowId, 'right', { cwd: folder });
          const firstPane = read(sessionId, '#{pane_id}');
          await eventually('every pane in the folder', () =>
            [firstPane, read(windowId, '#{pane_id}'), paneId].every((pane) => read(pane, '#{pane_current_path}') === folder),
          );
          const tree = await service.refresh();
          assert.equal((findById(tree, paneId) as { currentPath: string }).currentPath, folder, 'the tree shows the same folder');
          await new Promise((resolve) => setTimeout(resolve, 50));
          assertNothingSmuggled();
        } finally {
          server.tmux('kill-session', '-t', sessionId);
        }
      });
    }

    const badFolders: [string, (dir: string) => string, RegExp][] = [
      ['a folder that does not exist', (dir) => path.join(dir, 'missing ; kill-server'), /does not exist\. Choose an existing folder/],
      ['a file', (dir) => {
        const file = path.join(dir, 'a file');
        fs.writeFileSync(file, '');
        return file;
      }, /is not a folder\. Choose a folder to start in/],
      ['a path with NUL', (dir) => `${dir}/a\u0000b`, /cannot contain a NUL character/],
    ];
    for (const [what, make, message] of badFolders) {
      it(`refuses ${what} before sending anything`, async function () {
        const cwd = make(scratch);
        assert.throws(() => newSessionArgs({ name: 'x', cwd }), (error) => expectRefusal(error, message));
        await assert.rejects(newWindow(run, base, { cwd }), (error) => expectRefusal(error, message));
        const pane = read(base, '#{pane_id}') as PaneId;
        await assert.rejects(splitPane(run, pane, 'down', { cwd }), (error) => expectRefusal(error, message));
        assertNothingSmuggled();
      });
    }
  });

  describe('keys and text sent to a pane', function () {
    let pane: PaneId;
    let output: string;
    let window: string;

    before(async function () {
      // A raw terminal hands every byte to cat unchanged: no line editing, no signals, no echo.
      output = path.join(scratch, 'typed');
      const ready = path.join(scratch, 'ready');
      window = server.tmux('new-window', '-d', '-t', `${base}:`, '-P', '-F', '#{window_id}', `stty raw -echo && touch '${ready}' && exec cat > '${output}'`).trim();
      pane = read(window, '#{pane_id}') as PaneId;
      await eventually('the reader is ready', () => fs.existsSync(ready));
    });

    after(function () {
      server.tmux('kill-window', '-t', window);
    });

    /** Runs `send`, then returns the bytes that reached the program in the pane. */
    async function typed(send: () => Promise<void>): Promise<string> {
      const start = fs.statSync(output).size;
      await send();
      const marker = '<end of test input>';
      await sendText(run, pane, marker, false);
      const all = await eventually('the marker', () => {
        const data = fs.readFileSync(output).subarray(start);
        return data.includes(marker) ? data : undefined;
      });
      return all!.subarray(0, all!.indexOf(marker)).toString('utf8');
    }

    for (const [what, text] of TEXTS) {
      it(`sendText types ${what} literally`, async function () {
        assert.equal(await typed(() => sendText(run, pane, text, false)), text);
        assertNothingSmuggled();
      });
    }

    it('sendText presses Enter after the text when asked', async function () {
      assert.equal(await typed(() => sendText(run, pane, 'ls -l', true)), 'ls -l\r');
    });

    it('sendText refuses NUL before sending anything', async function () {
      await assert.rejects(sendText(run, pane, 'a\u0000b', true), (error) => expectRefusal(error, /NUL/));
    });

    const KEYS: [string, string][] = [
      ['Enter', '\r'],
      ['enter', '\r'],
      ['C-c', '\u0003'],
      ['^c', '\u0003'],
      ['C-d', '\u0004'],
      ['C-[', '\u001b'],
      ['C-Space', '\u0000'],
      ['M-x', '\u001bx'],
      ['C-M-x', '\u001b\u0018'],
      ['M-Enter', '\u001b\r'],
      ['Escape', '\u001b'],
      ['Tab', '\t'],
      ['BTab', '\u001b[Z'],
      ['Space', ' '],
      ['BSpace', '\u007f'],
      ['F1', '\u001bOP'],
      ['F5', '\u001b[15~'],
      ['Up', '\u001b[A'],
      ['S-Up', '\u001b[1;2A'],
      ['C-Up', '\u001b[1;5A'],
      ['PageDown', '\u001b[6~'],
      ['Home', '\u001b[1~'],
      ['DC', '\u001b[3~'],
      ['a', 'a'],
      [';', ';'],
      ['"', '"'],
      ['\\', '\\'],
      ['$', '$'],
      ['#', '#'],
      ['~', '~'],
      ['{', '{'],
      ['-', '-'],
      ['中', '中'],
      ['😀', '😀'],
    ];
    for (const [key, bytes] of KEYS) {
      it(`sendKeyNames presses ${JSON.stringify(key)}`, async function () {
        assert.equal(keyNameProblem(key), undefined);
        assert.equal(await typed(() => sendKeyNames(run, pane, [key])), bytes);
      });
    }

    it('sendKeyNames presses several keys in order', async function () {
      assert.equal(await typed(() => sendKeyNames(run, pane, ['a', 'C-c', 'Enter', 'M-x'])), 'a\u0003\r\u001bx');
    });

    const BAD_KEYS: [string, RegExp][] = [
      ['Entr', /"Entr" is not a tmux key name \(did you mean "Enter"\?\)/],
      ['C-', /"C-" is not a tmux key name/],
      ['', /cannot be empty/],
      ['Foo Bar', /"Foo Bar" is not a tmux key name\. Use names like Enter/],
      ['hello', /"hello" is not a tmux key name/],
      ['Enter; kill-server', /"Enter; kill-server" is not a tmux key name/],
      ['C-c" ; new-session -d -s PWNED ; "', /is not a tmux key name/],
      ['#{pane_id}', /"#\{pane_id\}" is not a tmux key name/],
      ['$(touch $HOME/pwned-1)', /is not a tmux key name/],
      ['-t', /"-t" is not a tmux key name/],
      ['\n', /"\\n" is not a tmux key name/],
      ['S-Tab', /tmux cannot send "S-Tab".*did you mean "BTab"/],
      ['S-a', /tmux cannot send "S-a".*did you mean "A"/],
      ['C-Enter', /tmux cannot send "C-Enter"/],
      ['FocusIn', /"FocusIn" is not a tmux key name/],
    ];
    for (const [key, message] of BAD_KEYS) {
      it(`sendKeyNames refuses ${JSON.stringify(key)} and sends nothing, not even the valid keys before it`, async function () {
        const before = fs.statSync(output).size;
        await assert.rejects(sendKeyNames(run, pane, ['a', key, 'Enter']), (error) => expectRefusal(error, message));
        assert.equal(fs.statSync(output).size, before, 'nothing reached the pane');
        assertNothingSmuggled();
      });
    }

    it('sendKeyNames refuses an empty list', async function () {
      await assert.rejects(sendKeyNames(run, pane, []), (error) => expectRefusal(error, /Name at least one key/));
    });

    it('every key keyNameProblem accepts reaches the pane as a key; every one it refuses tmux would type as text or drop', async function () {
      const bases = [
        'F1', 'F12', 'IC', 'Insert', 'DC', 'Delete', 'Home', 'End', 'NPage', 'PageDown', 'PgDn', 'PPage', 'PageUp', 'PgUp',
        'Tab', 'BTab', 'Space', 'BSpace', 'Enter', 'Escape', 'Up', 'Down', 'Left', 'Right', 'KP/', 'KP*', 'KP-', 'KP7', 'KP+',
        'KPEnter', 'KP0', 'KP.', 'a', 'A', 'z', '1', '2', '6', ';', '[', ']', '\\', '_', '?', '@', '-', '/', '^', '~', '"', ' ',
        'FocusIn', 'PasteEnd', 'Entr',
      ];
      const modifiers = ['', 'C-', 'M-', 'S-', 'C-M-', 'C-S-', 'M-S-', 'C-M-S-', 'c-', 's-', '^', 'M-^'];
      const keys = modifiers.flatMap((modifier) => bases.map((base) => modifier + base));
      // Each key is followed by a marker, all sent at once: they must arrive in the order sent.
      const marker = '\u00a7\u00a7';
      const start = fs.statSync(output).size;
      await Promise.all(keys.flatMap((key) => [
        service.run(['send-keys', '-t', pane, '--', key]),
        service.run(['send-keys', '-t', pane, '-l', '--', marker]),
      ]));
      const pieces = await eventually('every marker', () => {
        const parts = fs.readFileSync(output).subarray(start).toString('utf8').split(marker);
        return parts.length === keys.length + 1 ? parts : undefined;
      }, 5000);
      const wrong: string[] = [];
      keys.forEach((key, i) => {
        const got = pieces![i];
        const typedAsText = got === key && [...key].length > 1;
        const accepted = keyNameProblem(key) === undefined;
        if (accepted && (got === '' || typedAsText)) wrong.push(`accepted ${JSON.stringify(key)}, but tmux ${got === '' ? 'sent nothing' : 'typed it as text'}`);
        if (!accepted && got !== '' && !typedAsText) wrong.push(`refused ${JSON.stringify(key)}, but tmux sends it as ${JSON.stringify(got)}`);
      });
      assert.deepEqual(wrong, []);
    });
  });

  // Mocha runs a suite's own tests before its nested suites, so this one is nested to run last.
  describe('afterwards', function () {
    it('leaves the server as it found it', async function () {
      await new Promise((resolve) => setTimeout(resolve, 300)); // any #() job started by a test has run by now
      assertNothingSmuggled();
      assert.deepEqual(server.tmux('list-sessions', '-F', '#{session_name}').trim().split('\n'), ['base']);
      assert.equal(server.tmux('list-windows', '-t', base, '-F', '#{window_id}').trim().split('\n').length, 1, 'every window a test made is closed');
    });
  });
});
