/**
 * Agent states: how soon a hook event of one of 50 stand-in agents shows as the agent's state, and
 * what following 50 agents costs while nothing happens and while their hooks keep reporting.
 * Peers, for scale: agent-deck debounces 100 ms after its hook writes a file, claude-squad hashes
 * every screen each 500 ms, ccmanager waits 1.5 s of screen stability.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { agentLaunch, AgentLaunch } from '../src/core/agents/hooks';
import { writeHookScript } from '../src/core/agents/hooksScript';
import { AgentKind, BUILT_IN_KINDS } from '../src/core/agents/kinds';
import { AgentActivity, AgentStateName } from '../src/core/agents/state';
import { AgentWatcher } from '../src/core/agents/stateWatcher';
import { Clock, systemClock } from '../src/core/supervision/clock';
import { Supervisor } from '../src/core/supervision/supervisor';
import { TmuxDriver } from '../src/core/supervision/tmuxDriver';
import { UnitSpec } from '../src/core/supervision/types';
import { TmuxService } from '../src/tmux/service';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { msSince, now, sleep, summarize, waitFor } from './stats';

export const SECTION = '16. agents: hook event → state seen, 50 stand-in agents';
const AGENTS = 50;
const STANDINS = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'agents');
const PAYLOADS = JSON.parse(fs.readFileSync(path.join(STANDINS, 'payloads.json'), 'utf8')) as { claude: Record<string, object> };

/** A clock that counts the timers armed through it (the supervisor's and the watcher's). */
function countingClock(): Clock & { armed: number } {
  const clock = {
    armed: 0,
    now: systemClock.now,
    setTimeout: (callback: () => void, ms: number) => {
      clock.armed++;
      return systemClock.setTimeout(callback, ms);
    },
    clearTimeout: systemClock.clearTimeout,
  };
  return clock;
}

