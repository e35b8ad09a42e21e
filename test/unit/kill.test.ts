import * as assert from 'node:assert/strict';
import { killGracefully, KillStep } from '../../src/core/kill';
import { isAlive, listProcesses, processTree } from '../../src/core/processes';
import { findById, Pane, TmuxObject } from '../../src/tmux/model';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

const TIMINGS = { interruptWaitMs: 300, terminateWaitMs: 300 };

/** Typed into an interactive shell in the pane, like a user starting a program. */
const PROGRAMS = {
  /** Stops on C-c. */
  polite: 'sleep 1000',
  /** Ignores C-c (an ignored signal stays ignored across exec, so sleep ignores it too). */
  deaf: `sh -c "trap '' INT; sleep 1000"`,
  /** Ignores C-c and SIGTERM. */
  stubborn: `sh -c "trap '' INT TERM; sleep 1000"`,
} as const;

describe('killGracefully against real tmux', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let service: TmuxService;

  beforeEach(async function () {
    server = new PrivateTmux();
    // A bystander session, so killing the test session does not end the server.
    server.newSession('bystander');
    service = new TmuxService({ ...server.address });
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok');
  });

  afterEach(async function () {
    await service.dispose();
    server.kill();
  });

  const run = (argv: readonly string[]) => service.run(argv);

  /** Starts `program` in the pane's shell and waits until its sleep runs (with its traps set). */
  async function start(paneId: string, program: string): Promise<void> {
    const shell = Number(server.tmux('display-message', '-p', '-t', paneId, '#{pane_pid}').trim());
    server.tmux('send-keys', '-t', paneId, '-l', program);
    server.tmux('send-keys', '-t', paneId, 'Enter');
    await eventually(`${program} running in ${paneId}`, async () => processTree(await listProcesses(), shell).some((info) => info.command === 'sleep'), 5000);
  }

  /** Every process under the pane's shell, and the shell itself. */
  async function processesOf(pane: Pane): Promise<{ shell: number; programs: number[] }> {
    const tree = processTree(await listProcesses(), pane.pid);
    const programs = tree.filter((info) => info.pid !== pane.pid).map((info) => info.pid);
    assert.ok(programs.length > 0, `pane ${pane.id} runs a program`);
    return { shell: pane.pid, programs };
  }

  async function fresh(id: string): Promise<TmuxObject> {
    const found = findById(await service.refresh(), id);
    assert.ok(found, `${id} is in the tree`);
    return found;
  }

  /** Whether tmux still has the session, window or pane with this id. */
  function exists(id: string): boolean {
    // Not display-message -t: it falls back to another target when the one given is gone.
    return server.tmux('list-panes', '-a', '-F', '#{session_id} #{window_id} #{pane_id}').split(/\s+/).includes(id);
  }

  const cases: [keyof typeof PROGRAMS, KillStep, KillStep[]][] = [
    ['polite', 'interrupt', ['interrupt', 'close']],
    ['deaf', 'terminate', ['interrupt', 'terminate', 'close']],
    ['stubborn', 'kill', ['interrupt', 'terminate', 'kill', 'close']],
  ];
  for (const [kind, lastStep, steps] of cases) {
    it(`ends a session whose program is ${kind} (${PROGRAMS[kind]}) at the ${lastStep} step`, async function () {
      const sessionId = server.newSession('victim');
      const paneId = server.tmux('display-message', '-p', '-t', sessionId, '#{pane_id}').trim();
      await start(paneId, PROGRAMS[kind]);
      const session = await fresh(sessionId);
      const [pane] = session.kind === 'session' ? session.windows[0].panes : [];
      const { shell, programs } = await processesOf(pane);

      const seen: KillStep[] = [];
      const started = Date.now();
      const report = await killGracefully(run, session, TIMINGS, (step) => seen.push(step));
      const took = Date.now() - started;

      assert.equal(report.lastStep, lastStep);
      assert.deepEqual(seen, steps);
      assert.equal(report.terminated, lastStep === 'interrupt' ? 0 : programs.length);
      assert.equal(report.killed, lastStep === 'kill' ? programs.length : 0);
      for (const pid of programs) assert.ok(!isAlive(pid), `program ${pid} is gone`);
      await eventually('the shell is gone', () => !isAlive(shell));
      assert.ok(!exists(sessionId), 'the session is gone from tmux');
      await eventually('the session is gone from the tree', () => !findById(service.tree, sessionId));
      assert.ok(server.tmux('list-sessions', '-F', '#{session_name}').split('\n').includes('bystander'), 'other sessions are untouched');
      // Each wait ends early once nothing is left; a step that was not needed costs no waiting.
      if (lastStep === 'interrupt') assert.ok(took < TIMINGS.interruptWaitMs + 1000, `took ${took} ms`);
    });
  }

  it('ends a window with two panes: the polite program stops on C-c, the deaf one needs SIGTERM', async function () {
    const sessionId = server.newSession('victim');
    const windowId = server.tmux('new-window', '-d', '-t', `${sessionId}:`, '-P', '-F', '#{window_id}').trim();
    const first = server.tmux('display-message', '-p', '-t', windowId, '#{pane_id}').trim();
    const second = server.tmux('split-window', '-d', '-t', windowId, '-P', '-F', '#{pane_id}').trim();
    await start(first, PROGRAMS.polite);
    await start(second, PROGRAMS.deaf);
    const window = await fresh(windowId);
    assert.equal(window.kind, 'window');
    const pids = [...(await processesOf(window.panes[0])).programs, ...(await processesOf(window.panes[1])).programs];

    const report = await killGracefully(run, window, TIMINGS);
    assert.equal(report.lastStep, 'terminate');
    assert.equal(report.killed, 0);
    for (const pid of pids) assert.ok(!isAlive(pid), `program ${pid} is gone`);
    assert.ok(!exists(windowId), 'the window is gone');
    assert.ok(!exists(first) && !exists(second), 'both panes are gone');
    assert.ok(exists(sessionId), 'the session keeps its other window');
  });

  it('ends a single pane and leaves its neighbour running', async function () {
    const sessionId = server.newSession('victim');
    const keep = server.tmux('display-message', '-p', '-t', sessionId, '#{pane_id}').trim();
    const target = server.tmux('split-window', '-d', '-t', keep, '-P', '-F', '#{pane_id}').trim();
    await start(keep, PROGRAMS.polite);
    await start(target, PROGRAMS.stubborn);
    const pane = await fresh(target);
    assert.equal(pane.kind, 'pane');
    const { programs } = await processesOf(pane);
    const neighbour = await fresh(keep);
    const neighbourPrograms = (await processesOf(neighbour as Pane)).programs;

    const report = await killGracefully(run, pane, TIMINGS);
    assert.equal(report.lastStep, 'kill');
    for (const pid of programs) assert.ok(!isAlive(pid), `program ${pid} is gone`);
    assert.ok(!exists(target), 'the pane is gone');
    assert.ok(exists(keep), 'the neighbour pane is still there');
    for (const pid of neighbourPrograms) assert.ok(isAlive(pid), `the neighbour's program ${pid} still runs`);
    assert.equal(server.tmux('display-message', '-p', '-t', keep, '#{pane_current_command}').trim(), 'sleep');
  });

  it('closes a pane whose shell runs nothing without sending anything to it', async function () {
    const sessionId = server.newSession('victim');
    const paneId = server.tmux('display-message', '-p', '-t', sessionId, '#{pane_id}').trim();
    await eventually('the shell is up', () => server.tmux('display-message', '-p', '-t', paneId, '#{pane_current_command}').trim() === 'bash' || server.tmux('display-message', '-p', '-t', paneId, '#{pane_current_command}').trim() === 'sh');
    const seen: KillStep[] = [];
    const report = await killGracefully(run, await fresh(sessionId), TIMINGS, (step) => seen.push(step));
    assert.deepEqual(seen, ['close']);
    assert.deepEqual(report, { lastStep: 'close', terminated: 0, killed: 0 });
    assert.ok(!exists(sessionId));
  });

  it('succeeds when the pane closes by itself after C-c (the program was the pane)', async function () {
    // No shell: the pane's own process is sleep, so C-c ends the pane and with it the session.
    const sessionId = server.newSession('victim', 'sleep 1000');
    const session = await fresh(sessionId);
    const report = await killGracefully(run, session, TIMINGS);
    assert.equal(report.lastStep, 'interrupt');
    await eventually('the session is gone', () => !exists(sessionId));
    assert.ok(server.isRunning());
  });
});
