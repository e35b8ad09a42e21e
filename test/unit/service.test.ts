import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listProcesses } from '../../src/core/processes';
import { CHANNEL_PREFIX } from '../../src/tmux/hooks';
import { newSessionArgs } from '../../src/tmux/commands';
import { findById } from '../../src/tmux/model';
import { ServerState, ServiceOptions, TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux, processAlive } from './helpers/tmux';

/**
 * The service's life against a real server. tmux is run through a small wrapper that logs every
 * invocation, so "does nothing while idle" is counted exactly instead of sampled.
 */
describe('TmuxService state machine', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let tools: string;
  let log: string;
  let tmuxPath: string;
  const services: TmuxService[] = [];

  beforeEach(function () {
    server = new PrivateTmux();
    tools = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-tools-'));
    log = path.join(tools, 'calls.log');
    fs.writeFileSync(log, '');
    tmuxPath = path.join(tools, 'tmux');
    fs.writeFileSync(tmuxPath, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec tmux "$@"\n`, { mode: 0o755 });
  });

  afterEach(async function () {
    for (const service of services.splice(0)) await service.dispose();
    server.kill();
    fs.rmSync(tools, { recursive: true, force: true });
  });

  function makeService(address: { tmuxPath: string; socketPath?: string; socketName?: string } = { tmuxPath, socketPath: server.socketPath }, options: ServiceOptions = {}): TmuxService {
    const log = process.env.TSM_TEST_LOG ? (m: string) => console.log(`    [${services.length}] ${m}`) : () => undefined;
    const service = new TmuxService(address, { log: { trace: log, info: log, warn: log, error: log }, ...options });
    services.push(service);
    return service;
  }

  const calls = () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const hooks = () => server.tmux('show-hooks', '-g') + server.tmux('show-hooks', '-gw');
  const sessionNames = () => server.tmux('list-sessions', '-F', '#{session_name}').split('\n').filter(Boolean).sort();
  /** The hook indexes of ours installed on the server: one per connected editor. */
  const hookIndexes = () => [...new Set([...hooks().matchAll(new RegExp(`${CHANNEL_PREFIX}(\\d+)`, 'g'))].map((match) => Number(match[1])))];
  const controlClients = () => server.tmux('list-clients', '-F', '#{client_control_mode} #{client_pid}').split('\n').filter((line) => line.startsWith('1 ')).map((line) => Number(line.slice(2)));

  /** tmux processes this test process started that are still running (control clients). */
  async function ourTmuxChildren(): Promise<number[]> {
    const processes = await listProcesses();
    // The wrapper execs tmux, which names itself "tmux: client".
    const wrapperOrTmux = (command: string) => command.startsWith('tmux') || command === 'sh';
    return processes.filter((info) => info.ppid === process.pid && wrapperOrTmux(info.command)).map((info) => info.pid);
  }

  function recordStates(service: TmuxService): ServerState['kind'][] {
    const states: ServerState['kind'][] = [];
    service.onDidChangeState((state) => states.push(state.kind));
    return states;
  }

  it('follows the server as it starts, stops and comes back, and does nothing while there is none', async function () {
    // The program watch looks every 2 s by design; it has a test of its own below.
    const service = makeService(undefined, { watchPrograms: false });
    const states = recordStates(service);
    await service.start();
    await eventually('no server', () => service.state.kind === 'noServer');
    assert.deepEqual(service.tree.sessions, []);

    // Idle with no server: nothing is run, nothing polls.
    await sleep(200);
    const before = calls().length;
    const sentBefore = service.getStats().commandsSent;
    await sleep(1000);
    assert.deepEqual(calls().slice(before), [], 'no tmux process was started while waiting for a server');
    assert.equal(service.getStats().commandsSent, sentBefore);
    assert.equal(sentBefore, 0);
    assert.deepEqual(await ourTmuxChildren(), [], 'no tmux process of ours is running');

    // Someone else starts a server: the socket watcher notices.
    let started = Date.now();
    server.tmux('new-session', '-d', '-s', 'appeared');
    await eventually('ok after the server started', () => service.state.kind === 'ok', 1000);
    const connectMs = Date.now() - started;
    await eventually('the new session in the tree', () => service.tree.sessions.some((s) => s.name === 'appeared'), 1000);

    // Idle with a server: the change waiter blocks in tmux, nothing is started over and over. (One
    // command a second after connecting counts the sentinel waiter in: hooks.ts.)
    await eventually('the crash watch ready', () => service.getStats().crashWatch, 5000);
    await sleep(300);
    const idleBefore = calls().length;
    await sleep(1000);
    assert.deepEqual(calls().slice(idleBefore), [], 'no tmux process was started while idle');

    started = Date.now();
    server.tmux('kill-server');
    await eventually('no server after kill-server', () => service.state.kind === 'noServer', 1000);
    assert.deepEqual(service.tree.sessions, []);
    await sleep(200);
    const downBefore = calls().length;
    await sleep(500);
    assert.deepEqual(calls().slice(downBefore), [], 'nothing polls after the server went away');

    server.tmux('new-session', '-d', '-s', 'back again');
    await eventually('ok when the server is back', () => service.state.kind === 'ok', 1000);
    await eventually('the session in the tree', () => service.tree.sessions.some((s) => s.name === 'back again'), 1000);
    assert.deepEqual(states.filter((s, i) => s !== states[i - 1]), ['noServer', 'ok', 'noServer', 'ok']);
    assert.ok(connectMs < 1000, `connected ${connectMs} ms after the server started`);
  });

  it('starts a new session right after kill-server, while the old server still waits for a client to leave', async function () {
    this.timeout(30_000);
    server.tmux('new-session', '-d', '-s', 'old');
    const service = makeService();
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok');
    // A client that cannot answer the server's goodbye (stopped, like a busy terminal) keeps the
    // killed server alive; meanwhile it closes every new connection.
    const lingering = spawn('tmux', ['-S', server.socketPath, '-C', 'attach'], { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, TMUX: '' } });
    try {
      await eventually('the second client attached', () => server.tmux('list-clients', '-F', '#{client_pid}').split('\n').includes(String(lingering.pid)));
      const serverPid = Number(server.tmux('display-message', '-p', '#{pid}').trim());
      lingering.kill('SIGSTOP');
      server.tmux('kill-server');
      await eventually('no server', () => service.state.kind === 'noServer');
      assert.throws(() => server.tmux('new-session', '-d', '-s', 'too-soon'), /server exited unexpectedly/, 'the old server is still there, refusing connections');
      assert.ok(processAlive(serverPid));
      await assert.rejects(service.runStartingServer(newSessionArgs({ name: 'fresh' })), /is still shutting down: a client attached to it has not exited\. Close that terminal or client, then try again\./);
      assert.ok(processAlive(serverPid));
      // Once the client leaves, the same command (already waiting) starts a new server.
      setTimeout(() => lingering.kill('SIGCONT'), 500);
      const [id] = await service.runStartingServer(newSessionArgs({ name: 'fresh' }));
      assert.match(id, /^\$\d+$/);
      assert.equal(processAlive(serverPid), false, 'the new session is on a new server');
      await eventually('the new session in the tree', () => service.state.kind === 'ok' && service.tree.sessions.map((s) => s.name).join() === 'fresh');
    } finally {
      lingering.kill('SIGCONT');
      lingering.kill();
    }
  });

  it('batch: a burst of its own changes costs one tree read after it, not one per change', async function () {
    server.newSession('burst');
    const service = makeService();
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok' && service.tree.sessions.length === 1);
    await sleep(200);
    const before = service.getStats().snapshots;
    await service.batch(async () => {
      for (let i = 0; i < 5; i++) {
        // split-window -d in a session: the hook path, one whole-tree read per split otherwise.
        await service.run(['split-window', '-d', '-t', 'burst:']);
        await service.run(['select-layout', '-t', 'burst:', 'tiled']);
      }
      await sleep(300);
      assert.equal(service.getStats().snapshots, before, 'no tree read while the batch runs');
    });
    assert.equal(service.tree.sessions[0]?.windows[0]?.panes.length, 6, 'the tree is current once the batch resolves');
    assert.ok(service.getStats().snapshots - before <= 2, `${service.getStats().snapshots - before} reads after the batch`);
  });

  it('notices the first server on a socket name (-L) in a fresh TMUX_TMPDIR', async function () {
    const saved = process.env.TMUX_TMPDIR;
    const tmpdir = fs.mkdtempSync(path.join(tools, 'tmpdir-'));
    process.env.TMUX_TMPDIR = tmpdir;
    const name = 'tsm-first';
    const tmuxL = (...args: string[]) => execFileSync('tmux', ['-L', name, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const service = makeService({ tmuxPath, socketName: name });
      await service.start();
      await eventually('no server', () => service.state.kind === 'noServer');
      await sleep(200);
      const before = calls().length;
      tmuxL('new-session', '-d', '-s', 'first ever');
      await eventually('ok after the first server started', () => service.state.kind === 'ok', 1000);
      await eventually('its session in the tree', () => service.tree.sessions.some((s) => s.name === 'first ever'), 1000);
      assert.ok(calls().length - before < 40, 'connected without polling');
      await service.dispose();
    } finally {
      try {
        tmuxL('kill-server');
      } catch {
        // Not running.
      }
      process.env.TMUX_TMPDIR = saved;
    }
  });

  it('reports tmuxMissing for a tmuxPath that points nowhere', async function () {
    const service = makeService({ tmuxPath: path.join(tools, 'no-such-tmux'), socketPath: server.socketPath });
    await service.start();
    assert.equal(service.state.kind, 'tmuxMissing');
    assert.match((service.state as { message: string }).message, /Install tmux 3\.2 or newer, or set tmuxSessionManager\.tmuxPath/);
    assert.ok(!server.isRunning(), 'no server was started');
  });

  it('reports versionTooOld for a tmux 3.1', async function () {
    const old = path.join(tools, 'old-tmux');
    fs.writeFileSync(old, '#!/bin/sh\necho "tmux 3.1"\n', { mode: 0o755 });
    const service = makeService({ tmuxPath: old, socketPath: server.socketPath });
    await service.start();
    assert.deepEqual({ ...service.state, message: undefined }, { kind: 'versionTooOld', found: '3.1', message: undefined });
    assert.match((service.state as { message: string }).message, /tmux 3\.1 is too old/);
  });

  describe('on a running server', function () {
    let sessionId: string;

    beforeEach(function () {
      sessionId = server.tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', 'user work', '-P', '-F', '#{session_id}').trim();
      server.tmux('new-window', '-d', '-t', 'user work:', '-n', 'second');
      server.tmux('new-session', '-d', '-s', 'other');
      // The user's own hooks, which must survive us.
      server.tmux('set-hook', '-g', 'after-split-window[0]', 'set -g @user_split 1');
      server.tmux('set-hook', '-g', 'pane-exited[3]', 'set -g @user_exit 1');
    });

    for (const connection of ['hooks', 'control'] as const) {
      // One control client per editor in control mode, none with hooks; a plain `wait-for` waiter in both.
      const expectedControlClients = connection === 'control' ? 1 : 0;

      it(`(${connection}) connects without creating a session and without resizing the user's windows`, async function () {
        const sessions = sessionNames();
        const size = () => server.tmux('list-windows', '-t', sessionId, '-F', '#{window_width}x#{window_height}').trim().split('\n');
        assert.deepEqual(size(), ['200x50', '200x50']);
        const service = makeService(undefined, { connection });
        await service.start();
        await eventually('ok', () => service.state.kind === 'ok');
        await sleep(300);
        assert.equal(controlClients().length, expectedControlClients);
        assert.deepEqual(sessionNames(), sessions, 'the same sessions as before');
        assert.deepEqual(size(), ['200x50', '200x50'], 'window sizes unchanged');
        const tree = service.tree;
        const session = tree.sessions.find((s) => s.id === sessionId)!;
        assert.deepEqual(session.windows.map((w) => `${w.panes[0].width}x${w.panes[0].height}`), ['200x50', '200x50']);
      });

      it(`(${connection}) removes its hooks, its waiter and its client on dispose, and leaves the user's things alone`, async function () {
        const sessions = sessionNames();
        const service = makeService(undefined, { connection });
        await service.start();
        await eventually('ok', () => service.state.kind === 'ok');
        assert.equal(hookIndexes().length, 1, 'our hooks are installed');
        assert.ok((await ourTmuxChildren()).length >= 1 + expectedControlClients, 'a waiter (and in control mode a control client) runs');

        await service.dispose();
        assert.equal(service.state.kind, 'stopped');
        assert.ok(!hooks().includes(CHANNEL_PREFIX), `no hook of ours is left:\n${hooks()}`);
        assert.equal(server.tmux('show-options', '-g').includes('tmux-session-manager-dirty'), false, 'no option of ours is left');
        assert.match(hooks(), /after-split-window\[0\] set-option -g @user_split 1/);
        assert.match(hooks(), /pane-exited\[3\] set-option -g @user_exit 1/);
        await eventually('our control client detached', () => controlClients().length === 0);
        await eventually('no tmux process of ours left', async () => (await ourTmuxChildren()).length === 0);
        assert.deepEqual(sessionNames(), sessions, 'the user\'s sessions are untouched');
        assert.equal(server.tmux('show-options', '-gqv', '@user_split').trim(), '', 'no user hook was fired by us');
      });
    }

    it('two editors on one server each see changes; closing one leaves the other working', async function () {
      const first = makeService();
      const second = makeService();
      await Promise.all([first.start(), second.start()]);
      await eventually('both ok', () => first.state.kind === 'ok' && second.state.kind === 'ok');
      assert.equal(controlClients().length, 0, 'no control client on this tmux');
      const indexes = hookIndexes();
      assert.equal(indexes.length, 2, 'hooks for each editor');

      server.tmux('new-session', '-d', '-s', 'seen by both');
      await eventually('both see the new session', () => [first, second].every((s) => s.tree.sessions.some((x) => x.name === 'seen by both')));

      await first.dispose();
      const left = hookIndexes();
      assert.equal(left.length, 1, 'the other editor keeps its hooks');
      assert.ok(indexes.includes(left[0]));
      assert.equal(first.state.kind, 'stopped');

      // Changes of every kind reach the other editor through its hooks alone.
      const panes = ['user work', 'other'].map((name) => server.tmux('split-window', '-d', '-t', name, '-P', '-F', '#{pane_id}').trim());
      await eventually('the other editor sees both new panes', () => panes.every((pane) => findById(second.tree, pane)));
      server.tmux('rename-session', '-t', 'other', 'renamed other');
      await eventually('the other editor sees the rename', () => second.tree.sessions.some((x) => x.name === 'renamed other'));
      assert.equal(second.state.kind, 'ok');
    });

    it('removes hooks left by an editor that is gone', async function () {
      // Hooks as an editor of process 1234567 left them (no such process: pids stop far below).
      const index = 1234567 * 100;
      server.tmux('set-hook', '-g', `after-split-window[${index}]`, `wait-for -S ${CHANNEL_PREFIX}${index}`);
      server.tmux('set-option', '-g', `@tmux-session-manager-dirty-${index}`, '1');
      // The waiter such an editor leaves behind when it is killed outright.
      const orphan = spawn('tmux', ['-S', server.socketPath, 'wait-for', `${CHANNEL_PREFIX}${index}`], { stdio: 'ignore', env: { ...process.env, TMUX: '' } });
      const orphanExit = new Promise<number | null>((resolve) => orphan.on('exit', resolve));
      const service = makeService();
      await service.start();
      await eventually('ok', () => service.state.kind === 'ok');
      assert.ok(!hookIndexes().includes(index), 'the stale hook is gone');
      assert.equal(hookIndexes().length, 1, 'ours is there');
      assert.equal(server.tmux('show-options', '-gqv', `@tmux-session-manager-dirty-${index}`).trim(), '', 'its option is gone');
      assert.equal(await orphanExit, 0, 'its waiter was released');
    });

    it('with the program watch on, looks at the panes\' programs once per interval and at nothing else', async function () {
      const service = makeService(undefined, { programWatchMs: 500 });
      await service.start();
      await eventually('ok', () => service.state.kind === 'ok');
      await eventually('the crash watch ready (its one command made)', () => service.getStats().crashWatch, 5000);
      await sleep(300);
      const before = calls().length;
      await sleep(2000);
      const made = calls().slice(before);
      assert.ok(made.length >= 3 && made.length <= 5, `${made.length} calls in 2 s`);
      assert.ok(made.every((call) => call.includes('list-panes -a -F #{pane_id} #{pane_pid} #{pane_dead} #{pane_current_command}')), made.join('\n'));
    });
  });
});
