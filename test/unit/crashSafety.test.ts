import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TmuxService } from '../../src/tmux/service';
import { parseVersion, SAFE_CONTROL_MODE_VERSION, versionAtLeast } from '../../src/tmux/version';
import { eventually, PrivateTmux, processAlive } from './helpers/tmux';

/**
 * tmux 3.3a queues a session-window-changed notification when a window is selected, and writes
 * it to every control client later, reading the session's current window; a session killed in
 * between has none (control-notify.c, control_notify_session_window_changed). With any control
 * client attached, `select-window` then `kill-session` in one command list kills the server every
 * time. Scripts do exactly that; without a control client the notification writes nowhere.
 */
describe('a server with us attached survives what kills it with a control client', function () {
  this.timeout(20_000);
  const affected = !versionAtLeast(parseVersion(execFileSync('tmux', ['-V'], { encoding: 'utf8' })), SAFE_CONTROL_MODE_VERSION);
  let server: PrivateTmux;
  let service: TmuxService | undefined;

  beforeEach(function () {
    server = new PrivateTmux();
    server.newSession('keep');
    server.newSession('victim');
    server.tmux('new-window', '-d', '-t', 'victim:');
  });

  afterEach(async function () {
    await service?.dispose();
    service = undefined;
    server.kill();
  });

  async function attach(connection: 'auto' | 'control'): Promise<number> {
    service = new TmuxService({ ...server.address }, { connection });
    await service.start();
    await eventually('connected', () => service!.state.kind === 'ok' && service!.tree.sessions.length === 2);
    return Number(server.tmux('display-message', '-p', '#{pid}').trim());
  }

  it('before: with a control client of ours attached, select-window then kill-session crashes tmux', async function () {
    if (!affected) this.skip();
    const pid = await attach('control');
    await eventually('the crash watch ready', () => service!.getStats().crashWatch, 5000);
    try {
      server.tmux('select-window', '-t', 'victim:1', ';', 'kill-session', '-t', 'victim');
    } catch {
      // The command's own client may see the server go.
    }
    await eventually('the server process gone', () => !processAlive(pid), 5000);
    await eventually('the service names it a crash', () => service!.state.kind === 'noServer' && (service!.state as { lastEnd?: { unexpected: boolean } }).lastEnd?.unexpected === true, 5000);
  });

  it('after: connected the default way, the same commands leave the server running and the tree follows', async function () {
    const pid = await attach('auto');
    assert.equal(service!.getStats().mode, affected ? 'hooks' : 'control');
    for (let round = 0; round < 20; round++) {
      server.newSession(`victim-${round}`);
      server.tmux('new-window', '-d', '-t', `victim-${round}:`);
      server.tmux('select-window', '-t', `victim-${round}:1`, ';', 'kill-session', '-t', `victim-${round}`);
    }
    server.tmux('select-window', '-t', 'victim:1', ';', 'kill-session', '-t', 'victim');
    await eventually('only "keep" left in the tree', () => service!.tree.sessions.map((s) => s.name).join() === 'keep');
    assert.ok(processAlive(pid), 'the server is alive');
    assert.equal(service!.state.kind, 'ok');
  });
});

/**
 * A kill-server is no crash, whenever it comes. Our change waiter is started again after every
 * change, and one started after kill-server began is turned away by the exiting server with
 * "server exited unexpectedly", the words of a crash; the sentinel waiter tells the two apart.
 */
describe('kill-server while changes keep coming is never called a crash', function () {
  this.timeout(60_000);

  it('kill-server as the window connects, and in a stream of changes: each an orderly stop; a SIGSEGV after them still a crash', async function () {
    for (let round = 0; round < 24; round++) {
      const server = new PrivateTmux();
      server.newSession('main');
      for (let i = 0; i < 10; i++) server.newSession(`s${i}`);
      const service = new TmuxService({ ...server.address });
      try {
        if (round % 2 === 0) {
          // As the window connects: the kill lands at a different moment of the connect each round,
          // some of them while the first waiter is started but not yet taken in by the server.
          const starting = service.start();
          await new Promise((resolve) => setTimeout(resolve, round * 4));
          server.tmux('kill-server');
          await starting;
        } else {
          await service.start();
          await eventually('connected', () => service.state.kind === 'ok' && service.tree.sessions.length === 11);
          // Changes signal the waiter again and again; the kill lands while one is being replaced.
          const churn = Array.from({ length: 10 }, (_, i) => ['rename-window', '-t', `s${i}:`, `w${round}-${i}`, ';']).flat();
          server.tmux(...churn, 'kill-server');
        }
        await eventually('the service saw the server go', () => service.state.kind === 'noServer', 10_000);
        const end = (service.state as { lastEnd?: { unexpected: boolean; detail: string } }).lastEnd;
        assert.equal(end?.unexpected ?? false, false, `round ${round}: kill-server was taken for a crash (${end?.detail})`);
      } finally {
        await service.dispose();
        server.kill();
      }
    }
    const server = new PrivateTmux();
    server.newSession('main');
    const service = new TmuxService({ ...server.address });
    try {
      await service.start();
      await eventually('connected', () => service.state.kind === 'ok');
      // A crash in the first second after connecting is not named one (hooks.ts, the sentinel).
      await eventually('the crash watch ready', () => service.getStats().crashWatch, 5000);
      process.kill(Number(server.tmux('display-message', '-p', '#{pid}').trim()), 'SIGSEGV');
      await eventually('the service names it a crash', () => service.state.kind === 'noServer' && (service.state as { lastEnd?: { unexpected: boolean } }).lastEnd?.unexpected === true, 10_000);
    } finally {
      await service.dispose();
      server.kill();
    }
  });
});
