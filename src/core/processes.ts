import * as fs from 'node:fs';
import { execa } from 'execa';

/** One process as `ps` reports it. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly command: string;
}

/** Every process on the machine, from one `ps` call (Linux and macOS alike). */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const { stdout } = await execa('ps', ['-A', '-o', 'pid=,ppid=,comm='], { timeout: 5000 });
  const processes: ProcessInfo[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (match) processes.push({ pid: Number(match[1]), ppid: Number(match[2]), command: match[3].trim() });
  }
  return processes;
}

/** `root` and all its descendants, parents before children. */
export function processTree(processes: readonly ProcessInfo[], root: number): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const info of processes) {
    const list = children.get(info.ppid) ?? [];
    list.push(info);
    children.set(info.ppid, list);
  }
  const self = processes.find((info) => info.pid === root);
  const result: ProcessInfo[] = self ? [self] : [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      result.push(child);
      queue.push(child.pid);
    }
  }
  return result;
}

/** True while the process runs. A zombie (exited, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // No /proc (macOS): kill(0) is all we can know.
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone, which is what we wanted.
  }
}

const SHELLS = new Set(['bash', 'zsh', 'fish', 'sh', 'dash', 'ksh', 'mksh', 'tcsh', 'csh', 'nu', 'pwsh', 'xonsh', 'elvish']);

/** An interactive shell ignores SIGTERM; closing its terminal (SIGHUP) is how it ends. */
export function isShell(command: string): boolean {
  return SHELLS.has(command.replace(/^-/, '').split('/').pop() ?? '');
}
