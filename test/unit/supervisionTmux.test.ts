import * as assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Supervisor } from '../../src/core/supervision/supervisor';
import { TmuxDriver, TmuxLaunch } from '../../src/core/supervision/tmuxDriver';
import { ExitInfo, UnitSpec } from '../../src/core/supervision/types';
import { listProcesses, processTree } from '../../src/core/processes';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux, processAlive } from './helpers/tmux';

/** The tmux driver against a private server: units as panes' own processes, exits read from the dead panes. */
describe('supervision tmux driver', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let service: TmuxService;
  let driver: TmuxDriver;
  let commands: Map<string, TmuxLaunch>;
  let exits: { handle: string; exit: ExitInfo }[];

  beforeEach(async function () {
    server = new PrivateTmux();
    server.newSession('dev');
    service = new TmuxService(server.address);
    await service.start();
    commands = new Map();
    driver = new TmuxDriver((argv) => service.run(argv), server.address, (unit) => commands.get(unit.name)!, service.onDidChangeTree);
    exits = [];
    driver.onExit((handle, exit) => exits.push({ handle, exit }));
  });

  afterEach(async function () {
    driver.dispose();
    await service.dispose();
    server.kill();
  });

  const unit = (name: string, command: string, extra: Partial<TmuxLaunch> = {}): UnitSpec => {
    commands.set(name, { session: 'dev', command, ...extra });
    return { name };
  };
  const exitOf = (handle: string) => eventually(`the exit of ${handle}`, () => exits.find((entry) => entry.handle === handle)?.exit, 5000);

  it('reports exit codes 0, 1, 127, 130 and 143 exactly, each once, keeping the pane', async function () {
    const cases: [string, number][] = [
      ['exit 0', 0],
      ['echo failing; exit 1', 1],
      ['no-such-program-here --version', 127],
      ['exit 130', 130],
      ['exit 143', 143],
    ];
    const handles = await Promise.all(cases.map(([command], i) => driver.start(unit(`u${i}`, command), 'start')));
    for (const [i, handle] of handles.entries()) assert.deepEqual(await exitOf(handle), { code: cases[i][1], signal: null }, cases[i][0]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(exits.length, cases.length, 'each exit reported once');
    for (const handle of handles) assert.equal(server.tmux('display-message', '-p', '-t', handle, '#{pane_dead}').trim(), '1', 'the pane stays, dead');
  });

  it('stops with a signal to the process group, and SIGKILL when asked; reported as signals', async function () {
    const handle = await driver.start(unit('api', 'sleep 300 & sleep 301; wait'), 'start');
    const pids = () => server.tmux('display-message', '-p', '-t', handle, '#{pane_pid}').trim();
    const leader = Number(pids());
    const programs = processTree(await listProcesses(), leader).slice(1).map((info) => info.pid);
    await driver.stop(handle, { kind: 'signal', signal: 'SIGTERM' });
    // The signal goes to the programs; their shell then ends by itself (with `wait`'s status).
    assert.deepEqual(await exitOf(handle), { code: 0, signal: null });
    assert.deepEqual(programs.filter((pid) => processAlive(pid)), []);
    const single = await driver.start(unit('web', 'sleep 300'), 'start');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await driver.stop(single, { kind: 'signal', signal: 'SIGTERM' });
    // A shell that runs the program as its child (dash) reports 128 + 15; one that replaces itself with it (bash), the signal.
    const ended = await exitOf(single);
    assert.ok(ended.code === 143 || ended.signal === 'SIGTERM', JSON.stringify(ended));
    const stubborn = await driver.start(unit('db', `trap '' TERM; sleep 300`), 'start');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await driver.stop(stubborn, { kind: 'signal', signal: 'SIGTERM' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(exits.find((entry) => entry.handle === stubborn), undefined, 'ignored SIGTERM');
    await driver.stop(stubborn, { kind: 'kill' });
    assert.deepEqual(await exitOf(stubborn), { code: null, signal: 'SIGKILL' });
    assert.equal(processAlive(leader), false);
  });

  it('restarts in the same pane with respawn-pane, resuming with the resume command', async function () {
    const spec = unit('agent', 'echo first; exit 3', { resumeCommand: 'echo resumed; exit 4' });
    const handle = await driver.start(spec, 'start');
    assert.deepEqual(await exitOf(handle), { code: 3, signal: null });
    exits = [];
    assert.equal(await driver.start(spec, 'resume'), handle, 'same pane');
    assert.deepEqual(await exitOf(handle), { code: 4, signal: null });
    const screen: string = await eventually('the pane to show its last run', () => {
      const text = server.tmux('capture-pane', '-p', '-S', '-', '-t', handle);
      return text.includes('status 4') ? text : undefined;
    });
    assert.match(screen, /resumed/, screen);
  });

  it('under the supervisor: a crashing service is restarted, and tells how long from exit to restart', async function () {
    const latencies: number[] = [];
    // Registered before the supervisor's own listener, so it notes the time first.
    let exitSeen = 0;
    driver.onExit(() => (exitSeen = performance.now()));
    const supervisor = new Supervisor({ units: [{ ...unit('web', 'sleep 0.2; exit 1'), backoff: { initialDelayMs: 0 }, breaker: { failureThreshold: 50 } }], driver });
    const realStart = driver.start.bind(driver);
    driver.start = (spec, mode) => {
      if (mode !== 'start') latencies.push(performance.now() - exitSeen);
      return realStart(spec, mode);
    };
    await supervisor.up();
    await eventually('five restarts', () => latencies.length >= 5, 15_000);
    await supervisor.down();
    supervisor.dispose();
    assert.equal(supervisor.status('web').state.phase, 'stopped');
    const median = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)];
    if (process.env.TSM_TEST_LOG) console.log(`    exit notification → restart call: median ${median.toFixed(2)} ms over ${latencies.length}`);
    assert.ok(latencies.every((ms) => ms >= 0));
  });

  it('finds a running unit again after a reload, and reads the exit of one that died meanwhile', async function () {
    const running = await driver.start(unit('db', 'sleep 300'), 'start');
    const dead = await driver.start(unit('job', 'exit 5'), 'start');
    await exitOf(dead);
    const fresh = new TmuxDriver((argv) => service.run(argv), server.address, (spec) => commands.get(spec.name)!, service.onDidChangeTree);
    try {
      assert.deepEqual(await fresh.inspect(running), { running: true });
      assert.deepEqual(await fresh.inspect(dead), { running: false, exit: { code: 5, signal: null } });
      assert.deepEqual(await fresh.inspect('%999'), { running: false });
    } finally {
      fresh.dispose();
    }
  });
});
