import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PaneOutputHub } from '../src/core/output/outputHub';
import { parseProfile } from '../src/core/profiles/parse';
import { ProfileHost, ProfileRuntime } from '../src/core/profiles/runtime';
import { Supervisor } from '../src/core/supervision/supervisor';
import { TmuxDriver } from '../src/core/supervision/tmuxDriver';
import { TmuxService } from '../src/tmux/service';
import { PrivateServer } from './privateServer';
import { isolatedEnv, runProgram, tmuxpVersion } from './saveRestoreBench';
import { Report } from './report';
import { msSince, now, sleep, summarize, waitFor } from './stats';

export const SECTION = '17. profiles: bring-up and exit → restart';

/** The unit test's graph, four levels deep: level 0 a b; 1 c(a) d(b) e(a,b); 2 f(c) g(d,e); 3 h(f) i(g) j(f,g). */
const GRAPH: Record<string, string[]> = { a: [], b: [], c: ['a'], d: ['b'], e: ['a', 'b'], f: ['c'], g: ['d', 'e'], h: ['f'], i: ['g'], j: ['f', 'g'] };
/** Seconds from start to ready, per service. */
const DELAYS: Record<string, number> = { a: 0.6, b: 0.2, c: 0.4, d: 0.2, e: 0.2, f: 0.4, g: 0.2, h: 0.2, i: 0.2, j: 0.2 };

/** The longest chain of ready delays, in ms: what no supervisor can beat. */
function criticalPathMs(): number {
  const memo = new Map<string, number>();
  const finish = (name: string): number => {
    if (!memo.has(name)) memo.set(name, DELAYS[name] * 1000 + Math.max(0, ...GRAPH[name].map(finish)));
    return memo.get(name)!;
  };
  return Math.max(...Object.keys(GRAPH).map(finish));
}

/** Prints its ready line after its delay; the line never appears in the command itself, which peers type into a shell. */
function serviceCommand(name: string): string {
  return `sleep ${DELAYS[name]}; printf 'ready-%s\\n' ${name}; exec sleep 3600`;
}

function graphProfile(folder: string): string {
  const names = Object.keys(GRAPH);
  // Ready when it prints its line (an output probe: no polling interval in the figure).
  const pane = (name: string) =>
    `      - name: ${name}\n        command: ${JSON.stringify(serviceCommand(name))}\n        ready: { output: "ready-${name}" }\n` +
    (GRAPH[name].length ? `        dependsOn: { ${GRAPH[name].map((dep) => `${dep}: ready`).join(', ')} }\n` : '');
  return `session: graph\nroot: ${JSON.stringify(folder)}\nwindows:\n  - name: one\n    panes:\n${names.slice(0, 5).map(pane).join('')}  - name: two\n    panes:\n${names.slice(5).map(pane).join('')}`;
}

/**
 * Up of the 10-service graph on a private server (plain /bin/sh panes), timed to every service
 * ready, against its critical path; then a unit that exits 1 every 0.2 s, restarted with no backoff,
 * timed from the exit notice to the restart call, and from the program's own last timestamp to it.
 */
