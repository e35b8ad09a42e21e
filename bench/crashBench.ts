/**
 * Phase 10: does connecting crash the server? tmux up to 3.7c dies (NULL dereference in
 * control_write) when a notification reaches a control client that is still identifying itself,
 * and 3.3a also when a session with a `refresh-client -B` subscriber is killed. An outside bash
 * process churns sessions, windows and panes while clients connect, on a fresh private server per
 * round (test/unit/helpers/churn.ts): first raw `tmux -C attach` clients, the baseline that shows
 * the race is real on this machine, then ours, through the same rounds.
 */
import { execFileSync } from 'node:child_process';
import type { ServerAddress } from '../src/tmux/server';
import { TmuxService } from '../src/tmux/service';
import { Connection, Connector, CrashScenario, rawControlConnect, runCrashRounds } from '../test/unit/helpers/churn';
import { Report } from './report';
import { summarize, waitFor } from './stats';

export const SECTION = '10. crash on connect (outside churn, fresh server per round)';

/** How long one of our services gets to reach "ok" before the round counts it as not connected. */
const CONNECT_GIVE_UP_MS = 5000;

export interface CrashBenchOptions {
  readonly quick: boolean;
  /** Our client; by default a TmuxService with default options, started and disposed. */
  readonly ours?: Connector;
  readonly oursLabel?: string;
}

interface Plan {
  readonly scenario: CrashScenario;
  readonly rounds: number;
  readonly connectsPerRound: number;
}

/**
 * Round counts. Two raw clients racing a server's start crash tmux 3.3a in about 1 start of 10,
 * so 150 starts leave no doubt; while the server runs, about 1 raw connect in 25 crashes it, so
 * more than half the rounds of 20 end early. Ours gets 1,000 connects (600 + 400): a 1-in-100
 * crash rate would show about ten times.
 */
function plans(quick: boolean): { raw: Plan[]; ours: Plan[]; oursControl: Plan[] } {
  return quick
    ? {
        raw: [{ scenario: 'server-start', rounds: 20, connectsPerRound: 2 }, { scenario: 'running', rounds: 4, connectsPerRound: 20 }],
        ours: [{ scenario: 'server-start', rounds: 10, connectsPerRound: 2 }, { scenario: 'running', rounds: 2, connectsPerRound: 10 }],
        oursControl: [{ scenario: 'server-start', rounds: 10, connectsPerRound: 2 }, { scenario: 'running', rounds: 2, connectsPerRound: 10 }],
      }
    : {
        raw: [{ scenario: 'server-start', rounds: 150, connectsPerRound: 2 }, { scenario: 'running', rounds: 20, connectsPerRound: 20 }],
        ours: [{ scenario: 'server-start', rounds: 300, connectsPerRound: 2 }, { scenario: 'running', rounds: 20, connectsPerRound: 20 }],
        // The candidate "fewer control connections": our service forced into control mode opens
        // one control client per window (it used to open two). Measured, not assumed.
        oursControl: [{ scenario: 'server-start', rounds: 100, connectsPerRound: 2 }, { scenario: 'running', rounds: 10, connectsPerRound: 20 }],
      };
}

/**
 * Our service as an editor window runs it: started on the address, given a few seconds to reach
 * "ok"; one that does not is reported as "did not connect" (a rejection), which is not a crash.
 */
export async function serviceConnect(address: ServerAddress, connection: 'auto' | 'control' = 'auto'): Promise<Connection> {
  const service = new TmuxService(address, { connection });
  try {
    await service.start();
    await waitFor('service state ok', () => service.state.kind === 'ok', CONNECT_GIVE_UP_MS, 5);
  } catch {
    const state = service.state;
    await service.dispose();
    throw new Error(`did not connect within ${CONNECT_GIVE_UP_MS} ms (state ${state.kind}${'message' in state ? `: ${state.message}` : ''})`);
  }
  return { attached: true, dispose: () => service.dispose() };
}

/**
 * The pids of tmux servers the kernel logged a segfault for, when dmesg may be read here: the
 * crash in the kernel's words, and a check on our own count.
 */
