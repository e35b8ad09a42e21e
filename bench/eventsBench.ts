import { findById, Tree } from '../src/tmux/model';
import { TmuxService } from '../src/tmux/service';
import { ControlTraffic, CountingLog } from './counters';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { msSince, now, seededRandom, sleep, summarize, waitFor } from './stats';

const SECTION = '2. external change → model updated';

/** Waits until the service has taken no snapshot for `quietMs` (bounded). */
export async function settle(service: TmuxService, quietMs = 40, maxMs = 5000): Promise<void> {
  const start = Date.now();
  let last = service.getStats().snapshots;
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() - start < maxMs) {
    await sleep(5);
    const current = service.getStats().snapshots;
    if (current !== last) {
      last = current;
      since = Date.now();
    }
  }
}

/** Resolves with the time the first tree matching `predicate` arrives through onDidChangeTree. */
export function whenTree(service: TmuxService, predicate: (tree: Tree) => boolean, timeoutMs: number): { promise: Promise<bigint>; cancel: () => void } {
  let cancel: () => void = () => undefined;
  const promise = new Promise<bigint>((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`no matching tree within ${timeoutMs} ms`));
    }, timeoutMs);
    const subscription = service.onDidChangeTree((tree) => {
      if (!predicate(tree)) return;
      const at = now();
      clearTimeout(timer);
      subscription.dispose();
      resolve(at);
    });
    cancel = () => {
      clearTimeout(timer);
      subscription.dispose();
    };
  });
  return { promise, cancel };
}

/** Registers a one-shot watcher for the signal that tells the service about a change. */
type SignalWatch = () => { readonly at: () => bigint | undefined; readonly stop: () => void };

interface Trial {
  /** When the service was told (control-mode notification or hook), for the breakdown. */
  readonly signal: SignalWatch;
  /** Makes the change in a separate tmux process; returns what to clean up. */
  readonly change: (i: number) => Promise<string>;
  /** True once the tree shows the change. */
  readonly shows: (tree: Tree, i: number) => boolean;
  /** Undoes it (a separate process too); resolves false if the tree does not show that in time. */
  readonly undo: (created: string) => Promise<boolean>;
}

/** How long a change may take to show before the trial counts it as missed. */
const MISS_AFTER_MS = 2000;

interface Outcome {
  readonly fromSpawn: number[];
  readonly fromReturn: number[];
  /** How long the spawned tmux took to make the change and exit. */
  readonly spawnTook: number[];
  /** From the signal reaching us to the tree showing the change: the service's own part. */
  readonly fromSignal: number[];
  /** Trials where the model was updated before the spawned tmux had exited. */
  readonly ahead: number;
  /** Changes (the measured one or its undo) the model did not show within MISS_AFTER_MS. */
  readonly missed: string[];
  readonly failures: string[];
}

async function measure(service: TmuxService, trial: Trial, trials: number, warmup: number): Promise<Outcome> {
  const fromSpawn: number[] = [];
  const fromReturn: number[] = [];
  const spawnTook: number[] = [];
  const fromSignal: number[] = [];
  const missed: string[] = [];
  const failures: string[] = [];
  let ahead = 0;
  for (let i = 0; i < warmup + trials; i++) {
    await settle(service);
    const seen = whenTree(service, (tree) => trial.shows(tree, i), MISS_AFTER_MS);
    const signal = trial.signal();
    const start = now();
    let created: string;
    try {
      created = await trial.change(i);
    } catch (error) {
      seen.cancel();
      signal.stop();
      failures.push(String((error as Error).message));
      continue;
    }
    const returned = now();
    try {
      const at = await seen.promise;
      if (i >= warmup) {
        fromSpawn.push(msSince(start, at));
        spawnTook.push(msSince(start, returned));
        const signalledAt = signal.at();
        if (signalledAt !== undefined && signalledAt <= at) fromSignal.push(msSince(signalledAt, at));
        // Negative when the model was updated before the spawned tmux process had even exited.
        const afterReturn = msSince(returned, at);
        if (afterReturn < 0) ahead++;
        fromReturn.push(Math.max(0, afterReturn));
      }
    } catch {
      missed.push(`trial ${i}: the change itself (${created})`);
      await service.refresh(); // resynchronise, so the next trials measure from a true model
    }
    signal.stop();
    if (!(await trial.undo(created))) {
      missed.push(`trial ${i}: its undo (${created} removed)`);
      await service.refresh();
    }
  }
  return { fromSpawn, fromReturn, spawnTook, fromSignal, ahead, missed, failures };
}

