import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { attemptAfterRun, BackoffPolicy, backoffProblem, jitteredDelay, nominalDelay } from '../../src/core/supervision/backoff';
import { beginTrial, BreakerPolicy, BreakerState, CLOSED, DEFAULT_BREAKER, recordFailure, recordSuccess } from '../../src/core/supervision/breaker';
import { checkGraph, DependencyGraphError, GraphNode, startOrder, stopOrder, withDependencies, withDependents } from '../../src/core/supervision/graph';

/** The pure parts of supervision: the backoff formula, the breaker, the dependency graph. */
describe('supervision policies', function () {
  describe('backoff', function () {
    const policy: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 8000, multiplier: 2, jitter: 0.2, resetAfterMs: 10_000 };

    it('grows by the multiplier from the initial delay up to the maximum', function () {
      assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((attempt) => nominalDelay(policy, attempt)), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
      assert.equal(nominalDelay(policy, 10_000), 8000, 'a huge attempt count reaches the cap, not Infinity');
    });

    it('moves each wait by at most ±jitter of it: 0 gives the low end, just under 1 the high end', function () {
      assert.equal(jitteredDelay(policy, 1, () => 0), 800);
      assert.equal(jitteredDelay(policy, 1, () => 0.999999), 1200);
      assert.equal(jitteredDelay({ ...policy, jitter: 0 }, 2, Math.random), 2000);
    });

    it('property: every jittered wait lies within the formula ±jitter', function () {
      fc.assert(
        fc.property(
          fc.record({
            initialDelayMs: fc.integer({ min: 0, max: 60_000 }),
            extra: fc.integer({ min: 0, max: 600_000 }),
            multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
            jitter: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          fc.integer({ min: 0, max: 60 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          ({ initialDelayMs, extra, multiplier, jitter }, attempt, random) => {
            const p: BackoffPolicy = { initialDelayMs, maxDelayMs: initialDelayMs + extra, multiplier, jitter, resetAfterMs: 0 };
            const nominal = Math.min(initialDelayMs * multiplier ** attempt, p.maxDelayMs);
            const delay = jitteredDelay(p, attempt, () => random);
            // Rounding to whole milliseconds may move it by half a millisecond.
            assert.ok(delay >= nominal * (1 - jitter) - 0.5 && delay <= nominal * (1 + jitter) + 0.5, `${delay} outside ${nominal} ±${jitter}`);
          },
        ),
      );
    });

    it('starts over after a run at least as long as the stable time, and only then', function () {
      assert.equal(attemptAfterRun(policy, 4, 9_999), 4);
      assert.equal(attemptAfterRun(policy, 4, 10_000), 0);
    });

    it('refuses policies that make no sense, saying what to write', function () {
      assert.match(backoffProblem({ ...policy, multiplier: 0.5 })!, /multiplier must be 1 or more; got 0.5/);
      assert.match(backoffProblem({ ...policy, jitter: 2 })!, /jitter must be a fraction between 0 and 1/);
      assert.match(backoffProblem({ ...policy, maxDelayMs: 100 })!, /maximum must be at least the initial delay/);
      assert.equal(backoffProblem(policy), undefined);
    });
  });

  describe('breaker', function () {
    const policy = DEFAULT_BREAKER;
    const fail = (state: BreakerState, at: number) => recordFailure(policy, state, at);

    it('opens on exactly the 5th failure within 60 s', function () {
      let state = CLOSED;
      for (const at of [0, 10_000, 20_000, 30_000]) {
        state = fail(state, at);
        assert.equal(state.status, 'closed');
      }
      state = fail(state, 59_999);
      assert.deepEqual(state, { status: 'open', openedAt: 59_999, cooldownMs: 30_000, trialAt: 89_999 });
    });

    it('does not open on 4 failures, a wait longer than the window, and one more', function () {
      let state = CLOSED;
      for (const at of [0, 1, 2, 3]) state = fail(state, at);
      state = fail(state, 3 + 60_001);
      assert.equal(state.status, 'closed');
      assert.deepEqual(state.status === "closed" && state.failures, [60_004]);
    });

    it('allows one trial after the cooldown; a failed trial doubles the cooldown up to the cap; success closes and forgets', function () {
      let state: BreakerState = { status: 'open', openedAt: 0, cooldownMs: 30_000, trialAt: 30_000 };
      assert.equal(beginTrial(state, 29_999), undefined, 'no trial before the cooldown ends');
      const cooldowns: number[] = [];
      let now = 30_000;
      for (let i = 0; i < 6; i++) {
        const trial: BreakerState = beginTrial(state, now)!;
        assert.equal(trial.status, 'halfOpen');
        state = fail(trial, now);
        assert.equal(state.status, 'open');
        cooldowns.push((state as { cooldownMs: number }).cooldownMs);
        now = (state as { trialAt: number }).trialAt;
      }
      assert.deepEqual(cooldowns, [60_000, 120_000, 240_000, 480_000, 480_000, 480_000]);
      assert.deepEqual(recordSuccess(beginTrial(state, now)!), CLOSED);
    });

    it('property: it opens on the first failure that makes N inside a window, never earlier or later', function () {
      fc.assert(
        fc.property(
          fc.record({ failureThreshold: fc.integer({ min: 1, max: 8 }), windowMs: fc.integer({ min: 1, max: 100_000 }) }),
          fc.array(fc.integer({ min: 0, max: 50_000 }), { minLength: 1, maxLength: 40 }),
          ({ failureThreshold, windowMs }, gaps) => {
            const p: BreakerPolicy = { ...policy, failureThreshold, windowMs };
            let at = 0;
            const times = gaps.map((gap) => (at += gap));
            let state = CLOSED;
            for (let i = 0; i < times.length; i++) {
              state = recordFailure(p, state, times[i]);
              const inWindow = times.slice(0, i + 1).filter((t) => times[i] - t < windowMs).length;
              if (inWindow >= failureThreshold) {
                assert.equal(state.status, 'open', `failure ${i + 1} makes ${inWindow} in the window`);
                return;
              }
              assert.equal(state.status, 'closed', `failure ${i + 1}: only ${inWindow} in the window`);
            }
          },
        ),
      );
    });
  });

  describe('dependency graph', function () {
    const node = (name: string, ...dependsOn: string[]): GraphNode => ({ name, dependsOn: dependsOn.map((dep) => ({ name: dep, condition: 'ready' })) });

    it('names a cycle in order, and an unknown dependency with the known names', function () {
      assert.throws(() => checkGraph([node('web', 'api'), node('api', 'db'), node('db', 'web')]), { name: 'DependencyGraphError', message: 'Dependency cycle: "web" → "api" → "db" → "web". Remove one of these dependsOn entries.' });
      assert.throws(() => checkGraph([node('a', 'a')]), /Dependency cycle: "a" → "a"/);
      assert.throws(() => checkGraph([node('api', 'dbb'), node('db')]), /"api" depends on "dbb", which is not defined; known units: "api", "db"/);
      assert.throws(() => checkGraph([node('a'), node('a')]), /Two units are named "a"/);
      const error = (() => {
        try {
          checkGraph([node('x', 'y'), node('y', 'x'), node('z')]);
        } catch (caught) {
          return caught as DependencyGraphError;
        }
      })();
      assert.deepEqual(error?.cycle, ['x', 'y', 'x']);
    });

    it('starts dependencies first, stops dependents first, and follows closures both ways', function () {
      const graph = [node('web', 'api'), node('api', 'db', 'cache'), node('db'), node('cache'), node('docs')];
      assert.deepEqual(startOrder(graph), ['db', 'cache', 'docs', 'api', 'web']);
      assert.deepEqual(stopOrder(graph), ['web', 'api', 'docs', 'cache', 'db']);
      assert.deepEqual([...withDependencies(graph, ['api'])].sort(), ['api', 'cache', 'db']);
      assert.deepEqual([...withDependents(graph, ['db'])].sort(), ['api', 'db', 'web']);
    });

    it('property: in any acyclic graph, every unit comes after all its dependencies', function () {
      fc.assert(
        fc.property(fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 25 }), (edges) => {
          // Unit i may depend only on units declared before it, so the graph is acyclic; then shuffle by reversing.
          const graph = edges.map((deps, i) => node(`u${i}`, ...[...new Set(i === 0 ? [] : deps.map((d) => `u${d % i}`))])).reverse();
          checkGraph(graph);
          const order = startOrder(graph);
          assert.equal(order.length, graph.length);
          for (const unit of graph) for (const dep of unit.dependsOn) assert.ok(order.indexOf(dep.name) < order.indexOf(unit.name));
        }),
      );
    });
  });
});
