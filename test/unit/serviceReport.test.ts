import * as assert from 'node:assert/strict';
import { ServiceStatus } from '../../src/core/profiles/runtime';
import { clockTime, serviceProblem } from '../../src/core/profiles/serviceReport';
import { CLOSED } from '../../src/core/supervision/breaker';

const at = (hms: string) => new Date(`2026-03-01T${hms}`).getTime();

function status(partial: Partial<ServiceStatus>): ServiceStatus {
  return { name: 'api', state: { phase: 'running' }, detail: undefined, handle: undefined, lastProbe: undefined, restarts: 0, breaker: CLOSED, paneId: '%3', lastExit: undefined, ...partial };
}

describe('health report: the services that need a person', function () {
  it('a service whose breaker is open: its trial time, last exit, last probe with its time, the breaker and the restarts', function () {
    const problem = serviceProblem(
      status({
        state: { phase: 'failed', reason: 'breakerOpen', message: 'breaker open', trialAt: at('14:03:07') },
        lastExit: { code: 1, signal: null },
        lastProbe: { ok: false, message: 'connection refused (127.0.0.1:3000)', at: at('14:02:31') },
        breaker: { status: 'open', openedAt: at('14:02:37'), cooldownMs: 30_000, trialAt: at('14:03:07') },
        restarts: 5,
      }),
    );
    assert.deepEqual(problem, {
      name: 'api',
      summary: 'failing (breaker open, trial at 14:03:07)',
      details: ['last exit: exited 1', 'last probe: failed — connection refused (127.0.0.1:3000) (14:02:31)', 'breaker open since 14:02:37, trial at 14:03:07', 'restarts: 5'],
    });
  });

  it('names a service that exited for good, an unhealthy one and one that timed out; a killed one by its signal', function () {
    assert.equal(serviceProblem(status({ state: { phase: 'failed', reason: 'exited', message: 'exited 3' }, lastExit: { code: 3, signal: null } }))?.summary, 'failed: exited 3');
    assert.equal(serviceProblem(status({ state: { phase: 'unhealthy', failures: 3, lastProbe: 'HTTP 503' } }))?.summary, 'unhealthy: HTTP 503');
    assert.equal(serviceProblem(status({ state: { phase: 'timedOut', afterMs: 60_000 } }))?.summary, 'timed out after 60 s');
    assert.deepEqual(serviceProblem(status({ state: { phase: 'failed', reason: 'exited', message: 'killed' }, lastExit: { code: null, signal: 'SIGKILL' } }))?.details, ['last exit: killed by SIGKILL', 'restarts: 0']);
  });

  it('lists nobody who is ready, starting, waiting or restarting after one crash', function () {
    for (const state of [{ phase: 'running' }, { phase: 'starting', mode: 'start' }, { phase: 'waiting', dependency: 'db', condition: 'ready' }, { phase: 'restarting', at: 0, mode: 'restart', attempt: 1, reason: 'exited 1' }, { phase: 'stopped' }] as const) {
      assert.equal(serviceProblem(status({ state })), undefined, state.phase);
    }
    assert.equal(clockTime(at('09:05:01')), '09:05:01');
  });
});