export async function benchProfiles(report: Report, options: { quick: boolean }): Promise<void> {
  const server = new PrivateServer();
  let service: TmuxService | undefined;
  let hub: PaneOutputHub | undefined;
  try {
    await server.tmux('new-session', '-d', '-s', 'base', '-x', '200', '-y', '50');
    await server.adopt();
    service = new TmuxService(server.address);
    await service.start();
    const live = service;
    hub = new PaneOutputHub((argv) => live.run(argv), server.address);
    const host = { run: (argv: readonly string[]) => live.run(argv), address: server.address, onTree: live.onDidChangeTree, tree: () => live.tree, output: hub.open, kill: { interruptWaitMs: 300, terminateWaitMs: 500 } };

    const folder = path.join(server.folder, 'project');
    fs.mkdirSync(folder);
    const file = path.join(folder, '.tmux-session.yaml');
    fs.writeFileSync(file, graphProfile(folder));
    const profile = parseProfile(fs.readFileSync(file, 'utf8'), file);
    const bringUps: number[] = [];
    for (let trial = 0; trial < (options.quick ? 2 : 5); trial++) {
      const started = now();
      const runtime = await ProfileRuntime.up(host, profile);
      await waitFor('all ten services ready', () => runtime.statuses().every((status) => status.state.phase === 'running'), 30_000, 2);
      bringUps.push(msSince(started));
      await runtime.down();
      await sleep(200);
    }
    const critical = criticalPathMs();
    const limit = critical * 1.1 + 300;
    const up = summarize(bringUps);
    report.add({ section: SECTION, label: '10-service graph, depth 4: Up → all ready', unit: 'ms', summary: up, target: `≤ ${Math.round(limit)} ms (critical path ${critical} ms + 10% + 300 ms)`, pass: up.median <= limit });
    report.add({ section: SECTION, label: 'Up → all ready, above the critical path', unit: 'ms', value: up.median - critical });
    await benchPeers(report, up.median, options);
    await benchIdle(report, host, folder);

    // Exit → restart decision, through the real driver (as the profile runtime uses it).
    const exitsFile = path.join(server.folder, 'exits');
    const driver = new TmuxDriver((argv) => live.run(argv), server.address, () => ({ session: 'base', command: `sleep 0.2; date +%s%3N >> ${exitsFile}; exit 1` }), live.onDidChangeTree);
    let noticedAt = 0;
    driver.onExit(() => (noticedAt = performance.now()));
    const fromNotice: number[] = [];
    const fromExit: number[] = [];
    const realStart = driver.start.bind(driver);
    driver.start = (unit, mode) => {
      if (mode !== 'start') {
        fromNotice.push(performance.now() - noticedAt);
        const lines = fs.readFileSync(exitsFile, 'utf8').trim().split('\n');
        fromExit.push(performance.timeOrigin + performance.now() - Number(lines[lines.length - 1]));
      }
      return realStart(unit, mode);
    };
    const supervisor = new Supervisor({ units: [{ name: 'crash', backoff: { initialDelayMs: 0 }, breaker: { failureThreshold: 10_000 } }], driver });
    const restarts = options.quick ? 8 : 40;
    try {
      await supervisor.up();
      await waitFor(`${restarts} restarts`, () => fromNotice.length >= restarts, restarts * 3000, 5);
      await supervisor.down();
    } finally {
      supervisor.dispose();
      driver.dispose();
    }
    const decision = summarize(fromNotice);
    report.add({ section: SECTION, label: 'exit notice → restart call', unit: 'ms', summary: decision, target: '≤ 50 ms median', pass: decision.median <= 50 });
    const whole = summarize(fromExit);
    report.add({ section: SECTION, label: 'program exit → restart call (its own timestamp)', unit: 'ms', summary: whole });
    report.add({ section: SECTION, label: 'program exit → restart call, p95', unit: 'ms', value: whole.p95 });
    report.note(
      'profiles: tmux 3.3a–3.5a with libutempter can lose the SIGCHLD of a pane that exits; the driver then learns the exit from the 2 s program watch and asks the server to reap (SIGCHLD), so "program exit → restart call" has a tail of up to ~2 s that the median hides.',
    );
  } finally {
    await hub?.dispose().catch(() => undefined);
    if (service) await Promise.race([service.dispose(), sleep(3000)]);
    server.kill();
  }
}

/**
 * The same ten commands loaded by tmuxp and tmuxinator, which type them into shells and wait for
 * nothing; "all ready" is when every pane shows its ready line, read by the bench with one
 * capture of all panes every 20 ms. They start every service at once (no dependency order), so
 * their figure is the longest single delay plus their own overhead, not the critical path.
 */