export async function benchAgentStates(report: Report, options: { quick: boolean }): Promise<void> {
  const server = new PrivateServer();
  let service: TmuxService | undefined;
  let supervisor: Supervisor<AgentActivity> | undefined;
  let watcher: AgentWatcher | undefined;
  let driver: TmuxDriver | undefined;
  try {
    await server.buildScript(['new-session', '-d', '-s', 'agents', '-x', '200', '-y', '50'], []);
    service = new TmuxService(server.address);
    await service.start();
    const folder = path.join(server.folder, 'agents');
    const script = writeHookScript(folder, 'tmux');
    const scenario = path.join(folder, 'scenario');
    fs.writeFileSync(scenario, 'hook SessionStart\nhang\n');
    const kind: AgentKind = { ...BUILT_IN_KINDS.claude, command: `env TSM_AGENT_SCENARIO=${scenario} ${process.execPath} ${path.join(STANDINS, 'standin.js')} claude` };
    const units: UnitSpec[] = [];
    const launches = new Map<string, AgentLaunch>();
    for (let i = 0; i < AGENTS; i++) {
      const name = `agent-${i}`;
      units.push({ name, restart: 'never', stalledAfterMs: 600_000, noProgressTimeoutMs: 1_800_000 });
      launches.set(name, agentLaunch(kind, { hookScript: script, tmuxPath: 'tmux', stateFolder: path.join(folder, name) }));
    }
    const s = service;
    driver = new TmuxDriver((argv) => s.run(argv), server.address, (unit) => ({ session: 'agents', command: launches.get(unit.name)!.command }), service.onDidChangeTree);
    const clock = countingClock();
    supervisor = new Supervisor<AgentActivity>({ units, driver, clock });
    watcher = new AgentWatcher({ address: server.address, supervisor, agents: units.map((unit) => ({ name: unit.name, kind })), clock });
    const w = watcher;
    await watcher.start();
    const upStart = now();
    await supervisor.up();
    await waitFor(`${AGENTS} agents idle`, () => w.states().every((agent) => agent.state.state === 'idle'), 60_000, 50);
    report.add({ section: SECTION, label: `${AGENTS} stand-in agents started, each idle after its SessionStart hook`, unit: 'ms', value: Math.round(msSince(upStart)) });

    const panes = units.map((unit) => supervisor!.status(unit.name).handle!);
    const tmuxEnv = `${server.socketPath},${server.pid},0`;
    const fire = (pane: string, event: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', [script, 'claude'], { env: { ...server.env, TMUX: tmuxEnv, TMUX_PANE: pane }, stdio: ['pipe', 'ignore', 'ignore'] });
        child.once('error', reject);
        child.once('close', () => resolve());
        child.stdin!.end(JSON.stringify({ session_id: 'bench', cwd: folder, ...PAYLOADS.claude[event] }));
      });

    // Hook event → state seen: alternate UserPromptSubmit and Stop, so every event is a transition.
    const rounds = options.quick ? 40 : 200;
    const latencies: number[] = [];
    const scriptOnly: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const agent = units[i % AGENTS].name;
      const pane = panes[i % AGENTS];
      const working = w.state(agent).state !== 'working';
      const want: AgentStateName = working ? 'working' : 'idle';
      const seen = new Promise<number>((resolve) => {
        const subscription = w.onDidChangeState((event) => {
          if (event.agent !== agent || event.state.state !== want) return;
          subscription.dispose();
          resolve(msSince(start));
        });
      });
      const start = now();
      await fire(pane, working ? 'UserPromptSubmit' : 'Stop');
      scriptOnly.push(msSince(start));
      latencies.push(await seen);
      await sleep(20);
    }
    const summary = summarize(latencies);
    report.add({ section: SECTION, label: 'hook event → state seen (hook script start → watcher event)', unit: 'ms', summary, target: 'p95 ≤ 250 ms', pass: summary.p95 <= 250 });
    report.add({ section: SECTION, label: '  of which the hook script itself (sh, sed, one tmux client)', unit: 'ms', summary: summarize(scriptOnly) });
    report.note('agents: peers for scale — agent-deck debounces 100 ms after its hook writes a file, claude-squad polls each screen every 500 ms, ccmanager waits 1.5 s of screen stability.');

    // Every agent back to idle, then two windows: nothing happens; every agent's hook reports each second.
    for (const [i, unit] of units.entries()) if (w.state(unit.name).state === 'working') await fire(panes[i], 'Stop');
    await waitFor('all idle again', () => w.states().every((agent) => agent.state.state === 'idle'), 20_000, 20);
    await sleep(500);
    const windowMs = options.quick ? 3000 : 10_000;
    const measure = async (during: () => Promise<void>) => {
      const before = { ...w.stats, timers: clock.armed };
      await during();
      return { processes: w.stats.tmuxProcesses - before.tmuxProcesses, screenReads: w.stats.screenReads - before.screenReads, timers: clock.armed - before.timers, reads: w.stats.reads - before.reads };
    };
    const idle = await measure(() => sleep(windowMs));
    const per10s = (value: number) => Math.round((value * 10_000) / windowMs);
    report.add({ section: SECTION, label: `idle, ${AGENTS} agents: tmux processes per 10 s`, unit: 'count', value: per10s(idle.processes), target: '0', pass: idle.processes === 0 });
    report.add({ section: SECTION, label: `idle, ${AGENTS} agents: timers armed per 10 s`, unit: 'count', value: per10s(idle.timers), target: '0', pass: idle.timers === 0 });
    report.add({ section: SECTION, label: `idle, ${AGENTS} agents: screen reads per 10 s`, unit: 'count', value: per10s(idle.screenReads), target: '0', pass: idle.screenReads === 0 });
    let stop = false;
    const busy = await measure(async () => {
      const loops = panes.map(async (pane, i) => {
        await sleep((i * 1000) / AGENTS);
        let turn = 0;
        while (!stop) {
          await fire(pane, turn++ % 2 ? 'Stop' : 'PreToolUse');
          await sleep(1000);
        }
      });
      await sleep(windowMs);
      stop = true;
      await Promise.all(loops);
    });
    report.add({ section: SECTION, label: `hooks fresh (each of ${AGENTS} agents reports every 1 s): reads per 10 s`, unit: 'count', value: per10s(busy.reads) });
    report.add({ section: SECTION, label: `hooks fresh: tmux processes of ours per 10 s (waiter restarts + reads)`, unit: 'count', value: per10s(busy.processes) });
    report.add({ section: SECTION, label: 'hooks fresh: timers armed per 10 s', unit: 'count', value: per10s(busy.timers) });
    report.add({ section: SECTION, label: 'hooks fresh: screen reads per 10 s', unit: 'count', value: per10s(busy.screenReads), target: '0 while hooks report', pass: busy.screenReads === 0 });
  } finally {
    watcher?.dispose();
    supervisor?.dispose();
    driver?.dispose();
    if (service) await Promise.race([service.dispose(), sleep(3000)]);
    server.kill();
  }
}
