import * as fs from 'node:fs';
import { sampleOnce, MetricsSample } from '../src/core/metrics/sample';
import { countPanes } from '../src/tmux/model';
import { TmuxService } from '../src/tmux/service';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { msSince, now, sleep, summarize, waitFor } from './stats';

export const SECTION = '13. metrics sampling (600 panes)';

/**
 * One metrics sample of every pane on a 600-pane private server: wall time and this process's CPU
 * per sample, with and without disk I/O, against the floor of reading every /proc/<pid>/stat once
 * (what any whole-machine scan must do) and against the `ps` path macOS uses.
 */
export async function benchMetrics(report: Report, options: { rounds: number; panes: { sessions: number; windows: number; panes: number } }): Promise<void> {
  const server = new PrivateServer();
  let service: TmuxService | undefined;
  try {
    const { sessions, windows, panes } = options.panes;
    const total = sessions * windows * panes;
    await server.build(sessions, windows, panes);
    await waitFor(`${total} panes`, async () => (await server.paneCount()) === total, 30_000, 50);
    service = new TmuxService(server.address, { watchPrograms: false });
    const s = service;
    await s.start();
    await waitFor(`${total} panes in the tree`, () => s.state.kind === 'ok' && countPanes(s.tree) === total, 30_000);
    const processes = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
    console.log(`   ${total} panes, ${processes} processes on the machine`);

    const measure = async (label: string, take: (previous?: MetricsSample) => Promise<MetricsSample | void>, target?: { ms: number }) => {
      const wall: number[] = [];
      const cpu: number[] = [];
      let previous: MetricsSample | undefined;
      for (let i = 0; i < options.rounds + 3; i++) {
        const cpuBefore = process.cpuUsage();
        const start = now();
        const sample = await take(previous);
        const ms = msSince(start);
        const used = process.cpuUsage(cpuBefore);
        if (sample) previous = sample;
        if (i >= 3) {
          wall.push(ms);
          cpu.push((used.user + used.system) / 1000);
        }
        await sleep(50);
      }
      const summary = summarize(wall);
      report.add({ section: SECTION, label: `${label}: time per sample`, unit: 'ms', summary, target: target ? `≤ ${target.ms} ms` : undefined, pass: target ? summary.median <= target.ms : undefined });
      report.add({ section: SECTION, label: `${label}: CPU of this process per sample`, unit: 'ms', summary: summarize(cpu) });
      return previous;
    };

    const buffer = Buffer.allocUnsafe(4096);
    await measure('floor: readdir /proc + open, read, close every /proc/<pid>/stat once (no parsing)', async () => {
      for (const name of fs.readdirSync('/proc')) {
        if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
        try {
          const fd = fs.openSync(`/proc/${name}/stat`, 'r');
          fs.readSync(fd, buffer, 0, buffer.length, 0);
          fs.closeSync(fd);
        } catch {
          // exited meanwhile
        }
      }
    });
    const last = await measure(`sampleOnce, ${total} panes, CPU + RSS + disk I/O`, (previous) => sampleOnce(s.tree, previous), { ms: 20 });
    await measure(`sampleOnce, ${total} panes, CPU + RSS only (no /proc/<pid>/io)`, (previous) => sampleOnce(s.tree, previous, { io: false }), { ms: 20 });
    await measure(`sampleOnce through one ps call (the macOS path), ${total} panes`, (previous) => sampleOnce(s.tree, previous, { source: 'ps' }));
    const rows = last?.panes ?? [];
    const withCpu = rows.filter((row) => row.cpuPercent !== undefined).length;
    report.add({ section: SECTION, label: 'panes with a process tree and CPU% in the last sample', unit: 'count', value: rows.filter((row) => row.processes > 0 && row.cpuPercent !== undefined).length });
    report.note(`metrics: ${processes} processes on the machine during the run; ${withCpu} of ${rows.length} panes had a CPU% (all but a first sample should).`);
    report.note('metrics: the per-sample floor reads every process once; a sample adds /proc/<pid>/io for the panes\' processes, the parent→children map and the per-pane sums.');
  } finally {
    if (service) await service.dispose();
    server.kill();
  }
}
