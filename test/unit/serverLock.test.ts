import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { newSessionArgs } from '../../src/tmux/commands';
import { runTmux } from '../../src/tmux/exec';
import { acquireServerLock, isStale, newLockToken, releaseIfHeldArgs, SERVER_LOCK_OPTION, SERVER_LOCK_STALE_MS } from '../../src/tmux/serverLock';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

/**
 * The lock that keeps one window's connect out of another window's burst of changes: tmux 3.3a
 * crashes when a notification reaches a control client that is still identifying itself.
 */
describe('the server lock', function () {
  this.timeout(30_000);
  let server: PrivateTmux;
  const services: TmuxService[] = [];

  beforeEach(function () {
    server = new PrivateTmux();
  });

  afterEach(async function () {
    for (const service of services.splice(0)) await service.dispose();
    server.kill();
  });

  const holder = () => server.tmux('display-message', '-p', `#{${SERVER_LOCK_OPTION}}`).trim();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function makeService(): TmuxService {
    // The lock orders control-mode connects (the crash it avoids needs a control client).
    const service = new TmuxService(server.address, { connection: 'control' });
    services.push(service);
    return service;
  }

  /** A pid that surely belongs to no process: one of a child that has exited and been reaped. */
  function deadPid(): number {
    return spawnSync('true').pid!;
  }

  it('is held by one token at a time, and released only by its holder', async function () {
    server.newSession('main');
    const [first, second] = [newLockToken(), newLockToken()];
    assert.equal(await acquireServerLock(server.address, first, 0), true);
    assert.equal(holder(), first);
    assert.equal(await acquireServerLock(server.address, second, 200), false, 'a live holder keeps it');
    await runTmux(server.address, releaseIfHeldArgs(second));
    assert.equal(holder(), first, 'someone else\'s release leaves it alone');
    await runTmux(server.address, releaseIfHeldArgs(first));
    assert.equal(holder(), '');
    assert.equal(await acquireServerLock(server.address, second, 0), true);
  });

  it('goes to exactly one of ten who try at once', async function () {
    server.newSession('main');
    const tokens = Array.from({ length: 10 }, () => newLockToken());
    const taken = await Promise.all(tokens.map((token) => acquireServerLock(server.address, token, 0)));
    assert.equal(taken.filter(Boolean).length, 1);
    assert.equal(holder(), tokens[taken.indexOf(true)]);
  });

  it('is taken over from a holder whose process is gone, or who has held it for over a minute', async function () {
    server.newSession('main');
    const gone = `${deadPid()}-${Date.now()}-abc`;
    assert.equal(isStale(gone), true);
    server.tmux('set-option', '-g', SERVER_LOCK_OPTION, gone);
    const mine = newLockToken();
    assert.equal(await acquireServerLock(server.address, mine, 0), true);
    assert.equal(holder(), mine);

    const hung = `${process.pid}-${Date.now() - SERVER_LOCK_STALE_MS - 1000}-abc`;
    assert.equal(isStale(hung), true);
    assert.equal(isStale(`${process.pid}-${Date.now()}-abc`), false);
    server.tmux('set-option', '-g', SERVER_LOCK_OPTION, hung);
    assert.equal(await acquireServerLock(server.address, mine, 0), true);
  });

  it('a batch holds it, and another window connects only after the batch', async function () {
    server.newSession('main');
    const restoring = makeService();
    await restoring.start();
    await eventually('the first window connected', () => restoring.state.kind === 'ok');
    await sleep(300);
    const batchStarted = Date.now();
    let batchEnded = 0;
    const batch = restoring.batch(async () => {
      await restoring.runStartingServer(newSessionArgs({ name: 'restored' }));
      await sleep(800);
      const [pid, since] = holder().split('-').map(Number);
      assert.equal(pid, process.pid, 'held while the batch runs');
      assert.ok(since >= batchStarted, 'the lock tells when this hold began, not when the service was made (or it would soon look stale)');
      batchEnded = Date.now();
    });
    await sleep(100);
    const other = makeService();
    await other.start();
    await batch;
    await eventually('the other window connected', () => other.state.kind === 'ok');
    assert.ok(other.getStats().connectedAt! >= batchEnded, `connected ${batchEnded - other.getStats().connectedAt!} ms before the batch ended`);
    assert.equal(holder(), '', 'released after the batch and the connect');
  });

  it('a batch that starts the server takes the lock in the same command, so a watching window waits', async function () {
    const watching = makeService();
    await watching.start();
    await eventually('no server', () => watching.state.kind === 'noServer');
    const restoring = makeService();
    await restoring.start();
    let batchEnded = 0;
    await restoring.batch(async () => {
      // As a restore begins: a look for conflicting names, which starts no server and finds none,
      // at once (no waiting as for a server that is shutting down).
      const asked = Date.now();
      await assert.rejects(restoring.runStartingServer(['list-sessions', '-F', '#{session_name}']), /No tmux server is running/);
      assert.ok(Date.now() - asked < 1000, `"no server" took ${Date.now() - asked} ms`);
      await restoring.runStartingServer(newSessionArgs({ name: 'first' }));
      assert.match(holder(), new RegExp(`^${process.pid}-`), 'the new server starts locked');
      await sleep(800);
      assert.notEqual(watching.state.kind, 'ok', 'the watching window waits for the batch');
      batchEnded = Date.now();
    });
    await eventually('the watching window connected', () => watching.state.kind === 'ok' && watching.tree.sessions.some((s) => s.name === 'first'));
    assert.ok(watching.getStats().connectedAt! >= batchEnded);
    assert.equal(holder(), '');
  });
});
