import * as assert from 'node:assert/strict';
import { NoServerError, TargetNotFoundError } from '../../src/tmux/errors';
import { OneShotQueue } from '../../src/tmux/oneShot';
import { PrivateTmux } from './helpers/tmux';

/** Commands without a control client: in order, a burst in few processes, each with its own answer. */
describe('one-shot commands', function () {
  let server: PrivateTmux;

  beforeEach(function () {
    server = new PrivateTmux();
    server.newSession('s');
  });

  afterEach(function () {
    server.kill();
  });

  it('answers each command of a burst with its own output, in order, in a few processes', async function () {
    const queue = new OneShotQueue(server.address);
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => queue.run(['display-message', '-p', `line ${i}`])));
    assert.deepEqual(answers, Array.from({ length: 300 }, (_, i) => [`line ${i}`]));
    assert.ok(queue.processes <= 10, `${queue.processes} processes for 300 commands`);
  });

  it('splits a burst of long commands so no tmux process gets a command line over its limit', async function () {
    const queue = new OneShotQueue(server.address);
    // 64 commands of 1 KB would be one 64 KB command line, which tmux refuses ("command too long").
    const text = (i: number) => `${i}:${'x'.repeat(1000)}`;
    const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => queue.run(['display-message', '-p', text(i)])));
    assert.deepEqual(answers, Array.from({ length: 64 }, (_, i) => [text(i)]));
    assert.ok(queue.processes >= 6 && queue.processes <= 12, `${queue.processes} processes`);
  });

  it('keeps the order of commands that change the server', async function () {
    const queue = new OneShotQueue(server.address);
    await Promise.all(Array.from({ length: 50 }, (_, i) => queue.run(['set-option', '-g', '@order', String(i)])));
    assert.equal(server.tmux('show-options', '-gv', '@order').trim(), '49');
  });

  it('a failing command in a burst fails alone; the commands after it still run', async function () {
    const queue = new OneShotQueue(server.address);
    const results = await Promise.allSettled([
      queue.run(['display-message', '-p', 'before']),
      queue.run(['display-message', '-p', 'first']),
      queue.run(['kill-pane', '-t', '%9999']),
      queue.run(['display-message', '-p', 'after']),
      queue.run(['set-option', '-g', '@after', 'yes']),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const failure = (results[2] as PromiseRejectedResult).reason;
    assert.ok(failure instanceof TargetNotFoundError, String(failure));
    assert.deepEqual(failure.argv, ['kill-pane', '-t', '%9999']);
    assert.deepEqual((results[3] as PromiseFulfilledResult<string[]>).value, ['after']);
    assert.equal(server.tmux('show-options', '-gv', '@after').trim(), 'yes');
  });

  it('with no server, every command of the burst says so', async function () {
    const queue = new OneShotQueue(server.address);
    server.tmux('kill-server');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => queue.run(['list-sessions'])));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof NoServerError), JSON.stringify(results.map((r) => r.status)));
  });
});
