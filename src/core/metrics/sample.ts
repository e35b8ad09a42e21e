import { allPanes, PaneId, SessionId, Tree } from '../../tmux/model';
import { childrenByParent, subtree } from '../processes';
import { ProcessTable, ProcessUsage, readProcessTable } from './processTable';

/**
 * What one pane's whole process tree (the pane's first process and everything below it) uses.
 * The shape is stable: the command-line tool prints it as JSON (`metrics --json`).
 */
export interface PaneMetrics {
  readonly paneId: PaneId;
  readonly sessionId: SessionId;
  readonly sessionName: string;
  /** `session:window.pane` by indexes, as people type it to tmux. */
  readonly target: string;
  /** The pane's foreground program, as tmux names it. */
  readonly program: string;
  /** The pane's first process (tmux's `pane_pid`). */
  readonly pid: number;
  /** Processes in the tree; 0 when the pane's process is gone (a dead pane). */
  readonly processes: number;
  /**
   * CPU used since the previous sample, in percent of one core (a busy single-threaded program
   * shows ~100, two busy threads ~200). Undefined in a first sample: a rate needs two readings.
   */
  readonly cpuPercent?: number;
  readonly rssBytes: number;
  /** Storage bytes per second since the previous sample; undefined in a first sample, on macOS, or when unreadable. */
  readonly readBytesPerSecond?: number;
  readonly writeBytesPerSecond?: number;
}

/** A session's panes summed. */
export interface SessionMetrics {
  readonly sessionId: SessionId;
  readonly sessionName: string;
  readonly panes: number;
  readonly cpuPercent?: number;
  readonly rssBytes: number;
  readonly readBytesPerSecond?: number;
  readonly writeBytesPerSecond?: number;
}

export interface MetricsSample {
  /** Wall clock (ms since the epoch) when the processes were read. */
  readonly takenAt: number;
  /** Seconds since the sample this one was compared with; undefined in a first sample. */
  readonly intervalSeconds?: number;
  readonly source: 'proc' | 'ps';
  readonly panes: readonly PaneMetrics[];
  readonly sessions: readonly SessionMetrics[];
  /** The raw reading, kept for the next sample's deltas. Not part of the JSON shape. */
  readonly table: ProcessTable;
}

export interface SampleOptions {
  /** Read per-process disk I/O (`/proc/<pid>/io`) for the panes' processes. Default true. */
  readonly io?: boolean;
  readonly source?: 'proc' | 'ps';
}

/**
 * Reads every process once and sums each pane's tree. Pass the previous sample to get CPU% and
 * I/O rates (deltas over the wall time between the two); without it those are undefined.
 * One scan serves all panes: the parent→children map is built once and each pane's tree is a walk
 * in it, so 600 panes cost one pass over /proc, not 600.
 */
export async function sampleOnce(tree: Tree, previous?: MetricsSample, options: SampleOptions = {}): Promise<MetricsSample> {
  const panes = allPanes(tree).filter((pane) => pane.pid > 0);
  let children: Map<number, ProcessUsage[]> | undefined;
  const treeOf = new Map<PaneId, ProcessUsage[]>();
  const table = await readProcessTable({
    source: options.source,
    ioFor:
      options.io === false
        ? undefined
        : (processes) => {
            children = childrenByParent(processes.values());
            const pids: number[] = [];
            const then = previous?.table.source === 'proc' ? previous.table.processes : undefined;
            for (const pane of panes) {
              const root = processes.get(pane.pid);
              const members = root ? subtree(children, root) : [];
              treeOf.set(pane.id, members);
              for (const member of members) {
                // A process that has not run since the last sample issued no I/O: its counters
                // are carried over instead of read, which spares most reads on a server of idle
                // shells. Its CPU time moves in 10 ms ticks, so a tiny read can slip past one
                // sample; it is not lost, the next read counts it (the delta is from the last read).
                const old = then?.get(member.pid);
                if (old && old.start === member.start && old.readBytes !== undefined && old.cpuMs === member.cpuMs && old.reapedCpuMs === member.reapedCpuMs) {
                  Object.assign(member as { readBytes?: number; writeBytes?: number }, { readBytes: old.readBytes, writeBytes: old.writeBytes });
                } else {
                  pids.push(member.pid);
                }
              }
            }
            return pids;
          },
  });
  const takenAt = Date.now();
  if (!children) {
    children = childrenByParent(table.processes.values());
    for (const pane of panes) {
      const root = table.processes.get(pane.pid);
      treeOf.set(pane.id, root ? subtree(children, root) : []);
    }
  }
  // A sample from another source (or a clock that went backwards) cannot be compared with.
  const before = previous && previous.table.source === table.source && table.monotonicMs > previous.table.monotonicMs ? previous : undefined;
  const seconds = before ? (table.monotonicMs - before.table.monotonicMs) / 1000 : undefined;
  const previousChildren = before ? childrenByParent(before.table.processes.values()) : undefined;

  const sessionNames = new Map(tree.sessions.map((session) => [session.id, session.name]));
  const windowIndexes = new Map(tree.sessions.flatMap((session) => session.windows.map((window) => [window.id, window.index])));
  const paneRows = panes.map((pane): PaneMetrics => {
    const members = treeOf.get(pane.id) ?? [];
    const rssBytes = members.reduce((sum, usage) => sum + usage.rssBytes, 0);
    const row = {
      paneId: pane.id,
      sessionId: pane.sessionId,
      sessionName: sessionNames.get(pane.sessionId) ?? '',
      target: `${sessionNames.get(pane.sessionId) ?? pane.sessionId}:${windowIndexes.get(pane.windowId) ?? '?'}.${pane.index}`,
      program: pane.currentCommand,
      pid: pane.pid,
      processes: members.length,
      rssBytes,
    };
    if (!before || !seconds || !previousChildren) return row;
    const cpu = usedSince(members, before.table.processes, previousChildren, (usage) => usage.cpuMs + usage.reapedCpuMs, table.source === 'proc');
    const read = usedSince(members, before.table.processes, previousChildren, (usage) => usage.readBytes, true);
    const write = usedSince(members, before.table.processes, previousChildren, (usage) => usage.writeBytes, true);
    return {
      ...row,
      cpuPercent: cpu === undefined ? undefined : (cpu / 1000 / seconds) * 100,
      readBytesPerSecond: read === undefined ? undefined : read / seconds,
      writeBytesPerSecond: write === undefined ? undefined : write / seconds,
    };
  });
  return { takenAt, intervalSeconds: seconds, source: table.source, panes: paneRows, sessions: sumSessions(tree, paneRows), table };
}

