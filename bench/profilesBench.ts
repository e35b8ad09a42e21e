import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PaneOutputHub } from '../src/core/output/outputHub';
import { parseProfile } from '../src/core/profiles/parse';
import { ProfileRuntime } from '../src/core/profiles/runtime';
import { Supervisor } from '../src/core/supervision/supervisor';
import { TmuxDriver } from '../src/core/supervision/tmuxDriver';
import { TmuxService } from '../src/tmux/service';
import { PrivateServer } from './privateServer';
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

function graphProfile(folder: string): string {
  const names = Object.keys(GRAPH);
  // Ready when it prints its line (an output probe: no polling interval in the figure).
  const pane = (name: string) =>
    `      - name: ${name}\n        command: "sleep ${DELAYS[name]}; echo ready-${name}; exec sleep 3600"\n        ready: { output: "ready-${name}" }\n` +
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
