/**
 * Run as its own process by run.ts: `node --expose-gc out/bench/memoryChild.js SOCKET PANES`.
 * Measures the heap and RSS of a plain Node process before and after it holds a connected
 * TmuxService with the whole tree (a proxy for the extension host, which is also Node). Prints
 * one JSON line.
 */
import * as fs from 'node:fs';
import { countPanes } from '../src/tmux/model';
import { sleep, waitFor } from './stats';

const MB = 1024 * 1024;

function delta0(from: NodeJS.MemoryUsage, to: NodeJS.MemoryUsage) {
  return { heapUsedMB: (to.heapUsed - from.heapUsed) / MB, rssMB: (to.rss - from.rss) / MB, heapTotalMB: (to.heapTotal - from.heapTotal) / MB };
}

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage();
}

/** Resident memory of another process, from /proc (Linux); undefined elsewhere. */
function rssOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) * 1024) / MB : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const [socketPath, panesText] = process.argv.slice(2);
  const expected = Number(panesText);
  // Let the modules' own start-up garbage go first.
  await sleep(200);
  const bare = collect();
  // Loaded only now, so its code's own cost shows apart from what the service holds.
  const { TmuxService } = require('../src/tmux/service') as typeof import('../src/tmux/service');
  const baseline = collect();
  const service = new TmuxService({ tmuxPath: 'tmux', socketPath });
  try {
    await service.start();
    await waitFor('service ok', () => service.state.kind === 'ok', 15_000);
    await waitFor(`${expected} panes`, () => countPanes(service.tree) === expected, 15_000);
    await sleep(300);
    const held = collect();
    for (let i = 0; i < 20; i++) await service.refresh();
    await sleep(100);
    const afterRefreshes = collect();
    const control = (await service.run(['list-clients', '-F', '#{client_control_mode} #{client_pid}']))
      .map((line) => line.split(' '))
      .filter(([mode]) => mode === '1')
      .map(([, pid]) => Number(pid));
    const controlRss = control.length === 1 ? rssOf(control[0]) : undefined;
    const delta = (m: NodeJS.MemoryUsage) => delta0(baseline, m);
    console.log(
      JSON.stringify({
        baseline: { heapUsedMB: baseline.heapUsed / MB, rssMB: baseline.rss / MB },
        moduleLoad: delta0(bare, baseline),
        held: delta(held),
        afterRefreshes: delta(afterRefreshes),
        panes: countPanes(service.tree),
        controlClientRssMB: controlRss,
      }),
    );
  } finally {
    await service.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(String((error as Error).stack ?? error));
    process.exit(1);
  },
);
