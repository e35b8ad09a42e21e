import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { execa } from 'execa';

/**
 * What one reading of the machine's process list says about each process: enough to sum a pane's
 * whole process tree (CPU time, resident memory, disk I/O) and to tell a reused pid from the same
 * process seen again.
 */
export interface ProcessUsage {
  readonly pid: number;
  readonly ppid: number;
  /** When the process started, in the source's own units; with `pid` it names one process for its life. */
  readonly start: number;
  /** CPU time the process itself used (user + system), in ms. */
  readonly cpuMs: number;
  /**
   * CPU time of its children that ended and were waited for (cutime + cstime), in ms. Lets a
   * sample count the work of a process that started and ended between two samples (a compiler
   * run by make). 0 where the source does not say (ps).
   */
  readonly reapedCpuMs: number;
  readonly rssBytes: number;
  /**
   * Bytes read from / written to storage, including children waited for (Linux counts those in
   * the parent's `/proc/<pid>/io`). Undefined when the file cannot be read (another user's
   * process) or the source has none (ps).
   */
  readonly readBytes?: number;
  readonly writeBytes?: number;
}

export interface ProcessTable {
  /** `/proc` on Linux; `ps` elsewhere (macOS), which gives no I/O and no time of ended children. */
  readonly source: 'proc' | 'ps';
  readonly processes: ReadonlyMap<number, ProcessUsage>;
  /** Monotonic clock (ms) when the reading was taken: rates divide by the gap between two. */
  readonly monotonicMs: number;
}

export interface ReadTableOptions {
  /**
   * Read `/proc/<pid>/io` for these pids only (a pane's tree), not for every process on the
   * machine: the I/O file is the costly half of a scan. Undefined: no I/O at all.
   */
  readonly ioFor?: (table: ReadonlyMap<number, ProcessUsage>) => Iterable<number>;
  /** Force a source (tests run the `ps` path on Linux too). Default: `/proc` when it exists. */
  readonly source?: 'proc' | 'ps';
}

let procUnits: { pageBytes: number; ticksPerSecond: number } | undefined;

/** Page size and clock ticks, asked once: they never change while the machine runs. */
function units(): { pageBytes: number; ticksPerSecond: number } {
  if (!procUnits) {
    const ask = (name: string, fallback: number) => {
      try {
        return Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim()) || fallback;
      } catch {
        return fallback;
      }
    };
    procUnits = { pageBytes: ask('PAGESIZE', 4096), ticksPerSecond: ask('CLK_TCK', 100) };
  }
  return procUnits;
}

export function hasProc(): boolean {
  return fs.existsSync('/proc/self/stat');
}

/**
 * Reads every process once: one `readdir` of `/proc` and one read of each `/proc/<pid>/stat`
 * (synchronous, into one reused buffer: the async API would cost a thread-pool round trip per
 * file, several times the read itself, and this finishes in milliseconds), or one `ps` call.
 */
export async function readProcessTable(options: ReadTableOptions = {}): Promise<ProcessTable> {
  const source = options.source ?? (hasProc() ? 'proc' : 'ps');
  if (source === 'ps') return readWithPs();
  const processes = readProcStats();
  if (options.ioFor) addIo(processes, options.ioFor(processes));
  return { source: 'proc', processes, monotonicMs: performance.now() };
}

const buffer = Buffer.allocUnsafe(4096);

/** The file's first 4 KB as latin1 text (a stat line is far shorter), or undefined when it is gone or unreadable. */
function readSmall(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('latin1', 0, length);
  } catch {
    return undefined; // EACCES on read (io of another user's process), or ESRCH: it exited meanwhile.
  } finally {
    fs.closeSync(fd);
  }
}