async function benchPeers(report: Report, oursMs: number, options: { quick: boolean }): Promise<void> {
  const names = Object.keys(GRAPH);
  const peers: { name: string; available: () => Promise<boolean>; load: (server: PrivateServer, file: string, env: NodeJS.ProcessEnv) => Promise<unknown>; file: (folder: string) => [string, string] }[] = [
    {
      name: 'tmuxp load',
      available: async () => (await tmuxpVersion()) !== undefined,
      file: (folder) => [
        'graph.json',
        JSON.stringify({
          session_name: 'graph',
          start_directory: folder,
          windows: [
            { window_name: 'one', panes: names.slice(0, 5).map((name) => ({ shell_command: [serviceCommand(name)] })) },
            { window_name: 'two', panes: names.slice(5).map((name) => ({ shell_command: [serviceCommand(name)] })) },
          ],
        }),
      ],
      load: (server, file, env) => runProgram('tmuxp', ['load', '-y', '-d', '-S', server.socketPath, file], env),
    },
    {
      name: 'tmuxinator start',
      available: async () => runProgram('tmuxinator', ['version'], process.env, 20_000).then(() => true, () => false),
      file: (folder) => [
        'graph.yml',
        `name: graph\nroot: ${JSON.stringify(folder)}\ntmux_options: -f /dev/null\nwindows:\n` +
          [names.slice(0, 5), names.slice(5)].map((group, index) => `  - ${index ? 'two' : 'one'}:\n      panes:\n${group.map((name) => `        - ${JSON.stringify(serviceCommand(name))}\n`).join('')}`).join(''),
      ],
      // tmuxinator names its socket from tmux_options/socket_name only; -S rides in tmux_options per run.
      load: (server, file, env) => {
        fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^tmux_options: .*$/m, `tmux_options: -f /dev/null -S ${server.socketPath}`));
        return runProgram('tmuxinator', ['start', '-p', file, '--no-attach'], env);
      },
    },
  ];
  for (const peer of peers) {
    if (!(await peer.available())) {
      report.add({ section: SECTION, label: `peer: ${peer.name} → all ready`, unit: 'ms', text: 'not installed; skipped' });
      continue;
    }
    const samples: number[] = [];
    try {
      for (let trial = 0; trial < (options.quick ? 2 : 5); trial++) {
        const server = new PrivateServer();
        try {
          const folder = path.join(server.folder, 'project');
          fs.mkdirSync(folder);
          const [name, text] = peer.file(folder);
          const file = path.join(server.folder, name);
          fs.writeFileSync(file, text);
          const env = { ...process.env, ...isolatedEnv(server) };
          // A running server, as ours has: tmuxinator's start-server alone ends at once without a session.
          await server.tmux('new-session', '-d', '-s', 'base');
          const started = now();
          await peer.load(server, file, env);
          await server.adopt();
          await waitFor(`${peer.name}: every ready line`, async () => (await readyLines(server)) === names.length, 30_000, 20);
          samples.push(msSince(started));
        } finally {
          server.kill();
        }
      }
      const summary = summarize(samples);
      report.add({ section: SECTION, label: `peer: ${peer.name} → all ready (no order, no probes)`, unit: 'ms', summary });
      report.add({ section: SECTION, label: `ours ÷ ${peer.name} (ours keeps the order: critical path ${criticalPathMs()} ms vs longest delay ${Math.max(...Object.values(DELAYS)) * 1000} ms)`, unit: '×', value: oursMs / summary.median });
    } catch (error) {
      report.add({ section: SECTION, label: `peer: ${peer.name} → all ready`, unit: 'ms', text: `failed: ${(error as Error).message.split('\n')[0]}` });
    }
  }
  report.note('profiles: process-compose and overmind are neither npm nor Debian packages here, so they are not measured.');
}

/** How many panes of the server show a ready line, from one tmux command that captures them all. */
async function readyLines(server: PrivateServer): Promise<number> {
  const panes = (await server.tmux('list-panes', '-a', '-F', '#{pane_id}')).trim().split('\n').filter(Boolean);
  const args = panes.flatMap((pane, index) => [...(index ? [';'] : []), 'capture-pane', '-p', '-J', '-S', '-200', '-t', pane]);
  const text = await server.tmux(...args);
  // A shell's prompt can land before the line (the command was typed before the shell was ready).
  return new Set(text.match(/ready-[a-j]\b/g) ?? []).size;
}

