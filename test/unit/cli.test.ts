import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { z } from 'zod';
import {
  captureSchema,
  errorSchema,
  followSchema,
  gcSchema,
  healthSchema,
  killSchema,
  lsSchema,
  metricsSchema,
  newSchema,
  restoreSchema,
  saveSchema,
  sendSchema,
  snapshotsSchema,
  waitSchema,
} from '../../src/cli/schemas';
import { COMMANDS } from '../../src/cli/table';
import { buildCli, CliResult, ROOT, runCli } from './helpers/cli';
import { eventually, PrivateTmux } from './helpers/tmux';

/**
 * The command-line tool as a user runs it: the built dist/cli.js in a child process, against a
 * private tmux server, checked by what it prints, its exit code, and what tmux then holds.
 */

/** Parses `text` with the command's schema; a field the schema does not document fails too. */
function shaped<T extends z.ZodType>(schema: T, text: string): z.infer<T> {
  const value: unknown = JSON.parse(text);
  const parsed = schema.parse(value);
  assert.deepEqual(parsed, value, 'the output has fields its schema does not document');
  return parsed;
}

function expectError(result: CliResult, exitCode: number, code: string, message: RegExp): void {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`);
  const { error } = shaped(errorSchema, result.stderr);
  assert.equal(error.code, code);
  assert.equal(error.exitCode, exitCode);
  assert.match(error.message, message);
  assert.equal(result.stdout, '', 'a failure prints nothing on standard output');
}

describe('command-line tool', function () {
  this.timeout(60_000);
  before(function () {
    this.timeout(120_000);
    buildCli();
  });

  describe('help and usage', function () {
    it('lists every command with --help, and each command has its own --help (exit 0)', async function () {
      const overall = await runCli(['--help']);
      assert.equal(overall.code, 0);
      for (const command of COMMANDS) assert.match(overall.stdout, new RegExp(`^  ${command.name} `, 'm'));
      assert.match(overall.stdout, /124 timeout/);
      const helps = await Promise.all(COMMANDS.map((command) => runCli([command.name, '--help'])));
      helps.forEach((help, i) => {
        assert.equal(help.code, 0, COMMANDS[i].name);
        assert.match(help.stdout, new RegExp(`^Usage: tmux-session-manager ${COMMANDS[i].name}`));
        assert.match(help.stdout, /--socket-name NAME/);
      });
      assert.equal((await runCli(['help', 'wait'])).stdout, helps[COMMANDS.findIndex((c) => c.name === 'wait')].stdout);
    });

    it('exits 2 with a clear message for no command, an unknown command, an unknown option or a missing value', async function () {
      const none = await runCli([]);
      assert.equal(none.code, 2);
      assert.match(none.stdout, /^Usage:/);
      const unknown = await runCli(['lst', '--json']);
      expectError(unknown, 2, 'usage', /"lst" is not a command\. Commands: ls, new/);
      const option = await runCli(['send', 'x', '--enetr']);
      assert.equal(option.code, 2);
      assert.match(option.stderr, /Unknown option --enetr\. Did you mean --enter\?/);
      const missing = await runCli(['wait', 'x', '--timeout']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--timeout needs a value \(DURATION\)/);
      assert.match((await runCli(['--version'])).stdout, /^tmux-session-manager \d+\.\d+\.\d+\n$/);
    });

    it('keeps the committed JSON Schemas equal to the definitions', function () {
      execFileSync(process.execPath, ['scripts/cli-schemas.mjs', '--check'], { cwd: ROOT, stdio: 'pipe' });
    });
  });

  describe('without a server, and without tmux', function () {
    let server: PrivateTmux;
    before(() => (server = new PrivateTmux()));
    after(() => server.kill());

    it('exits 3 when no server runs, with a JSON error on standard error', async function () {
      expectError(await runCli(['-S', server.socketPath, 'ls', '--json']), 3, 'noServer', /No tmux server is running.*new NAME/);
      const text = await runCli(['ls', '-S', server.socketPath]);
      assert.equal(text.code, 3);
      assert.match(text.stderr, /^tmux-session-manager: No tmux server is running/);
      assert.equal((await runCli(['-S', server.socketPath, 'send', 'x', 'hi'])).code, 3);
      assert.equal((await runCli(['-S', server.socketPath, 'save'])).code, 3);
    });

    it('exits 4 when tmux is missing, for every command that runs it', async function () {
      for (const args of [['ls'], ['new', 'x'], ['kill', 'x'], ['capture', 'x'], ['save']]) {
        expectError(await runCli(['--tmux', '/nonexistent/tmux', '-S', server.socketPath, '--json', ...args]), 4, 'tmuxMissing', /tmux was not found at "\/nonexistent\/tmux"\. Install tmux 3\.2 or newer, or pass its path with --tmux PATH/);
      }
    });

    it('health reports each check, exit 3 without a server and 4 without tmux', async function () {
      const noServer = await runCli(['-S', server.socketPath, 'health', '--json']);
      assert.equal(noServer.code, 3);
      const report = shaped(healthSchema, noServer.stdout);
      assert.equal(report.ok, false);
      assert.equal(report.checks.find((c) => c.id === 'server')?.ok, false);
      assert.equal(report.checks.find((c) => c.id === 'binary')?.ok, true);
      const missing = await runCli(['--tmux', '/nonexistent/tmux', 'health']);
      assert.equal(missing.code, 4);
      assert.match(missing.stdout, /^FAIL {2}tmux program: tmux was not found/m);
    });

    it('new starts a server when none runs', async function () {
      const created = await runCli(['-S', server.socketPath, 'new', 'first', '--json', '--cwd', os.tmpdir()]);
      assert.equal(created.code, 0, created.stderr);
      const { id, name } = shaped(newSchema, created.stdout);
      assert.equal(name, 'first');
      assert.equal(server.tmux('display-message', '-p', '-t', id, '#{session_name}|#{pane_current_path}').trim(), `first|${fs.realpathSync(os.tmpdir())}`);
      server.tmux('kill-server');
    });
  });

  describe('with a server', function () {
    let server: PrivateTmux;
    const cli = (...args: string[]) => runCli(['-S', server.socketPath, ...args]);
    beforeEach(() => {
      server = new PrivateTmux();
      server.newSession('main');
    });
    afterEach(() => server.kill());

    it('ls prints the tree, and --json has every session, window and pane as tmux lists them', async function () {
      server.tmux('new-window', '-t', 'main:', '-n', 'logs');
      server.tmux('split-window', '-t', 'main:1');
      server.newSession('other');
      const text = await cli('ls');
      assert.equal(text.code, 0);
      assert.match(text.stdout, /^main {2}\$\d+ {2}2 windows\n {2}0: \S+ {2}@\d+ {2}1 pane\n {4}0 {2}%\d+ /);
      assert.match(text.stdout, /^ {2}1: logs {2}@\d+ {2}active {2}2 panes$/m);
      const listing = shaped(lsSchema, (await cli('ls', '--json')).stdout);
      assert.equal(listing.socket, server.socketPath);
      const fromTmux = server.tmux('list-panes', '-a', '-F', '#{session_name} #{window_index} #{pane_id} #{pane_pid}').trim().split('\n').sort();
      const fromCli = listing.sessions.flatMap((s) => s.windows.flatMap((w) => w.panes.map((p) => `${s.name} ${w.index} ${p.id} ${p.pid}`))).sort();
      assert.deepEqual(fromCli, fromTmux);
      const one = shaped(lsSchema, (await cli('ls', 'other', '--json')).stdout);
      assert.deepEqual(one.sessions.map((s) => s.name), ['other']);
    });

    it('resolves targets by exact name, tmux id and SESSION:WINDOW.PANE; an unknown one exits 1 naming the sessions', async function () {
      server.tmux('split-window', '-t', 'main:0');
      const paneIds = server.tmux('list-panes', '-t', 'main:0', '-F', '#{pane_id}').trim().split('\n');
      const byIndex = shaped(captureSchema, (await cli('capture', 'main:0.1', '--json')).stdout);
      assert.equal(byIndex.pane, paneIds[1]);
      const byId = shaped(captureSchema, (await cli('capture', paneIds[0], '--json')).stdout);
      assert.equal(byId.pane, paneIds[0]);
      expectError(await cli('capture', 'mian', '--json'), 1, 'notFound', /No session is named "mian"\. Sessions: "main"/);
      expectError(await cli('capture', 'main:7', '--json'), 1, 'notFound', /has no window 7 \(it has 0\)/);
      expectError(await cli('capture', '%999', '--json'), 1, 'notFound', /No session, window or pane has the id %999/);
    });

    it('new refuses a name tmux would change (exit 2) and a name in use (exit 1), creating nothing', async function () {
      const dotted = await cli('new', 'my.app');
      assert.equal(dotted.code, 2);
      assert.match(dotted.stderr, /tmux does not allow "\." or ":" in session names/);
      expectError(await cli('new', 'main', '--json'), 1, 'failed', /A session named "main" already exists/);
      assert.equal(server.tmux('list-sessions', '-F', '#{session_name}').trim(), 'main');
    });

    it('send types text literally and presses Enter; capture shows the result', async function () {
      const sent = await cli('send', 'main', 'echo', 'out-$((40+2))', 'C-c', '--enter', '--json');
      assert.equal(sent.code, 0, sent.stderr);
      const report = shaped(sendSchema, sent.stdout);
      assert.equal(report.text, 'echo out-$((40+2)) C-c');
      assert.equal(report.enter, true);
      // "C-c" in the text is typed as three letters, not pressed.
      await eventually('the echo in the pane', async () => /^out-42 C-c$/m.test((await cli('capture', 'main')).stdout));
    });

    it('send --keys presses named keys, and a bad key name exits 2 before anything is typed', async function () {
      assert.equal((await cli('send', 'main', 'half typed')).code, 0);
      await eventually('the text', async () => /half typed/.test((await cli('capture', 'main')).stdout));
      const bad = await cli('send', 'main', 'more', '--keys', 'C-u Entr', '--json');
      expectError(bad, 2, 'usage', /"Entr" is not a tmux key name \(did you mean "Enter"\?\)/);
      assert.doesNotMatch((await cli('capture', 'main')).stdout, /more/);
      assert.equal((await cli('send', 'main', '--keys', 'C-u', '--keys', 'Enter')).code, 0);
      await eventually('the line cleared', async () => !/half typed/.test((await cli('capture', 'main')).stdout));
    });

    it('send --signal reaches the foreground job; a bad signal name exits 2', async function () {
      server.tmux('send-keys', '-t', 'main', 'sleep 300 | cat', 'Enter');
      await eventually('sleep running', () => server.tmux('display-message', '-p', '-t', 'main', '#{pane_current_command}').trim() === 'sleep');
      expectError(await cli('send', 'main', '--signal', 'TREM', '--json'), 2, 'usage', /"TREM" is not a signal name/);
      expectError(await cli('send', 'main', 'x', '--signal', 'INT', '--json'), 2, 'usage', /cannot be combined/);
      const sent = shaped(sendSchema, (await cli('send', 'main', '--signal', 'TERM', '--json')).stdout);
      assert.equal(sent.signal?.name, 'SIGTERM');
      assert.ok(sent.signal?.processGroup, 'sent to the job, not the shell');
      // Both ends of the pipeline are in the job's group: the shell is back at its prompt.
      await eventually('the prompt back', () => /^(bash|sh|dash|zsh)$/.test(server.tmux('display-message', '-p', '-t', 'main', '#{pane_current_command}').trim()), 5000);
      assert.equal(server.isRunning(), true);
    });

    it('wait exits 0 on a match, 124 on timeout with the last lines, 2 on a bad regex', async function () {
      const waiting = cli('wait', 'main', '--regex', '^ready-\\d+$', '--timeout', '20s', '--json');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await cli('send', 'main', 'echo ready-$((6*7))', '--enter');
      const matched = await waiting;
      assert.equal(matched.code, 0, matched.stderr);
      const result = shaped(waitSchema, matched.stdout);
      assert.equal(result.outcome, 'matched');
      assert.equal(result.match, 'ready-42');

      const timing = cli('wait', 'main', '--regex', 'never-appears', '--timeout', '2s');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await cli('send', 'main', 'echo last-words', '--enter');
      const timedOut = await timing;
      assert.equal(timedOut.code, 124);
      assert.match(timedOut.stderr, /timed out after 2 s waiting for \/never-appears\/ in pane main:0\.0 .*; its last lines:\n(.*\n)* {2}last-words/);

      expectError(await cli('wait', 'main', '--regex', 'a(b', '--json'), 2, 'usage', /--regex "a\(b" is not a valid regular expression/);
      expectError(await cli('wait', 'main', '--json'), 2, 'usage', /Say what to wait for/);
      expectError(await cli('wait', 'main', '--regex', 'x', '--timeout', 'soon', '--json'), 2, 'usage', /--timeout must be a duration/);
    });

    it('wait --exit ends with 0 when the program exits; a pattern not seen before the exit ends with 1', async function () {
      const pane = server.tmux('new-window', '-P', '-F', '#{pane_id}', '-t', 'main:', 'sleep 2').trim();
      const exited = await cli('wait', pane, '--exit', '--timeout', '20s', '--json');
      assert.equal(exited.code, 0, exited.stderr);
      assert.equal(shaped(waitSchema, exited.stdout).outcome, 'exited');
      const other = server.tmux('new-window', '-P', '-F', '#{pane_id}', '-t', 'main:', 'sleep 2').trim();
      const early = await cli('wait', other, '--regex', 'never', '--timeout', '20s');
      assert.equal(early.code, 1);
      assert.match(early.stderr, /exited before \/never\//);
    });

    it('follow prints new output as JSON lines until the timeout (124) or the pane exits (0)', async function () {
      const following = cli('follow', 'main', '--json', '--timeout', '4s');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await cli('send', 'main', 'echo followed-$((1+1))', '--enter');
      const result = await following;
      assert.equal(result.code, 124, result.stderr);
      const lines = result.stdout.trim().split('\n').map((line) => shaped(followSchema, line));
      assert.deepEqual(lines[0], { type: 'start', pane: server.tmux('display-message', '-p', '-t', 'main', '#{pane_id}').trim() });
      assert.deepEqual(lines[lines.length - 1], { type: 'end', reason: 'timeout' });
      const text = lines.flatMap((line) => (line.type === 'output' ? [line.text] : [])).join('');
      assert.match(text, /^followed-2\r?$/m);
      // Our pipe is closed again: the pane can be followed once more.
      assert.equal(server.tmux('display-message', '-p', '-t', 'main', '#{pane_pipe}').trim(), '0');

      const pane = server.tmux('new-window', '-P', '-F', '#{pane_id}', '-t', 'main:', 'sleep 2; echo bye').trim();
      const untilExit = await cli('follow', pane);
      assert.equal(untilExit.code, 0, untilExit.stderr);
      assert.match(untilExit.stdout, /bye/);
    });

    it('kill ends what runs and closes the target; JSON says which steps it took', async function () {
      server.newSession('doomed', 'sh', '-c', 'trap "" INT; sleep 300');
      const killed = await cli('kill', 'doomed', '--json', '--interrupt-wait', '300ms');
      assert.equal(killed.code, 0, killed.stderr);
      const report = shaped(killSchema, killed.stdout);
      assert.equal(report.target.kind, 'session');
      assert.equal(report.lastStep, 'terminate');
      assert.equal(server.tmux('list-sessions', '-F', '#{session_name}').trim(), 'main');
      expectError(await cli('kill', 'doomed', '--json'), 1, 'notFound', /No session is named "doomed"/);
    });

    it('save, snapshots and restore share the data folder; restore never replaces a running session unasked', async function () {
      const dataDir = path.join(server.folder, 'data');
      const data = ['--data-dir', dataDir];
      server.tmux('new-window', '-t', 'main:', '-n', 'second');
      const saved = await cli('save', 'main', '--label', 'before', '--json', ...data);
      assert.equal(saved.code, 0, saved.stderr);
      const [entry] = shaped(saveSchema, saved.stdout).saved;
      assert.deepEqual([entry.session, entry.label, entry.windows, entry.kind], ['main', 'before', 2, 'manual']);
      assert.ok(entry.file.startsWith(path.join(dataDir, 'snapshots')));
      const listed = shaped(snapshotsSchema, (await cli('snapshots', '--json', ...data)).stdout);
      assert.deepEqual(listed.snapshots.map((s) => s.id), [entry.id]);

      expectError(await cli('restore', 'main', '--json', ...data), 1, 'failed', /A session named "main" is running\. Restore beside it with --name/);
      const beside = await cli('restore', entry.id, '--name', 'main-copy', '--json', ...data);
      assert.equal(beside.code, 0, beside.stderr);
      assert.equal(shaped(restoreSchema, beside.stdout).name, 'main-copy');
      assert.equal(server.tmux('list-windows', '-t', 'main-copy', '-F', '#{window_name}').trim().split('\n')[1], 'second');

      server.tmux('kill-server');
      const back = await cli('restore', 'main', ...data);
      assert.equal(back.code, 0, back.stderr);
      assert.match(back.stdout, /^restored "main" \(\$\d+\) from /);
      expectError(await cli('restore', 'nothing-saved', '--json', ...data), 1, 'notFound', /No snapshot has the id "nothing-saved"/);
      expectError(await cli('restore', 'main', '--programs', 'most', '--json', ...data), 2, 'usage', /--programs must be none, safe or all/);
      expectError(await cli('save', 'ghost', '--json', ...data), 1, 'notFound', /No session is named "ghost"/);
    });

    it('health passes every check with a server (exit 0)', async function () {
      const health = await cli('health', '--json', '--data-dir', path.join(server.folder, 'data'));
      assert.equal(health.code, 0, health.stdout);
      assert.equal(shaped(healthSchema, health.stdout).ok, true);
    });

    it('metrics shows a pane holding 100 MB, sorted by memory, and --json matches its schema', async function () {
      const hog = server.tmux('new-window', '-d', '-t', 'main:', '-P', '-F', '#{pane_id}', `node -e "const b = Buffer.alloc(100 * 1024 * 1024, 1); setInterval(() => b[0]++, 1000)"`).trim();
      await eventually('the 100 MB pane running', async () => {
        const result = await cli('metrics', '--json', '--interval', '0');
        return result.code === 0 && shaped(metricsSchema, result.stdout).panes.some((p) => p.paneId === hog && p.rssBytes > 100 * 1024 * 1024);
      }, 15_000);
      const result = await cli('metrics', '--json', '--sort', 'memory', '--interval', '300ms');
      assert.equal(result.code, 0, result.stderr);
      const sample = shaped(metricsSchema, result.stdout);
      assert.equal(sample.panes[0].paneId, hog, 'sorted by memory, the 100 MB pane comes first');
      assert.equal(typeof sample.panes[0].cpuPercent, 'number', 'two readings give a CPU%');
      assert.equal(sample.sessions.find((x) => x.sessionName === 'main')?.panes, 2);
      const text = await cli('metrics', 'main:1', '--interval', '0');
      assert.equal(text.code, 0);
      assert.match(text.stdout, /^PANE\s+PROGRAM\s+CPU\s+MEMORY/);
      assert.match(text.stdout, /\nmain:1\.0\s+node\s+-\s+1\d\d MB/);
      expectError(await cli('metrics', '--json', '--sort', 'disk'), 2, 'usage', /--sort takes cpu or memory/);
      expectError(await cli('metrics', '--json', 'nope'), 1, 'notFound', /No session is named "nope"/);
    });

    it('gc lists candidates with reasons and changes nothing; --yes ends them gracefully, never a protected or pattern-protected one', async function () {
      const data = path.join(server.folder, 'data');
      const gone = fs.mkdtempSync(path.join(server.folder, 'project-'));
      server.tmux('new-session', '-d', '-s', 'old project', '-c', gone);
      server.tmux('new-session', '-d', '-s', 'kept', '-c', gone);
      server.tmux('new-session', '-d', '-s', 'agent-1', '-c', gone);
      server.tmux('set-option', '-t', 'kept', '@tmux-session-manager-protected', '1');
      fs.rmSync(gone, { recursive: true });
      const before = server.tmux('list-sessions', '-F', '#{session_name}');
      const dry = await cli('gc', '--json', '--data-dir', data, '--protect', 'agent-*');
      assert.equal(dry.code, 0, dry.stderr);
      const plan = shaped(gcSchema, dry.stdout);
      assert.equal(plan.dryRun, true);
      assert.deepEqual(plan.candidates.map((c) => [c.kind, c.label]), [['missingFolder', 'session "old project"']]);
      assert.match(plan.candidates[0].reason, /no longer exists/);
      assert.equal(server.tmux('list-sessions', '-F', '#{session_name}'), before, 'a dry run changed the server');
      const text = await cli('gc', '--data-dir', data, '--protect', 'agent-*');
      assert.match(text.stdout, /^session:\$\d+\tsession "old project": .*no longer exists\n\nA dry run: nothing was changed/);
      const acted = await cli('gc', '--yes', '--json', '--data-dir', data, '--protect', 'agent-*');
      assert.equal(acted.code, 0, acted.stderr);
      assert.deepEqual(shaped(gcSchema, acted.stdout).outcomes?.map((o) => o.result), ['done']);
      assert.deepEqual(server.tmux('list-sessions', '-F', '#{session_name}').trim().split('\n').sort(), ['agent-1', 'kept', 'main']);
      expectError(await cli('gc', '--yes', '--dry-run', '--json'), 2, 'usage', /contradict/);
      expectError(await cli('gc', 'session:$1', '--json'), 2, 'usage', /only act with --yes/);
    });
  });

  describe('choosing the server', function () {
    it('-L NAME talks to tmux -L NAME (under $TMUX_TMPDIR), and $TMUX picks the server of the pane it runs in', async function () {
      const name = `tsm-cli-${process.pid}`;
      const tmux = (...args: string[]) => execFileSync('tmux', ['-L', name, '-f', '/dev/null', ...args], { encoding: 'utf8' });
      tmux('new-session', '-d', '-s', 'by-name');
      try {
        const listing = shaped(lsSchema, (await runCli(['-L', name, 'ls', '--json'])).stdout);
        assert.deepEqual(listing.sessions.map((s) => s.name), ['by-name']);
        const socket = tmux('display-message', '-p', '#{socket_path}').trim();
        const inside = await runCli(['ls', '--json'], { env: { ...process.env, TMUX: `${socket},1,0` } });
        assert.deepEqual(shaped(lsSchema, inside.stdout).sessions.map((s) => s.name), ['by-name']);
      } finally {
        tmux('kill-server');
      }
    });
  });
});
