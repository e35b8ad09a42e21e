import * as fs from 'node:fs';
import { execa } from 'execa';

/** One process as `ps` reports it. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Process group: a shell puts each job it runs in a group of its own. */
  readonly pgid: number;
  /** The foreground process group of the process's terminal (-1 or 0 without one). */
  readonly tpgid: number;
  readonly command: string;
}

/** Every process on the machine, from one `ps` call (Linux and macOS alike). */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const { stdout } = await execa('ps', ['-A', '-o', 'pid=,ppid=,pgid=,tpgid=,comm='], { timeout: 5000 });
  const processes: ProcessInfo[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(.*)$/.exec(line);
    if (match) processes.push({ pid: Number(match[1]), ppid: Number(match[2]), pgid: Number(match[3]), tpgid: Number(match[4]), command: match[5].trim() });
  }
  return processes;
}

/** `root` and all its descendants, parents before children. */
export function processTree(processes: readonly ProcessInfo[], root: number): ProcessInfo[] {
  const self = processes.find((info) => info.pid === root);
  return self ? subtree(childrenByParent(processes), self) : [];
}

/**
 * Each process's children, keyed by parent pid. Built once per reading of the process list, so
 * that the trees of many roots (every pane) cost one pass, not one pass per root.
 */
export function childrenByParent<T extends { readonly pid: number; readonly ppid: number }>(processes: Iterable<T>): Map<number, T[]> {
  const children = new Map<number, T[]>();
  for (const info of processes) {
    const list = children.get(info.ppid);
    if (list) list.push(info);
    else children.set(info.ppid, [info]);
  }
  return children;
}

/** `root` and its descendants through `children`, parents before children. */
export function subtree<T extends { readonly pid: number }>(children: ReadonlyMap<number, readonly T[]>, root: T): T[] {
  const result = [root];
  // A pid can only be its own ancestor in a list read while processes came and went; stop there.
  const seen = new Set([root.pid]);
  for (let i = 0; i < result.length; i++) {
    for (const child of children.get(result[i].pid) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      result.push(child);
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

/**
 * The program in the foreground of a pane whose first process is `panePid`: the leader of the
 * terminal's foreground process group when that is not the pane's own shell. Undefined at a shell
 * prompt. A pane started with a program instead of a shell is that program.
 */
export function foregroundProgram(processes: readonly ProcessInfo[], panePid: number): ProcessInfo | undefined {
  const root = processes.find((info) => info.pid === panePid);
  if (!root) return undefined;
  const foregroundGroup = root.tpgid;
  if (foregroundGroup <= 0 || foregroundGroup === root.pgid) return isShell(root.command) ? undefined : root;
  const tree = processTree(processes, panePid);
  const leader = tree.find((info) => info.pid === foregroundGroup) ?? tree.find((info) => info.pgid === foregroundGroup);
  if (!leader || isShell(leader.command)) return isShell(root.command) ? undefined : root;
  return leader;
}

/**
 * A process's exact argument vector: `/proc/<pid>/cmdline` on Linux; elsewhere `ps -o args`,
 * split on spaces (arguments with spaces cannot be told apart there).
 */
export async function readArgv(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await fs.promises.readFile(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.split('\u0000');
    if (argv[argv.length - 1] === '') argv.pop();
    if (argv.length > 0) return argv;
  } catch {
    // No /proc: ask ps.
  }
  try {
    const { stdout } = await execa('ps', ['-o', 'args=', '-p', String(pid)], { timeout: 5000 });
    const line = stdout.trim();
    return line ? line.split(/\s+/) : undefined;
  } catch {
    return undefined; // It exited meanwhile.
  }
}