function tmuxSegfaultPids(): number[] | undefined {
  try {
    const log = execFileSync('dmesg', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return [...log.matchAll(/tmux: server\[(\d+)\]: segfault/g)].map((match) => Number(match[1]));
  } catch {
    return undefined;
  }
}

export async function benchCrash(report: Report, options: CrashBenchOptions): Promise<void> {
  const { raw, ours, oursControl } = plans(options.quick);
  const oursLabel = options.oursLabel ?? 'ours (TmuxService)';
  const segfaultsBefore = tmuxSegfaultPids();
  let crashesSeen = 0;
  /**
   * Every round's server, by pid: which client kinds it served and whether we saw it crash. pids
   * wrap around within a run (pid_max is often 32768), so one pid can stand for several servers.
   */
  const rounds = new Map<number, { labels: Set<string>; crashed: boolean }>();

  const measure = async (kind: string, connect: Connector, plan: Plan, target: boolean): Promise<void> => {
    const label = `${kind} × ${plan.connectsPerRound}, ${plan.scenario}`;
    const roundMs: number[] = [];
    const every = Math.max(1, Math.round(plan.rounds / 5));
    let crashes = 0;
    const result = await runCrashRounds({
      ...plan,
      connect,
      onRound: (round) => {
        roundMs.push(round.ms);
        const pid = round.churn.serverPid;
        if (pid !== undefined) {
          const seen = rounds.get(pid) ?? { labels: new Set<string>(), crashed: false };
          seen.labels.add(label);
          seen.crashed ||= round.churn.crashed;
          rounds.set(pid, seen);
        }
        if (round.churn.crashed) {
          crashes++;
          console.log(`   ${label}: round ${round.round + 1} crashed the server — ${round.churn.crashEvidence.join('; ')}`);
        }
        if ((round.round + 1) % every === 0) console.log(`   ${label}: ${round.round + 1}/${plan.rounds} rounds, ${crashes} crashes`);
      },
    });
    crashesSeen += result.crashes;
    const rate = (100 * result.crashes) / result.rounds;
    console.log(`   ${label}: ${result.crashes} crashes / ${result.rounds} rounds (${rate.toFixed(1)}%), ${result.connects} connects, ${(result.ms / 1000).toFixed(1)} s`);
    report.add({
      section: SECTION,
      label: `${label}: ${result.crashes} crashes / ${result.rounds} rounds, ${result.connects} connects`,
      unit: '% rounds',
      value: rate,
      target: target ? '0 crashes' : undefined,
      pass: target ? result.crashes === 0 : undefined,
    });
    report.add({ section: SECTION, label: `${label}: time per round`, unit: 'ms', summary: summarize(roundMs) });
    if (result.failedConnects) {
      report.add({ section: SECTION, label: `${label}: connects that never came up (not crashes)`, unit: 'count', value: result.failedConnects });
      report.note(`crash ${label}: why connects did not come up: ${result.connectErrors.join(' | ')}`);
    }
    const churnErrors = result.churnErrorRounds.flatMap((round) => round.churn.churnErrors);
    if (churnErrors.length) report.note(`crash ${label}: the churn's own errors in ${result.churnErrorRounds.length} rounds (not crashes), first: ${churnErrors[0]}`);
  };

  for (const plan of raw) await measure('raw -C', rawControlConnect, plan, false);
  for (const plan of ours) await measure(oursLabel, options.ours ?? ((address) => serviceConnect(address)), plan, true);
  if (!options.ours) for (const plan of oursControl) await measure('ours forced into control mode', (address) => serviceConnect(address, 'control'), plan, false);

  const segfaultsAfter = tmuxSegfaultPids();
  // The log is a ring: if it wrapped during the phase, the count is lost.
  if (segfaultsBefore && segfaultsAfter && segfaultsAfter.length >= segfaultsBefore.length) {
    const fresh = segfaultsAfter.slice(segfaultsBefore.length);
    const known = fresh.filter((pid) => rounds.has(pid));
    const missed = known.filter((pid) => !rounds.get(pid)!.crashed);
    report.add({ section: SECTION, label: `kernel log: segfaults of this phase's servers (crashes counted: ${crashesSeen})`, unit: 'count', value: known.length });
    // A server that crashed before it could tell its pid is ours but unnamed; other tmux servers
    // on the machine (another test run) land here too.
    report.add({ section: SECTION, label: 'kernel log: other tmux segfaults meanwhile (pid unknown to the rounds, or not ours)', unit: 'count', value: fresh.length - known.length });
    report.add({ section: SECTION, label: 'kernel log: segfaults of rounds the harness did not count as crashed', unit: 'count', value: missed.length, target: '0', pass: missed.length === 0 });
    if (missed.length) report.note(`crash: segfaults the harness missed: ${missed.map((pid) => `${[...rounds.get(pid)!.labels].join(' or ')} (pid ${pid})`).join(', ')}`);
  } else {
    report.note('crash: the kernel log (dmesg) is not readable here (or wrapped), so crashes are counted from the server process alone.');
  }
  report.note(
    'crash: a crash is the round\'s server process gone (or tmux telling the churn "server exited unexpectedly") before the churn ended; ' +
      'nothing else kills it, and an anchor session the churn never kills keeps it from exiting on its own.',
  );
}