/**
 * How much of a cumulative counter (CPU time with reaped children's, or I/O bytes) a tree used
 * between two readings. Per process: now minus then; a process not seen before started since, so
 * all of it counts. A child that ended and was waited for since then shows up in its parent's
 * counter with its whole life's total, part of which an earlier sample already counted: that part
 * (its last reading) is taken off again, so the sum is exact for trees whose processes are reaped
 * by their parents. Undefined when no process of the tree has the counter (I/O not readable).
 */
function usedSince(
  members: readonly ProcessUsage[],
  then: ReadonlyMap<number, ProcessUsage>,
  childrenThen: ReadonlyMap<number, readonly ProcessUsage[]>,
  counter: (usage: ProcessUsage) => number | undefined,
  reapedIncluded: boolean,
): number | undefined {
  let total: number | undefined;
  const present = new Set(members.map((usage) => usage.pid));
  for (const usage of members) {
    const now = counter(usage);
    if (now === undefined) continue;
    const old = then.get(usage.pid);
    const oldValue = old && old.start === usage.start ? counter(old) : undefined;
    // A counter that went backwards is a reused pid (ps gives no start time): a new process.
    let used = oldValue !== undefined && now >= oldValue ? now - oldValue : now;
    if (reapedIncluded && oldValue !== undefined) {
      for (const child of childrenThen.get(usage.pid) ?? []) {
        if (present.has(child.pid)) continue;
        used -= counter(child) ?? 0;
      }
    }
    total = (total ?? 0) + used;
  }
  return total === undefined ? undefined : Math.max(0, total);
}

function sumSessions(tree: Tree, panes: readonly PaneMetrics[]): SessionMetrics[] {
  const add = (a: number | undefined, b: number | undefined) => (b === undefined ? a : (a ?? 0) + b);
  const bySession = new Map<SessionId, PaneMetrics[]>();
  for (const pane of panes) {
    const list = bySession.get(pane.sessionId);
    if (list) list.push(pane);
    else bySession.set(pane.sessionId, [pane]);
  }
  return tree.sessions.map((session) => {
    const own = bySession.get(session.id) ?? [];
    return {
      sessionId: session.id,
      sessionName: session.name,
      panes: own.length,
      cpuPercent: own.reduce<number | undefined>((sum, pane) => add(sum, pane.cpuPercent), undefined),
      rssBytes: own.reduce((sum, pane) => sum + pane.rssBytes, 0),
      readBytesPerSecond: own.reduce<number | undefined>((sum, pane) => add(sum, pane.readBytesPerSecond), undefined),
      writeBytesPerSecond: own.reduce<number | undefined>((sum, pane) => add(sum, pane.writeBytesPerSecond), undefined),
    };
  });
}

/** The sample as the command-line tool prints it: everything but the raw process table. */
export function sampleToJson(sample: MetricsSample): Omit<MetricsSample, 'table'> {
  const { table: _table, ...rest } = sample; // eslint-disable-line @typescript-eslint/no-unused-vars
  return rest;
}

/** Pane rows by id, for lookups from the tree view. */
export function byPane(sample: MetricsSample | undefined): Map<PaneId, PaneMetrics> {
  return new Map((sample?.panes ?? []).map((row) => [row.paneId, row]));
}