function readProcStats(): Map<number, ProcessUsage> {
  const { pageBytes, ticksPerSecond } = units();
  const msPerTick = 1000 / ticksPerSecond;
  const processes = new Map<number, ProcessUsage>();
  for (const name of fs.readdirSync('/proc')) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid folder
    const text = readSmall(`/proc/${name}/stat`);
    if (text === undefined) continue; // exited between readdir and open
    const usage = parseProcStat(text, msPerTick, pageBytes);
    if (usage) processes.set(usage.pid, usage);
  }
  return processes;
}

/**
 * One `/proc/<pid>/stat` line (proc(5)). The command name sits in parentheses and may itself hold
 * spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string, msPerTick: number, pageBytes: number): ProcessUsage | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = parseInt(text, 10);
  // After ") ": state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17) … starttime(22) vsize(23) rss(24).
  // Fields are picked out by walking the spaces: splitting all 50 of them into strings costs
  // more than the read itself when done for every process on the machine each sample.
  const wanted = [1, 11, 12, 13, 14, 19, 21]; // field numbers minus 3
  const values: number[] = [];
  let field = 0;
  let start = close + 2;
  for (let i = start; i <= text.length && values.length < wanted.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 32) continue;
    if (field === wanted[values.length]) values.push(Number(text.slice(start, i)));
    field++;
    start = i + 1;
  }
  if (values.length < wanted.length || !Number.isFinite(pid)) return undefined;
  const [ppid, utime, stime, cutime, cstime, starttime, rss] = values;
  return { pid, ppid, start: starttime, cpuMs: (utime + stime) * msPerTick, reapedCpuMs: (cutime + cstime) * msPerTick, rssBytes: rss * pageBytes };
}

function addIo(processes: Map<number, ProcessUsage>, pids: Iterable<number>): void {
  for (const pid of pids) {
    const usage = processes.get(pid);
    if (!usage) continue;
    const text = readSmall(`/proc/${pid}/io`);
    if (text === undefined) continue; // not ours to read: I/O stays unknown, which is not an error
    const io = parseProcIo(text);
    // In place: the caller has already walked the panes' trees over these very objects.
    if (io) Object.assign(usage as { readBytes?: number; writeBytes?: number }, io);
  }
}

/** `read_bytes` and `write_bytes` of a `/proc/<pid>/io` file: what reached storage, not pipes or terminals. */
export function parseProcIo(text: string): { readBytes: number; writeBytes: number } | undefined {
  const read = /^read_bytes:\s*(\d+)/m.exec(text);
  const write = /^write_bytes:\s*(\d+)/m.exec(text);
  if (!read || !write) return undefined;
  return { readBytes: Number(read[1]), writeBytes: Number(write[1]) };
}

async function readWithPs(): Promise<ProcessTable> {
  // No start time: ps has none in one field on both systems (`lstart` is several words). A reused
  // pid is caught instead by its CPU time going backwards (see the sample's per-process delta).
  const { stdout } = await execa('ps', ['-A', '-o', 'pid=,ppid=,rss=,time='], { timeout: 5000 });
  return { source: 'ps', processes: parsePsOutput(stdout), monotonicMs: performance.now() };
}

/** `ps -A -o pid=,ppid=,rss=,time=` output: rss in KiB; time as `[[dd-]hh:]mm:ss[.cc]`. */
export function parsePsOutput(stdout: string): Map<number, ProcessUsage> {
  const processes = new Map<number, ProcessUsage>();
  for (const line of stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!match) continue;
    const cpuMs = parseCpuTime(match[4]);
    if (cpuMs === undefined) continue;
    const pid = Number(match[1]);
    const ppid = Number(match[2]);
    processes.set(pid, { pid, ppid, start: 0, cpuMs, reapedCpuMs: 0, rssBytes: Number(match[3]) * 1024 });
  }
  return processes;
}

/** `1-02:03:04`, `02:03:04`, `3:04.56` (macOS: minutes:seconds.hundredths) → ms. */
export function parseCpuTime(text: string): number | undefined {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(text);
  if (!match) return undefined;
  const [, days, hours, minutes, seconds] = match;
  return Math.round((((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000);
}
