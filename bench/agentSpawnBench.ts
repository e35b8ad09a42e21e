/**
 * Spawning agents: 8 stand-in agents, each in a git worktree and branch of its own, on a
 * repository of 10,000 files, through the AgentFleet (worktrees one at a time, sessions in
 * parallel, records, hooks, supervision) until every agent says it is ready (its SessionStart
 * hook seen). As a peer in the same run: the plain shell loop people write by hand
 * (`git worktree add` then `tmux new-session`, one after the other, with no readiness at all).
 * Also: how long a fleet opened on a server with those 8 agents takes to read them back and plan
 * a clean-up (the reconcile after a crash).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentFleet } from '../src/core/agents/fleet';
import { openAgentFleet } from '../src/core/agents/fleetRuntime';
import { AgentKind, customKind } from '../src/core/agents/kinds';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { msSince, now, summarize, waitFor } from './stats';

export const SECTION = '18. agents: spawn 8 with worktrees on a 10,000-file repository';
const AGENTS = 8;
const FILES = 10_000;
const STANDINS = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'agents');

const GIT_ENV = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

export async function benchAgentSpawn(report: Report, options: { quick: boolean }): Promise<void> {
  const server = new PrivateServer();
  const fleets: AgentFleet[] = [];
  try {
    await server.buildScript(['new-session', '-d', '-s', 'keep', '-x', '200', '-y', '50', 'exec sleep 100000', ';', 'set-option', '-g', 'default-shell', '/bin/sh'], []);
    const env = { ...server.env, ...GIT_ENV };
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const repo = path.join(server.folder, 'repo');
    const buildStart = now();
    makeRepository(repo, git);
    console.log(`   repository of ${FILES} files in ${(msSince(buildStart) / 1000).toFixed(1)} s`);

    // The fleet's git and the stand-ins run with the bench's identity and throwaway HOME.
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const scenario = path.join(server.folder, 'scenario');
      fs.writeFileSync(scenario, 'hook SessionStart\nhang\n');
      const run = `env TSM_AGENT_SCENARIO=${scenario} ${process.execPath} ${path.join(STANDINS, 'standin.js')} claude`;
      const kind: AgentKind = customKind({ name: 'stand-in', command: run, resumeCommand: `${run} --continue`, hooksLike: 'claude' });
      const open = async () => {
        const fleet = await openAgentFleet({ address: server.address, dataFolder: path.join(server.folder, 'data'), customKinds: [kind], supervise: true, kill: { interruptWaitMs: 300, terminateWaitMs: 1000 } });
        fleets.push(fleet);
        return fleet;
      };
      const fleet = await open();
      const rounds = options.quick ? 2 : 5;
      const ready: number[] = [];
      const returned: number[] = [];
      const finished: number[] = [];
      const naive: number[] = [];
      const reconcile: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // Alternating who goes first, so a warm page cache favours neither.
        const order = round % 2 === 0 ? ['fleet', 'naive'] : ['naive', 'fleet'];
        for (const who of order) {
          // Neither side pays for the other's writes: 80,000 files were just made or removed.
          execFileSync('sync');
          if (who === 'naive') {
            naive.push(naiveLoop(server, repo, round, run, env));
            continue;
          }
          const tasks = Array.from({ length: AGENTS }, (_, i) => ({ task: `r${round}-${i}` }));
          const start = now();
          const result = await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks }, process.env.TSM_BENCH_TRACE ? (step) => console.log(`   ${Math.round(msSince(start))} ms ${step.message}`) : undefined);
          returned.push(msSince(start));
          const names = result.agents.map((agent) => agent.session);
          await waitFor(`${AGENTS} agents ready`, () => names.every((name) => fleet.get(name)?.state.state === 'idle'), 60_000, 5);
          ready.push(msSince(start));

          const reconcileStart = now();
          const second = await open();
          await second.planCleanup();
          const seen = second.list().length;
          reconcile.push(msSince(reconcileStart));
          second.dispose();
          if (seen !== AGENTS) throw new Error(`a fleet opened again saw ${seen} agents, not ${AGENTS}`);

          const finishStart = now();
          const outcomes = await Promise.all(names.map((name) => fleet.finish(name, 'removeIfClean')));
          finished.push(msSince(finishStart));
          const kept = outcomes.filter((outcome) => outcome.worktree !== 'removed');
          if (kept.length > 0) throw new Error(`finish kept ${kept.length} worktrees: ${JSON.stringify(kept)}`);
        }
      }
      const readySummary = summarize(ready);
      const naiveSummary = summarize(naive);
      report.add({ section: SECTION, label: `fleet: spawn → all ${AGENTS} ready (SessionStart hook seen)`, unit: 'ms', summary: readySummary });
      report.add({ section: SECTION, label: '  of which spawn() returned (worktrees made, sessions started)', unit: 'ms', summary: summarize(returned) });
      report.add({ section: SECTION, label: `peer: shell loop, git worktree add + tmux new-session × ${AGENTS}, no readiness`, unit: 'ms', summary: naiveSummary });
      report.add({ section: SECTION, label: 'ratio: fleet to all ready / shell loop to all started', unit: '×', value: Math.round((readySummary.median / naiveSummary.median) * 100) / 100 });
      report.add({ section: SECTION, label: `reconcile: a fleet opened on ${AGENTS} agents reads them back and plans a clean-up`, unit: 'ms', summary: summarize(reconcile), target: '< 2000 ms', pass: summarize(reconcile).p90 < 2000 });
      report.add({ section: SECTION, label: `finish ${AGENTS} (graceful kill, worktree and branch removed)`, unit: 'ms', summary: summarize(finished) });
      report.note(`agentspawn: ${rounds} rounds; the shell loop starts the same stand-in in each session but waits for nothing, so its time is a floor (git's own work plus a tmux client each), not a like-for-like.`);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  } finally {
    for (const fleet of fleets) fleet.dispose();
    server.kill();
  }
}

/** 100 folders of 100 small files, one commit. */
function makeRepository(repo: string, git: (cwd: string, ...args: string[]) => string): void {
  fs.mkdirSync(repo, { recursive: true });
  git(repo, 'init', '--quiet', '--initial-branch=main');
  const perFolder = 100;
  for (let folder = 0; folder < FILES / perFolder; folder++) {
    const dir = path.join(repo, 'src', `module${String(folder).padStart(3, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let file = 0; file < perFolder; file++) {
      fs.writeFileSync(path.join(dir, `file${String(file).padStart(3, '0')}.ts`), `export const value${file} = ${folder * perFolder + file};\n`);
    }
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'ten thousand files');
}

/** The hand-written loop: one worktree and one session after the other; then it is undone, untimed. */
function naiveLoop(server: PrivateServer, repo: string, round: number, command: string, env: NodeJS.ProcessEnv): number {
  const base = path.join(path.dirname(repo), 'naive.worktrees');
  const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  const tmux = `tmux -S ${q(server.socketPath)} -f /dev/null`;
  const lines: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const folder = path.join(base, `n${round}-${i}`);
    lines.push(`git -C ${q(repo)} worktree add --quiet -b naive/n${round}-${i} ${q(folder)} main`);
    lines.push(`${tmux} new-session -d -s naive-${round}-${i} -c ${q(folder)} ${q(command)}`);
  }
  const start = now();
  execFileSync('/bin/sh', ['-ec', lines.join('\n')], { env, stdio: 'ignore' });
  const took = msSince(start);
  const undo: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    undo.push(`${tmux} kill-session -t naive-${round}-${i} || true`);
    undo.push(`git -C ${q(repo)} worktree remove --force ${q(path.join(base, `n${round}-${i}`))} || true`);
    undo.push(`git -C ${q(repo)} branch -D naive/n${round}-${i} >/dev/null || true`);
  }
  execFileSync('/bin/sh', ['-c', undo.join('\n')], { env, stdio: 'ignore' });
  return took;
}
