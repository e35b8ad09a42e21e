import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_BACKOFF, nominalDelay } from '../../src/core/supervision/backoff';
import { ProbeOutcome, ProbeRunner } from '../../src/core/supervision/probes';
import { parseRecord, RecordError } from '../../src/core/supervision/record';
import { Supervisor, SupervisionConfigError } from '../../src/core/supervision/supervisor';
import { ProbeSpec, UnitEvent, UnitSpec } from '../../src/core/supervision/types';
import { FakeClock, FakeDriver, recordEvents, settle } from './helpers/supervision';

/**
 * The supervisor under a fake clock: every decision (order, waits, restarts, breaker, timeouts)
 * replayed exactly, with a driver that runs nothing and probes that answer what the test says.
 */
describe('supervisor (fake clock)', function () {
  let clock: FakeClock;
  let driver: FakeDriver;
  /** Per unit: what its probes answer now. Default: not yet. */
  let answers: Map<string, () => ProbeOutcome>;
  const probes: ProbeRunner = async (_check, context) => answers.get(context.unit)?.() ?? { ok: false, message: 'connection refused' };
  const supervisors: Supervisor<unknown>[] = [];
  const make = <D = unknown>(units: UnitSpec[], random: () => number = () => 0.5): Supervisor<D> => {
    const supervisor = new Supervisor<D>({ units, driver, clock, random, probes });
    supervisors.push(supervisor as unknown as Supervisor<unknown>);
    return supervisor;
  };
  const tcpReady = (overrides: Partial<ProbeSpec> = {}): ProbeSpec => ({ check: { kind: 'tcp', port: 5432 }, intervalMs: 500, ...overrides });
  const phase = <D>(supervisor: Supervisor<D>, name: string) => supervisor.status(name).state.phase;

  beforeEach(function () {
    clock = new FakeClock();
    driver = new FakeDriver(clock);
    answers = new Map();
  });

  afterEach(function () {
    supervisors.splice(0).forEach((supervisor) => supervisor.dispose());
  });

  describe('bringing up and down', function () {
    /**
     * Ten services, four levels deep, with every kind of condition. Each becomes ready at its own
     * (random) time; migrate runs to completion. Checked from the recorded log: no unit was started
     * before each of its conditions held, and units free to go started together.
     */
    const tenServices = (): UnitSpec[] => [
      { name: 'db', ready: tcpReady() },
      { name: 'cache' },
      { name: 'queue', ready: tcpReady() },
      { name: 'migrate', dependsOn: [{ name: 'db', condition: 'ready' }], restart: 'on-failure' },
      { name: 'search', dependsOn: [{ name: 'cache', condition: 'started' }], ready: tcpReady() },
      { name: 'worker', dependsOn: [{ name: 'queue', condition: 'ready' }, { name: 'db', condition: 'ready' }] },
      { name: 'api', dependsOn: [{ name: 'migrate', condition: 'completed' }, { name: 'cache', condition: 'ready' }, { name: 'queue', condition: 'ready' }], ready: tcpReady() },
      { name: 'indexer', dependsOn: [{ name: 'search', condition: 'ready' }, { name: 'worker', condition: 'started' }] },
      { name: 'web', dependsOn: [{ name: 'api', condition: 'ready' }], ready: tcpReady() },
      { name: 'admin', dependsOn: [{ name: 'api', condition: 'ready' }, { name: 'indexer', condition: 'started' }] },
    ];

    it('starts a 10-service graph of depth 4 so that no unit starts before its conditions held', async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 10, maxLength: 10 }), async (readyAfter) => {
          clock = new FakeClock();
          driver = new FakeDriver(clock);
          answers = new Map();
          const units = tenServices();
          const supervisor = make(units);
          const log: { what: string; unit: string; at: number }[] = [];
          const startedAt = new Map<string, number>();
          driver.onStart = (call) => {
            log.push({ what: 'start', unit: call.unit, at: call.at });
            startedAt.set(call.unit, call.at);
            const delay = readyAfter[units.findIndex((unit) => unit.name === call.unit)];
            answers.set(call.unit, () => ({ ok: clock.now() - call.at >= delay, message: 'probe' }));
            if (call.unit === 'migrate') clock.setTimeout(() => driver.exitUnit('migrate', 0), delay);
          };
          supervisor.onDidChangeState((event) => {
            if (event.state.phase === 'running') log.push({ what: 'ready', unit: event.unit, at: event.at });
            if (event.state.phase === 'completed') log.push({ what: 'completed', unit: event.unit, at: event.at });
          });
          const up = supervisor.up();
          await clock.advance(60_000);
          await up;
          const index = (what: string, unit: string) => log.findIndex((entry) => entry.what === what && entry.unit === unit);
          for (const unit of units) {
            const start = index('start', unit.name);
            assert.ok(start >= 0, `${unit.name} started (${JSON.stringify(supervisor.status(unit.name).state)})`);
            for (const dependency of unit.dependsOn ?? []) {
              const held = index(dependency.condition === 'started' ? 'start' : dependency.condition, dependency.name);
              assert.ok(held >= 0 && held < start, `${unit.name} started after ${dependency.name} was ${dependency.condition}`);
              assert.ok(log[held].at <= log[start].at);
            }
          }
          // Units free to go started at once, together.
          assert.deepEqual(['db', 'cache', 'queue'].map((name) => startedAt.get(name)), [startedAt.get('db'), startedAt.get('db'), startedAt.get('db')]);
          assert.equal(driver.starts.length, 10, 'each started once');
          supervisor.dispose();
        }),
        { numRuns: 25 },
      );
    });

    it('stops in reverse dependency order: a unit only after everything that depends on it has exited', async function () {
      const units = tenServices().map((unit) => ({ ...unit, ready: undefined }));
      const supervisor = make(units);
      driver.onStart = (call) => {
        if (call.unit === 'migrate') clock.setTimeout(() => driver.exitUnit('migrate', 0), 10);
      };
      const up = supervisor.up();
      await clock.advance(100);
      await up;
      // Everyone but migrate (completed) runs; some are slow to stop.
      driver.stubborn.add('api');
      driver.stubborn.add('db');
      const log: string[] = [];
      const stopsBefore = driver.stops.length;
      supervisor.onDidChangeState((event) => event.state.phase === 'stopped' && log.push(`exit ${event.unit}`));
      const down = supervisor.down();
      await clock.advance(30_000);
      await down;
      const stopCalls = driver.stops.slice(stopsBefore).filter((call) => call.how.kind !== 'kill');
      for (const unit of units) {
        const stoppedAt = stopCalls.find((call) => call.unit === unit.name);
        if (unit.name === 'migrate') {
          assert.equal(stoppedAt, undefined, 'a completed unit is not stopped again');
          continue;
        }
        for (const dependent of units.filter((other) => other.dependsOn?.some((dependency) => dependency.name === unit.name) && other.name !== 'migrate')) {
          const dependentExit = driver.exits.find((exit) => exit.unit === dependent.name && exit.at >= stopCalls[0].at);
          assert.ok(dependentExit && stoppedAt && dependentExit.at <= stoppedAt.at, `${unit.name} asked to stop after ${dependent.name} exited`);
        }
      }
      assert.deepEqual(
        driver.stops.filter((call) => call.how.kind === 'kill').map((call) => call.unit),
        ['api', 'db'],
        'the stubborn ones were killed after the stop timeout',
      );
      for (const unit of units) assert.equal(phase(supervisor, unit.name), unit.name === 'migrate' ? 'completed' : 'stopped');
      assert.equal(clock.pending, 0, 'no timer left');
    });

    it('fails a dependent that waited too long, naming the dependency and its last probe', async function () {
      const supervisor = make([
        { name: 'db', ready: tcpReady() },
        { name: 'api', dependsOn: [{ name: 'db', condition: 'ready' }], dependencyTimeoutMs: 30_000 },
      ]);
      const up = supervisor.up();
      await clock.advance(1);
      assert.deepEqual(supervisor.status('api').state, { phase: 'waiting', dependency: 'db', condition: 'ready' });
      await clock.advance(30_000);
      await up;
      const state = supervisor.status('api').state;
      assert.equal(state.phase, 'failed');
      assert.equal(
        state.phase === 'failed' && state.message,
        '"api" waited 30 s for "db" to be ready; it never was (it is starting; last probe: connection refused).',
      );
      assert.equal(driver.startsOf('api').length, 0);
    });

    it('fails a dependent at once when its dependency can no longer meet the condition', async function () {
      const supervisor = make([
        { name: 'db', ready: tcpReady(), restart: 'never' },
        { name: 'api', dependsOn: [{ name: 'db', condition: 'ready' }] },
      ]);
      const up = supervisor.up();
      await clock.advance(1);
      driver.exitUnit('db', 2);
      await up;
      const state = supervisor.status('api').state;
      assert.equal(state.phase === 'failed' && state.message, '"db" failed (exited 2), so "api" cannot start (it needs "db" to be ready).');
    });

    it('refuses a configuration with a cycle, naming it, and unknown names with what exists', function () {
      assert.throws(
        () => make([{ name: 'a', dependsOn: [{ name: 'b', condition: 'started' }] }, { name: 'b', dependsOn: [{ name: 'a', condition: 'ready' }] }]),
        (error: Error) => error instanceof SupervisionConfigError && /Dependency cycle: "a" → "b" → "a"/.test(error.message),
      );
      const supervisor = make([{ name: 'a' }]);
      assert.throws(() => supervisor.status('b'), /No unit is named "b"; known units: "a"/);
      assert.throws(() => make([{ name: 'x', ready: { check: { kind: 'output', pattern: '(' } } }]), /Unit "x": ready probe: output probe pattern \/\(\/ is not a valid regular expression/);
      assert.throws(() => make([{ name: 'x', backoff: { jitter: 1.5 } }]), /Unit "x": backoff jitter must be a fraction/);
    });

    it('adds no timer for a running unit without probes or timeouts', async function () {
      const supervisor = make([{ name: 'a' }, { name: 'b', dependsOn: [{ name: 'a', condition: 'started' }] }]);
      await supervisor.up();
      await settle();
      assert.equal(phase(supervisor, 'b'), 'running');
      assert.equal(clock.pending, 0);
    });
  });

  describe('restarts', function () {
    it('restarts a failed unit in the same turn as its exit when the backoff is 0, without any timer', async function () {
      const supervisor = make([{ name: 'api', backoff: { initialDelayMs: 0, jitter: 0 } }]);
      await supervisor.up();
      driver.exitUnit('api', 1);
      // Synchronously: the restart call was made inside the exit notification.
      assert.equal(driver.startsOf('api').length, 2);
      assert.deepEqual(driver.startsOf('api').map((call) => call.mode), ['start', 'restart']);
      assert.equal(clock.pending, 0);
    });

    it('waits the backoff (within ±jitter) between restarts, growing, and starts over after a stable run', async function () {
      const backoff = { initialDelayMs: 1000, maxDelayMs: 16_000, multiplier: 2, jitter: 0.25, resetAfterMs: 20_000 };
      let draw = 0;
      const randoms = [0, 0.999, 0.5, 0.1, 0.9, 0.3, 0.7];
      const supervisor = make([{ name: 'api', backoff, breaker: { failureThreshold: 100 } }], () => randoms[draw++ % randoms.length]);
      await supervisor.up();
      const waits: number[] = [];
      for (let i = 0; i < 6; i++) {
        const exitAt = clock.now();
        driver.exitUnit('api', 1);
        const state = supervisor.status('api').state;
        assert.equal(state.phase, 'restarting');
        await clock.advance(20_000 - 1);
        const restart = driver.startsOf('api').pop()!;
        waits.push(restart.at - exitAt);
      }
      waits.forEach((wait, attempt) => {
        const nominal = nominalDelay(backoff, attempt);
        assert.ok(wait >= nominal * 0.75 && wait <= nominal * 1.25, `wait ${attempt}: ${wait} ms, formula ${nominal} ±25%`);
      });
      const formula = (attempt: number, random: number) => Math.round(nominalDelay(backoff, attempt) * (0.75 + 0.5 * random));
      assert.deepEqual(waits, [0, 1, 2, 3, 4, 5].map((attempt) => formula(attempt, randoms[attempt])));
      // A run of 20 s or more is stable: the next failure waits the initial delay again.
      await clock.advance(20_000);
      const exitAt = clock.now();
      driver.exitUnit('api', 1);
      await clock.advance(5000);
      assert.equal(driver.startsOf('api').pop()!.at - exitAt, formula(0, randoms[(draw - 1) % randoms.length]));
    });

    it('follows the restart policy: never, on-failure, always', async function () {
      const supervisor = make([
        { name: 'once', restart: 'never' },
        { name: 'job', restart: 'on-failure', backoff: { initialDelayMs: 0 } },
        { name: 'loop', restart: 'always', backoff: { initialDelayMs: 0 } },
      ]);
      await supervisor.up();
      driver.exitUnit('once', 3);
      driver.exitUnit('job', 0);
      driver.exitUnit('loop', 0);
      await settle();
      assert.deepEqual(supervisor.status('once').state, { phase: 'failed', reason: 'exited', message: 'exited 3', exit: { code: 3, signal: null } });
      assert.deepEqual(supervisor.status('job').state, { phase: 'completed', exit: { code: 0, signal: null } });
      assert.equal(phase(supervisor, 'loop'), 'running');
      assert.equal(driver.startsOf('loop').length, 2);
    });

    it('turns a start error into a failure like any other, with the driver’s reason', async function () {
      driver.failStart.set('api', 'tmux: no session "dev"');
      const supervisor = make([{ name: 'api', restart: 'never' }]);
      await supervisor.up();
      const state = supervisor.status('api').state;
      assert.equal(state.phase === 'failed' && state.message, 'could not start: tmux: no session "dev"');
    });

    it('handles an exit the driver reports before start() returned', async function () {
      const supervisor = make([{ name: 'api', restart: 'never' }]);
      driver.onStart = (call) => driver.exit(call.handle, { code: 127, signal: null });
      await supervisor.up();
      await settle();
      const state = supervisor.status('api').state;
      assert.equal(state.phase === 'failed' && state.message, 'exited 127 (command not found)');
    });
  });

  describe('circuit breaker', function () {
    const spec: UnitSpec = { name: 'api', backoff: { initialDelayMs: 1000, multiplier: 1, jitter: 0, maxDelayMs: 1000 }, breaker: { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000, maxCooldownMs: 100_000 } };

    async function failFiveTimes(supervisor: Supervisor<unknown>): Promise<void> {
      for (let i = 0; i < 5; i++) {
        driver.exitUnit('api', 1);
        await clock.advance(i < 4 ? 1000 : 0);
      }
    }

    it('opens on the 5th failure in the window: no restart while open, then exactly one trial', async function () {
      const supervisor = make([spec]);
      await supervisor.up();
      await failFiveTimes(supervisor);
      const state = supervisor.status('api').state;
      assert.deepEqual(state, { phase: 'failed', reason: 'breakerOpen', message: 'exited 1', trialAt: clock.now() + 30_000, exit: { code: 1, signal: null } });
      const startsWhenOpened = driver.starts.length;
      await clock.advance(29_999);
      assert.equal(driver.starts.length, startsWhenOpened, '0 restarts while open');
      await clock.advance(1);
      assert.equal(driver.starts.length, startsWhenOpened + 1, 'one trial');
      assert.equal(supervisor.status('api').breaker.status, 'halfOpen');
      // The trial fails: open again, cooldown doubled; then 60 s of silence again.
      driver.exitUnit('api', 1);
      assert.equal(supervisor.status('api').breaker.status, 'open');
      await clock.advance(59_999);
      assert.equal(driver.starts.length, startsWhenOpened + 1);
      await clock.advance(1);
      assert.equal(driver.starts.length, startsWhenOpened + 2);
      driver.exitUnit('api', 1);
      // Doubled again, but capped at 100 s.
      const reopened = supervisor.status('api').breaker;
      assert.equal(reopened.status === 'open' && reopened.cooldownMs, 100_000);
    });

    it('does not open on 4 failures, a wait longer than the window, and one more', async function () {
      const supervisor = make([spec]);
      await supervisor.up();
      for (let i = 0; i < 4; i++) {
        driver.exitUnit('api', 1);
        await clock.advance(1000);
      }
      await clock.advance(60_000);
      driver.exitUnit('api', 1);
      assert.equal(phase(supervisor, 'api'), 'restarting');
      assert.equal(supervisor.status('api').breaker.status, 'closed');
    });

    it('closes and forgets after a successful trial (ready, or a stable run without a readiness probe)', async function () {
      const supervisor = make([{ ...spec, backoff: { ...spec.backoff, resetAfterMs: 10_000 } }]);
      await supervisor.up();
      await failFiveTimes(supervisor);
      await clock.advance(30_000);
      assert.equal(supervisor.status('api').breaker.status, 'halfOpen');
      await clock.advance(10_000);
      assert.deepEqual(supervisor.status('api').breaker, { status: 'closed', failures: [] });
      // Closed and reset: four failures do not open it again.
      for (let i = 0; i < 4; i++) {
        driver.exitUnit('api', 1);
        await clock.advance(1000);
      }
      assert.equal(supervisor.status('api').breaker.status, 'closed');
    });

    it('lets a manual restart through while open, and starts afresh', async function () {
      const supervisor = make([spec]);
      await supervisor.up();
      await failFiveTimes(supervisor);
      const before = driver.starts.length;
      await supervisor.restart('api');
      await settle();
      assert.equal(driver.starts.length, before + 1);
      assert.equal(driver.starts[driver.starts.length - 1].mode, 'restart');
      assert.equal(phase(supervisor, 'api'), 'running');
      assert.deepEqual(supervisor.status('api').breaker, { status: 'closed', failures: [] });
      // A manual restart of a running unit stops it first, then starts it, breaker or not.
      await supervisor.restart('api');
      await settle();
      assert.equal(driver.starts.length, before + 2);
      assert.equal(phase(supervisor, 'api'), 'running');
    });
  });

  describe('probes', function () {
    it('is starting until its readiness probe passes, then running', async function () {
      const supervisor = make([{ name: 'db', ready: tcpReady({ initialDelayMs: 2000, intervalMs: 1000 }) }]);
      let attempts = 0;
      answers.set('db', () => ({ ok: ++attempts >= 3, message: attempts >= 3 ? 'accepted' : 'connection refused' }));
      await supervisor.up();
      await clock.advance(3999);
      assert.equal(phase(supervisor, 'db'), 'starting');
      assert.equal(attempts, 2, 'first attempt after the initial delay, then one a second');
      await clock.advance(1);
      assert.equal(phase(supervisor, 'db'), 'running');
      await clock.advance(10_000);
      assert.equal(attempts, 3, 'a passed readiness probe runs no more');
      assert.equal(clock.pending, 0);
    });

    it('fails a probe attempt that does not answer within its timeout', async function () {
      const supervisor = make([{ name: 'db', ready: tcpReady({ timeoutMs: 700 }) }]);
      const never: ProbeRunner = () => new Promise(() => undefined);
      (supervisor as unknown as { probes: ProbeRunner }).probes = never;
      await supervisor.up();
      await clock.advance(700);
      assert.equal(supervisor.status('db').lastProbe?.message, 'tcp 127.0.0.1:5432: no answer within 700 ms');
    });

    it('marks a unit unhealthy after failureThreshold health failures in a row (not counting the start period), and restarts it', async function () {
      const supervisor = make([
        {
          name: 'api',
          health: { check: { kind: 'http', url: 'http://127.0.0.1:1/health' }, intervalMs: 1000, failureThreshold: 3, startPeriodMs: 5000 },
          backoff: { initialDelayMs: 0 },
          stop: { method: { kind: 'signal', signal: 'SIGINT' }, timeoutMs: 2000 },
        },
      ]);
      const events = recordEvents(supervisor);
      let healthy = false;
      answers.set('api', () => ({ ok: healthy, message: healthy ? 'HTTP 200' : 'HTTP 503 from http://127.0.0.1:1/health' }));
      await supervisor.up();
      await clock.advance(5000);
      assert.equal(phase(supervisor, 'api'), 'running', 'failures in the start period do not count');
      await clock.advance(1000);
      healthy = true;
      await clock.advance(1000);
      healthy = false;
      await clock.advance(1000);
      assert.equal(phase(supervisor, 'api'), 'running', 'a success resets the count');
      await clock.advance(2000);
      const unhealthy = events.find((event) => event.state.phase === 'unhealthy');
      assert.deepEqual(unhealthy?.state, { phase: 'unhealthy', failures: 3, lastProbe: 'HTTP 503 from http://127.0.0.1:1/health' });
      assert.deepEqual(driver.stops.map((call) => call.how), [{ kind: 'signal', signal: 'SIGINT' }]);
      assert.equal(driver.startsOf('api').length, 2);
      const restarting = events.find((event) => event.state.phase === 'restarting');
      assert.equal(restarting?.state.phase === 'restarting' && restarting.state.reason, 'unhealthy: HTTP 503 from http://127.0.0.1:1/health');
    });
  });

  describe('stopping', function () {
    it('sends the stop method, and SIGKILL only when the unit outlives the stop timeout', async function () {
      const supervisor = make([
        { name: 'quick', stop: { method: { kind: 'keys', keys: ['C-c'] }, timeoutMs: 3000 } },
        { name: 'slow', stop: { method: { kind: 'command', command: 'docker compose stop' }, timeoutMs: 3000 } },
      ]);
      await supervisor.up();
      driver.stubborn.add('slow');
      const down = supervisor.down();
      await clock.advance(2999);
      assert.deepEqual(driver.stops.map((call) => `${call.unit}:${call.how.kind}`).sort(), ['quick:keys', 'slow:command']);
      await clock.advance(1);
      await down;
      assert.deepEqual(driver.stops.map((call) => [call.unit, call.how.kind]).pop(), ['slow', 'kill']);
      assert.equal(phase(supervisor, 'slow'), 'stopped');
      assert.equal(clock.pending, 0);
    });

    it('cancels a pending restart on down, without starting anything', async function () {
      const supervisor = make([{ name: 'api', backoff: { initialDelayMs: 5000 } }]);
      await supervisor.up();
      driver.exitUnit('api', 1);
      await supervisor.down();
      await clock.advance(60_000);
      assert.equal(driver.startsOf('api').length, 1);
      assert.equal(phase(supervisor, 'api'), 'stopped');
      assert.equal(clock.pending, 0);
    });
  });

  describe('agents: timeouts, progress, resume', function () {
    type Activity = { readonly activity: 'working' | 'waitingForInput' | 'idle'; readonly reason?: string };

    it('times out on the wall clock across restarts, stops the unit and ends timedOut', async function () {
      const supervisor = make([{ name: 'agent', wallClockTimeoutMs: 60_000, backoff: { initialDelayMs: 1000, jitter: 0 } }]);
      await supervisor.up();
      await clock.advance(30_000);
      driver.exitUnit('agent', 1);
      await clock.advance(29_999);
      assert.equal(phase(supervisor, 'agent'), 'running');
      await clock.advance(1);
      assert.deepEqual(driver.stops.map((call) => call.how.kind), ['signal']);
      assert.deepEqual(supervisor.status('agent').state, { phase: 'timedOut', afterMs: 60_000 });
      assert.equal(driver.startsOf('agent').length, 2, 'no restart after the timeout');
      assert.equal(clock.pending, 0);
    });

    it('shows stalled after a quiet spell, back to running on progress; no progress for longer is a failure retried through resume', async function () {
      const supervisor = make<Activity>([
        { name: 'agent', stalledAfterMs: 60_000, noProgressTimeoutMs: 300_000, restartMode: 'resume', maxRestarts: 2, backoff: { initialDelayMs: 2000, jitter: 0, multiplier: 2 } },
      ]);
      const events = recordEvents(supervisor);
      await supervisor.up();
      for (let i = 0; i < 10; i++) {
        await clock.advance(30_000);
        supervisor.reportProgress('agent', { activity: 'working' });
      }
      assert.equal(phase(supervisor, 'agent'), 'running', 'reported progress keeps it from stalling');
      await clock.advance(60_000);
      assert.deepEqual(supervisor.status('agent').state, { phase: 'stalled', since: clock.now() - 60_000 });
      supervisor.reportProgress('agent', { activity: 'working' });
      assert.equal(phase(supervisor, 'agent'), 'running');
      supervisor.setDetail('agent', { activity: 'waitingForInput', reason: 'approve `rm -rf build`?' });
      assert.deepEqual(events[events.length - 1].detail, { activity: 'waitingForInput', reason: 'approve `rm -rf build`?' });
      const silentFrom = clock.now();
      await clock.advance(300_000);
      // Stopped for no progress, then resumed after the backoff.
      assert.deepEqual(driver.stops.map((call) => call.how.kind), ['signal']);
      const recovering = events.find((event) => event.state.phase === 'restarting')!.state;
      assert.deepEqual(recovering, { phase: 'restarting', at: silentFrom + 300_000 + 2000, mode: 'resume', attempt: 1, reason: 'no progress for 300 s' });
      await clock.advance(2000);
      assert.deepEqual(driver.startsOf('agent').map((call) => call.mode), ['start', 'resume']);
      // Two more silent runs: the second restart in a row is the last allowed.
      await clock.advance(300_000 + 4000);
      assert.deepEqual(driver.startsOf('agent').map((call) => call.mode), ['start', 'resume', 'resume']);
      await clock.advance(300_000);
      const state = supervisor.status('agent').state;
      assert.equal(state.phase === 'failed' && state.reason, 'retriesExhausted');
      assert.equal(state.phase === 'failed' && state.message, 'no progress for 300 s; gave up after 2 restarts in a row');
      assert.equal(clock.pending, 0);
    });

    it('holds progress while the unit waits for a person: no stalled, no no-progress stop, no timer; released, the limits start over', async function () {
      const supervisor = make([{ name: 'agent', stalledAfterMs: 60_000, noProgressTimeoutMs: 120_000, backoff: { initialDelayMs: 1000, jitter: 0 } }]);
      await supervisor.up();
      await clock.advance(59_000);
      supervisor.holdProgress('agent', true);
      assert.equal(clock.pending, 0, 'no timer while held');
      await clock.advance(3_600_000);
      assert.equal(phase(supervisor, 'agent'), 'running');
      assert.deepEqual(driver.stops, []);
      supervisor.holdProgress('agent', false);
      await clock.advance(59_999);
      assert.equal(phase(supervisor, 'agent'), 'running', 'the limits count from the release');
      await clock.advance(1);
      assert.equal(phase(supervisor, 'agent'), 'stalled');
      supervisor.holdProgress('agent', true);
      assert.equal(phase(supervisor, 'agent'), 'running', 'a stalled unit that waits for a person is not stalled');
      assert.equal(clock.pending, 0);
    });

    it('fires each transition exactly once, and nothing when the state does not change', async function () {
      const supervisor = make([{ name: 'a', backoff: { initialDelayMs: 100, jitter: 0 } }]);
      const events = recordEvents(supervisor);
      await supervisor.up();
      const handle = driver.handleOf('a');
      driver.exitUnit('a', 1);
      // A driver that reports the same exit twice changes nothing the second time.
      driver.repeatExit(handle, { code: 1, signal: null });
      await clock.advance(100);
      await supervisor.up();
      assert.deepEqual(
        events.map((event: UnitEvent) => `${event.previous.phase}→${event.state.phase}`),
        ['stopped→starting', 'starting→running', 'running→restarting', 'restarting→starting', 'starting→running'],
      );
    });
  });

  describe('surviving a reload', function () {
    it('adopts units still running without starting them, keeps the breaker, and restarts one that died meanwhile', async function () {
      const units: UnitSpec[] = [
        { name: 'db', ready: tcpReady() },
        { name: 'api', dependsOn: [{ name: 'db', condition: 'ready' }], backoff: { initialDelayMs: 0 } },
        { name: 'flaky', breaker: { failureThreshold: 2, cooldownMs: 30_000 }, backoff: { initialDelayMs: 0 } },
      ];
      answers.set('db', () => ({ ok: true, message: 'accepted' }));
      const first = make(units);
      await first.up();
      await clock.advance(1);
      driver.exitUnit('flaky', 1);
      await settle();
      driver.exitUnit('flaky', 1);
      assert.equal(phase(first, 'flaky'), 'failed');
      const saved = JSON.parse(JSON.stringify(first.record()));
      first.dispose();
      const startsBefore = driver.starts.length;

      // The window reloads; meanwhile api died.
      await clock.advance(10_000);
      const apiHandle = driver.handleOf('api');
      driver.running.delete(apiHandle);
      const inspect = driver.inspect.bind(driver);
      driver.inspect = async (handle) => (handle === apiHandle ? { running: false, exit: { code: 1, signal: null } } : inspect(handle));

      const second = make(units);
      await second.restore(saved);
      await second.up();
      await settle();
      assert.equal(phase(second, 'db'), 'running');
      assert.equal(driver.startsOf('db').length, 1, 'the running db was adopted, not started again');
      assert.deepEqual(driver.starts.slice(startsBefore).map((call) => `${call.unit}:${call.mode}`), ['api:restart'], 'only the dead one restarted');
      const flaky = second.status('flaky').state;
      assert.equal(flaky.phase === 'failed' && flaky.reason, 'breakerOpen');
      const trialAt = flaky.phase === 'failed' ? flaky.trialAt! : 0;
      assert.equal(trialAt, saved.units.flaky.breaker.trialAt);
      const flakyStarts = driver.startsOf('flaky').length;
      await clock.advance(trialAt - clock.now() - 1);
      assert.equal(driver.startsOf('flaky').length, flakyStarts);
      await clock.advance(1);
      assert.equal(driver.startsOf('flaky').length, flakyStarts + 1, 'the trial at the time the first supervisor set');
    });

    it('refuses a record it cannot trust, saying what to do', function () {
      assert.throws(() => parseRecord({ version: 2, savedAt: 0, units: {} }), (error: Error) => error instanceof RecordError && /written by a newer version \(2; this one reads 1\); update the extension, or discard it/.test(error.message));
      assert.throws(() => parseRecord('{'), /not an object/);
      assert.throws(() => parseRecord({ version: 1, savedAt: 0, units: { api: { state: { phase: 'dancing' } } } }), /entry for "api" has no known state/);
      const good = { version: 1, savedAt: 5, units: { api: { state: { phase: 'running' }, attempt: 0, restarts: 0, ready: true, breaker: { status: 'closed', failures: [] } } } };
      assert.deepEqual(parseRecord(good), good);
    });
  });

  it('uses the documented defaults', function () {
    assert.deepEqual(DEFAULT_BACKOFF, { initialDelayMs: 1000, maxDelayMs: 30_000, multiplier: 2, jitter: 0.1, resetAfterMs: 10_000 });
  });
});
