import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { AGENTS_LEASE, holderGone, newLeaseToken, releaseLease, sessionLease, takeLease } from '../../src/core/supervision/lease';
import { runTmux } from '../../src/tmux/exec';
import { PrivateTmux } from './helpers/tmux';

/** The supervision lease that keeps two windows from both restarting the same services and agents. */
describe('supervision lease', function () {
  let server: PrivateTmux;
  const run = async (argv: readonly string[]) => (await runTmux(server.address, argv)).stdout.split('\n').filter((line) => line !== '');

  beforeEach(function () {
    server = new PrivateTmux();
    server.newSession('one');
  });
  afterEach(function () {
    server.kill();
  });

  /** A token of a process that has ended. */
  function goneToken(): string {
    const pid = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    return `${pid}-${Date.now()}-gone`;
  }

  for (const [name, scope] of [
    ['a session', () => sessionLease(server.tmux('display-message', '-p', '-t', 'one', '#{session_id}').trim())],
    ['the agents of a server (global)', () => AGENTS_LEASE],
  ] as const) {
    it(`over ${name}: the first taker holds it, a second live one is refused and told who holds it, and takes it once it is freed`, async function () {
      const first = newLeaseToken();
      const second = newLeaseToken();
      assert.deepEqual(await takeLease(run, scope(), first), { held: true, holder: first });
      assert.deepEqual(await takeLease(run, scope(), first), { held: true, holder: first }, 'taking it again keeps it');
      assert.deepEqual(await takeLease(run, scope(), second), { held: false, holder: first });
      await releaseLease(run, scope(), second);
      assert.deepEqual(await takeLease(run, scope(), second), { held: false, holder: first }, 'a non-holder cannot free it');
      await releaseLease(run, scope(), first);
      assert.deepEqual(await takeLease(run, scope(), second), { held: true, holder: second });
    });

    it(`over ${name}: a holder whose process is gone holds nothing; of two takers at once exactly one wins`, async function () {
      const gone = goneToken();
      assert.ok(holderGone(gone));
      const s = scope();
      await run(s.session ? ['set-option', '-t', s.session, s.option, gone] : ['set-option', '-g', s.option, gone]);
      const takers = Array.from({ length: 8 }, () => newLeaseToken());
      const answers = await Promise.all(takers.map((token) => takeLease(run, s, token)));
      assert.equal(answers.filter((answer) => answer.held).length, 1, 'one holder');
      const winner = answers.find((answer) => answer.held)!.holder;
      assert.ok(answers.every((answer) => answer.holder === winner), 'the others are told who won');
    });
  }

  it('reads a token it cannot parse as gone (a corrupt value never blocks supervision)', function () {
    assert.equal(holderGone('garbage'), true);
    assert.equal(holderGone(newLeaseToken()), false);
  });
});