/**
 * What a profile costs once it is up: with no probes, the tmux commands and timers it adds over
 * 5 s (target 0 and 0); with http readiness and health probes, how late a readiness is noticed at
 * the default 1 s interval, and the CPU per probe per second.
 */
async function benchIdle(report: Report, host: ProfileHost, folder: string): Promise<void> {
  const quiet = path.join(folder, '.quiet.yaml');
  fs.writeFileSync(quiet, `session: quiet\nwindows:\n  - panes:\n${['p', 'q', 'r', 's', 't'].map((name) => `      - { name: ${name}, command: "exec sleep 3600" }\n`).join('')}`);
  // Only the profile's own commands count (the live tree's connection has its own, measured in its phase).
  let commands = 0;
  const counted: ProfileHost = { ...host, run: (argv) => (commands++, host.run(argv)) };
  const runtime = await ProfileRuntime.up(counted, parseProfile(fs.readFileSync(quiet, 'utf8'), quiet));
  try {
    await sleep(500);
    await runtime.flush();
    const timersBefore = timers();
    const commandsBefore = commands;
    await sleep(5000);
    report.add({ section: SECTION, label: 'idle, 5 services without probes: tmux commands in 5 s', unit: 'commands', value: commands - commandsBefore, target: '0', pass: commands - commandsBefore === 0 });
    report.add({ section: SECTION, label: 'idle, 5 services without probes: timers added', unit: 'timers', value: timers() - timersBefore, target: '0', pass: timers() - timersBefore <= 0 });
  } finally {
    await runtime.down();
  }

  // Readiness over http at the default interval: the service writes when it starts answering.
  const servers = 10;
  const script = path.join(folder, 'http.js');
  fs.writeFileSync(
    script,
    `const fs = require('fs'); const port = Number(process.argv[2]);
setTimeout(() => require('http').createServer((q, r) => r.end('ok')).listen(port, '127.0.0.1', () => fs.writeFileSync(process.argv[3], String(Date.now()))), 300 + Math.random() * 700);`,
  );
  const base = 20_000 + Math.floor(Math.random() * 20_000);
  const probed = path.join(folder, '.probed.yaml');
  fs.writeFileSync(
    probed,
    `session: probed\nwindows:\n  - panes:\n` +
      Array.from({ length: servers }, (_, i) => `      - name: h${i}\n        command: ${JSON.stringify(`exec node ${script} ${base + i} ${path.join(folder, `up-${i}`)}`)}\n        ready: { http: "http://127.0.0.1:${base + i}/" }\n        health: { http: "http://127.0.0.1:${base + i}/" }\n`).join(''),
  );
  const readyAt = new Map<string, number>();
  const probedRuntime = await ProfileRuntime.up(host, parseProfile(fs.readFileSync(probed, 'utf8'), probed), undefined, (made) => {
    made.onDidChangeState((event) => {
      if (event.state.phase === 'running' && !readyAt.has(event.unit)) readyAt.set(event.unit, Date.now());
    });
  });
  try {
    await waitFor('every http service ready', () => readyAt.size === servers, 30_000, 5);
    const late = [...readyAt].map(([unit, at]) => at - Number(fs.readFileSync(path.join(folder, `up-${unit.slice(1)}`), 'utf8')));
    report.add({ section: SECTION, label: 'http readiness noticed after the service answers (default readiness interval, 200 ms)', unit: 'ms', summary: summarize(late), target: '≤ 250 ms, or the interval\'s cost said', pass: summarize(late).median <= 250 });
    const cpuBefore = process.cpuUsage();
    const seconds = 5;
    await sleep(seconds * 1000);
    const cpu = process.cpuUsage(cpuBefore);
    report.add({ section: SECTION, label: `CPU per health probe per second (${servers} http probes, 1 s interval)`, unit: 'ms CPU', value: (cpu.user + cpu.system) / 1000 / servers / seconds });
  } finally {
    await probedRuntime.down();
  }
  report.note('profiles: a readiness probe at the default 1 s interval is noticed on its next attempt, on average half an interval after the service answers; a shorter `interval` (or an output probe, which is read as the output arrives) costs proportionally more attempts.');
}

/** Timers this process has armed now. */
function timers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}
