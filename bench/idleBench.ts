import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { TmuxService } from '../src/tmux/service';
import { ControlTraffic, CountingLog, countTimers } from './counters';
import { Report } from './report';
import { sleep } from './stats';

export const SECTION = '4. idle (nothing changes)';

let ticksPerSecond: number | undefined;

/** CPU time (user + system) a process has used, in ms, from /proc; undefined where unavailable. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** Active handles/requests by kind (e.g. Timeout, ChildProcess, PipeWrap), for the notes. */
function activeResources(): string {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind}×${n}`).join(', ');
}

/**
 * Waits until nothing moves (no line either way, no snapshot, no spawn) for `quietMs`, then
 * watches for `windowMs` with the timer functions wrapped.
 */
export async function benchIdle(service: TmuxService, serverPid: number | undefined, traffic: ControlTraffic, log: CountingLog, report: Report, windowMs = 10_000): Promise<void> {
  const reading = () => ({
    commands: service.getStats().commandsSent,
    snapshots: service.getStats().snapshots,
    written: traffic.linesWritten,
    read: traffic.linesRead,
    spawned: log.spawned,
  });
  const quietMs = 1500;
  let last = JSON.stringify(reading());
  let since = Date.now();
  const settleStart = Date.now();
  while (Date.now() - since < quietMs && Date.now() - settleStart < 15_000) {
    await sleep(50);
    const current = JSON.stringify(reading());
    if (current !== last) {
      last = current;
      since = Date.now();
    }
  }

  let outputs = 0;
  let trees = 0;
  const outputSub = service.onOutput(() => outputs++);
  const treeSub = service.onDidChangeTree(() => trees++);
  const before = reading();
  const resourcesBefore = activeResources();
  const serverCpuBefore = cpuMs(serverPid);
  const ownCpuBefore = process.cpuUsage();
  const timers = countTimers();
  try {
    await sleep(windowMs);
  } finally {
    timers.stop();
    outputSub.dispose();
    treeSub.dispose();
  }
  const after = reading();
  const serverCpuAfter = cpuMs(serverPid);
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const seconds = windowMs / 1000;
  const add = (label: string, value: number, target?: string) =>
    report.add({ section: SECTION, label: `${label} in ${seconds} s`, unit: 'count', value, target, pass: target ? value === 0 : undefined });

  add('tmux commands sent (getStats().commandsSent Δ)', after.commands - before.commands, '0');
  if (traffic.installed) {
    add('lines written to the control client', after.written - before.written, '0');
    add('lines read from the control client', after.read - before.read);
  } else {
    report.add({ section: SECTION, label: 'lines written to the control client', unit: 'count', text: 'n/a' });
    report.note('idle: ControlClient has no private send/line any more; control traffic was not counted.');
  }
  add('tmux processes spawned', after.spawned - before.spawned);
  add('snapshots taken', after.snapshots - before.snapshots);
  add('tree change events', trees);
  add('pane output events', outputs);
  add('timer callbacks run', timers.counts.fired, '0');
  report.add({ section: SECTION, label: `CPU of this Node process (bench included) in ${seconds} s`, unit: 'ms', value: (ownCpu.user + ownCpu.system) / 1000 });
  if (serverCpuBefore !== undefined && serverCpuAfter !== undefined) {
    report.add({ section: SECTION, label: `CPU of the tmux server, our client connected, in ${seconds} s`, unit: 'ms', value: serverCpuAfter - serverCpuBefore });
  }
  if (timers.counts.created) {
    const origins = [...timers.counts.origins].map(([where, n]) => `${n}× ${where}`).join('; ');
    report.note(`idle: ${timers.counts.created} timers were created during the window: ${origins}`);
  }
  report.note(`idle: active resources at the start of the window: ${resourcesBefore || 'none'}.`);
}
