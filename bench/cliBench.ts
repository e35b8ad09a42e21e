import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { formatString } from '../src/tmux/format';
import { PANE_ROW } from '../src/tmux/snapshot';
import { PrivateServer } from './privateServer';
import { fmt, Report } from './report';
import { msSince, now, summarize } from './stats';

export const SECTION = '14. cli: `ls --json` at 600 panes against node startup + one tmux call';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

/** One process from spawn to exit, in ms; it must succeed. */
function timed(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = now();
    execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      const ms = msSince(start);
      if (error) reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${String(stderr).trim() || error.message}`));
      else resolve(ms);
    });
  });
}

function p95(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
}

/**
 * The command-line tool's `ls --json` against what any tool must pay: starting Node (`node -e 0`)
 * plus one `tmux list-panes -a` with the same fields, spawned directly. The three run in turn in
 * every round, so load on the machine falls on each alike. The bundle measured is the one users
 * get (`node esbuild.js --production`, built first).
 */
export async function benchCli(report: Report, options: { quick: boolean }): Promise<void> {
  execFileSync(process.execPath, ['esbuild.js', '--production'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const server = new PrivateServer();
  try {
    await server.build(100, 3, 2);
    await server.adopt();
    const panes = await server.paneCount();
    const env = server.env;
    const cli = ['--no-warnings', CLI, '-S', server.socketPath, 'ls', '--json'];
    const tmux = server.argv(['list-panes', '-a', '-F', formatString(PANE_ROW)]);
    const rounds = options.quick ? 8 : 40;
    const floor: number[] = [];
    const direct: number[] = [];
    const ours: number[] = [];
    const version: number[] = [];
    // Warm the file cache and tmux before counting.
    await timed(process.execPath, cli, env);
    for (let i = 0; i < rounds; i++) {
      floor.push(await timed(process.execPath, ['-e', '0'], env));
      direct.push(await timed('tmux', tmux, env));
      ours.push(await timed(process.execPath, cli, env));
      version.push(await timed(process.execPath, [CLI, '--version'], env));
    }
    const floorMs = summarize(floor).median;
    const directMs = summarize(direct).median;
    const oursMs = summarize(ours).median;
    const ratio = oursMs / (floorMs + directMs);
    report.add({ section: SECTION, label: 'node -e 0 (node startup floor)', unit: 'ms', summary: summarize(floor) });
    report.add({ section: SECTION, label: `tmux list-panes -a, ${panes} panes, spawned directly`, unit: 'ms', summary: summarize(direct) });
    report.add({ section: SECTION, label: 'tmux-session-manager --version (our startup alone)', unit: 'ms', summary: summarize(version) });
    report.add({ section: SECTION, label: `tmux-session-manager ls --json, ${panes} panes`, unit: 'ms', summary: summarize(ours) });
    report.add({ section: SECTION, label: 'ls --json ÷ (node floor + tmux call), medians', unit: '×', value: ratio, target: '≤ 1.5×', pass: ratio <= 1.5 });
    report.note(
      `cli: p95 node floor ${fmt(p95(floor))} ms, tmux call ${fmt(p95(direct))} ms, --version ${fmt(p95(version))} ms, ls --json ${fmt(p95(ours))} ms (${rounds} rounds, taken in turn).`,
    );
    console.log(`   medians: node ${fmt(floorMs)} ms, tmux ${fmt(directMs)} ms, --version ${fmt(summarize(version).median)} ms, ls --json ${fmt(oursMs)} ms → ${fmt(ratio)}× (target ≤ 1.5×)`);
  } finally {
    server.kill();
  }
}