export async function benchEvents(
  server: PrivateServer,
  service: TmuxService,
  attachedSessionId: string,
  traffic: ControlTraffic,
  log: CountingLog,
  report: Report,
  trials = 30,
): Promise<void> {
  /** The first event matching `test` after the watch starts. */
  const watch = (subscribe: (listener: ((text: string) => void) | undefined) => void, test: (text: string) => boolean): SignalWatch => () => {
    let at: bigint | undefined;
    subscribe((text) => {
      if (at === undefined && test(text)) at = now();
    });
    return { at: () => at, stop: () => subscribe(undefined) };
  };
  const notified = watch((l) => (traffic.onNotificationLine = l), (text) => /^%(unlinked-)?window-add /.test(text));
  const hooked = watch((l) => (log.onTrace = l), (text) => text.startsWith('change hook fired'));
  const random = seededRandom(0x7e57);
  const sessions = service.tree.sessions.map((s) => s.id);
  const others = sessions.filter((id) => id !== attachedSessionId);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const gone = (id: string) => waitFor(`${id} gone from the tree`, () => !findById(service.tree, id), MISS_AFTER_MS).then(() => true, () => false);

  // new-window -d in a random session: control mode itself reports it (%window-add or
  // %unlinked-window-add reach every control client).
  const windowTargets: string[] = [];
  const newWindow: Trial = {
    signal: notified,
    change: async (i) => {
      windowTargets[i] = pick(sessions);
      return (await server.tmux('new-window', '-d', '-t', `${windowTargets[i]}:`, '-n', `bench${i}`, '-P', '-F', '#{window_id}')).trim();
    },
    shows: (tree, i) => !!tree.sessions.find((s) => s.id === windowTargets[i])?.windows.some((w) => w.name === `bench${i}`),
    undo: async (windowId) => {
      await server.tmux('kill-window', '-t', windowId);
      return gone(windowId);
    },
  };

  // split-window -d in a session the control client is not attached to: control mode says
  // nothing there, so this goes through the service's hooks (wait-for channel).
  const splitTargets: { windowId: string; panes: number }[] = [];
  const split: Trial = {
    signal: hooked,
    change: async (i) => {
      const session = findById(service.tree, pick(others));
      if (!session || session.kind !== 'session') throw new Error('session vanished');
      const window = pick(session.windows);
      splitTargets[i] = { windowId: window.id, panes: window.panes.length };
      return (await server.tmux('split-window', '-d', '-t', window.id, '-P', '-F', '#{pane_id}')).trim();
    },
    shows: (tree, i) => {
      const window = findById(tree, splitTargets[i].windowId);
      return window?.kind === 'window' && window.panes.length > splitTargets[i].panes;
    },
    undo: async (paneId) => {
      await server.tmux('kill-pane', '-t', paneId);
      return gone(paneId);
    },
  };

  for (const [label, trial] of [
    ['new-window -d, random session (notification)', newWindow],
    ['split-window -d, unattached session (hooks)', split],
  ] as const) {
    const result = await measure(service, trial, trials, 3);
    const fromSpawn = summarize(result.fromSpawn);
    report.add({
      section: SECTION,
      label: `${label}: spawn → tree`,
      unit: 'ms',
      summary: fromSpawn,
      target: '≤ 30 ms',
      pass: result.failures.length === 0 && fromSpawn.median <= 30,
    });
    report.add({
      section: SECTION,
      label: `  changes never shown within ${MISS_AFTER_MS / 1000} s (incl. undos)`,
      unit: 'count',
      value: result.missed.length,
      target: '0',
      pass: result.missed.length === 0,
    });
    if (result.missed.length) report.note(`${label}: the model missed ${result.missed.join('; ')}.`);
    report.add({ section: SECTION, label: "  spawned tmux's exit → tree", unit: 'ms', summary: summarize(result.fromReturn) });
    report.add({ section: SECTION, label: '  the spawned tmux itself (spawn → exit)', unit: 'ms', summary: summarize(result.spawnTook) });
    report.add({ section: SECTION, label: '  signal reaches the service → tree (our share)', unit: 'ms', summary: summarize(result.fromSignal) });
    report.note(`${label}: the model was already updated before the spawned tmux exited in ${result.ahead} of ${result.fromReturn.length} trials (counted as 0 ms after exit).`);
    for (const failure of result.failures) report.note(`${label}: FAILED trial: ${failure}`);
  }
}

/**
 * The spawned commands alone, timed with no client of ours connected: what the "from spawn"
 * latencies cannot go below, and how much our snapshots delay the user's own commands.
 */
export async function benchSpawnAlone(server: PrivateServer, sessionIds: readonly string[], report: Report, trials = 15): Promise<void> {
  const random = seededRandom(0x5a10);
  const windows: number[] = [];
  const splits: number[] = [];
  for (let i = 0; i < trials + 2; i++) {
    const session = sessionIds[Math.floor(random() * sessionIds.length)];
    let start = now();
    const windowId = (await server.tmux('new-window', '-d', '-t', `${session}:`, '-n', `alone${i}`, '-P', '-F', '#{window_id}')).trim();
    if (i >= 2) windows.push(msSince(start));
    await server.tmux('kill-window', '-t', windowId);
    start = now();
    const paneId = (await server.tmux('split-window', '-d', '-t', `${session}:0`, '-P', '-F', '#{pane_id}')).trim();
    if (i >= 2) splits.push(msSince(start));
    await server.tmux('kill-pane', '-t', paneId);
    await sleep(20);
  }
  report.add({ section: SECTION, label: 'spawned new-window -d (spawn → exit), no client of ours', unit: 'ms', summary: summarize(windows) });
  report.add({ section: SECTION, label: 'spawned split-window -d (spawn → exit), no client of ours', unit: 'ms', summary: summarize(splits) });
}
