/**
 * Automation: how fast a wait for a pattern sees new output, against the loop scripts write today
 * (capture-pane every 100 ms, then search), and how fast a followed pane's output arrives, against
 * pipe-pane into a file as the floor. Each on a private server of its own.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openPaneOutput } from '../src/core/output/paneOutput';
import { waitForOutput } from '../src/core/output/waitFor';
import { runTmux } from '../src/tmux/exec';
import { PaneId } from '../src/tmux/model';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { msSince, now, sleep, summarize, waitFor } from './stats';

export const WAIT_SECTION = '11. output → wait-for match, vs a 100 ms capture-pane poll';
export const FOLLOW_SECTION = '12. follow throughput: a pane printing as fast as it can';

const POLL_MS = 100;

/** A pane that prints `mark-<n>` each time <n> is written into its FIFO: the moment of the print is the write. */
async function markPane(server: PrivateServer, session: string): Promise<{ pane: PaneId; trigger: (n: number) => void }> {
  const fifo = path.join(server.folder, `${session}.fifo`);
  spawnSyncOk('mkfifo', [fifo]);
  const pane = (await server.tmux('new-session', '-d', '-P', '-F', '#{pane_id}', '-s', session, '-x', '120', '-y', '40', `sh -c 'while :; do read n < ${fifo}; echo "mark-$n"; done'`)).trim() as PaneId;
  return { pane, trigger: (n) => fs.writeFileSync(fifo, `${n}\n`) };
}

function spawnSyncOk(command: string, args: string[]): void {
  const { status } = require('node:child_process').spawnSync(command, args, { stdio: 'ignore' }) as { status: number };
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} failed`);
}

/** A client attached to the session through a pseudo-terminal, as a user's terminal would be. */
function attachClient(server: PrivateServer, session: string): ChildProcess {
  const command = `tmux -S '${server.socketPath}' -f /dev/null attach -t '${session}'`;
  return spawn('script', ['-q', '-c', command, '/dev/null'], { env: { ...server.env, TERM: 'xterm-256color' }, stdio: ['pipe', 'ignore', 'ignore'], detached: true });
}

export async function benchWaitFor(report: Report, options: { quick: boolean }): Promise<void> {
  const server = new PrivateServer();
  let client: ChildProcess | undefined;
  try {
    const run = oneShotRunner(server);
    const unattached = await markPane(server, 'detached');
    await server.adopt();
    const attached = await markPane(server, 'attached');
    client = attachClient(server, 'attached');
    await waitFor('a client attached', async () => (await server.tmux('list-clients', '-F', '#{session_name}')).includes('attached'), 10_000);
    const trials = options.quick ? 8 : 40;
    let n = 0;
    for (const [label, target] of [['unattached session', unattached], ['attached session', attached]] as const) {
      const ours: number[] = [];
      const calls: number[] = [];
      for (let i = 0; i < trials; i++) {
        const mark = ++n;
        const called = now();
        const waiting = waitForOutput(run, server.address, target.pane, { regex: new RegExp(`mark-${mark}\\b`), timeoutMs: 10_000 });
        await waitFor('the pipe open', async () => (await server.tmux('display-message', '-p', '-t', target.pane, '#{pane_pipe}')).trim() === '1', 5000, 2);
        const ready = msSince(called);
        const printed = now();
        target.trigger(mark);
        const result = await waiting;
        if (result.kind !== 'matched') throw new Error(`wait ${mark}: ${result.kind}`);
        // elapsedMs is taken when the match is known; the promise settles later, once the pipe is closed.
        ours.push(result.elapsedMs - msSince(called, printed));
        calls.push(ready);
        await sleep(20);
      }
      const polled: number[] = [];
      for (let i = 0; i < trials; i++) {
        const mark = ++n;
        const wanted = new RegExp(`^mark-${mark}$`, 'm');
        let found: bigint | undefined;
        let stop = false;
        // The loop libtmux users write: capture, search, sleep 100 ms; started at a random phase.
        const loop = (async () => {
          while (!stop) {
            const screen = await server.tmux('capture-pane', '-p', '-t', target.pane);
            if (wanted.test(screen)) {
              found = now();
              return;
            }
            await sleep(POLL_MS);
          }
        })();
        await sleep(Math.random() * POLL_MS);
        const printed = now();
        target.trigger(mark);
        await loop;
        stop = true;
        polled.push(msSince(printed, found!));
      }
      const a = summarize(ours);
      const b = summarize(polled);
      report.add({ section: WAIT_SECTION, label: `${label}: print → waitForOutput matched`, unit: 'ms', summary: a, target: '≤ 5 ms median', pass: a.median <= 5 });
      report.add({ section: WAIT_SECTION, label: `${label}: print → waitForOutput matched, p95`, unit: 'ms', value: a.p95 });
      report.add({ section: WAIT_SECTION, label: `${label}: print → 100 ms capture-pane poll finds it`, unit: 'ms', summary: b });
      report.add({ section: WAIT_SECTION, label: `${label}: print → 100 ms capture-pane poll finds it, p95`, unit: 'ms', value: b.p95 });
      report.add({ section: WAIT_SECTION, label: `${label}: poll ÷ waitForOutput (medians)`, unit: '×', value: b.median / a.median, target: '≥ 10×', pass: b.median / a.median >= 10 });
      report.add({ section: WAIT_SECTION, label: `${label}: waitForOutput call → pipe open (before any output)`, unit: 'ms', summary: summarize(calls) });
    }
  } finally {
    if (client?.pid) {
      try {
        process.kill(-client.pid, 'SIGTERM');
      } catch {
        // Gone with the server.
      }
    }
    server.kill();
  }
}

export async function benchFollow(report: Report, options: { quick: boolean }): Promise<void> {
  const server = new PrivateServer();
  try {
    const run = oneShotRunner(server);
    const megabytes = options.quick ? 4 : 16;
    const fifo = path.join(server.folder, 'go.fifo');
    spawnSyncOk('mkfifo', [fifo]);
    // Lines of 64 bytes as fast as `yes` makes them, then an end mark; the pane lives on after.
    const writer = `sh -c 'while :; do read n < ${fifo}; yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01 | head -c ${megabytes * 1024 * 1024}; echo "END-$n"; done'`;
    const pane = (await server.tmux('new-session', '-d', '-P', '-F', '#{pane_id}', '-s', 'writer', '-x', '120', '-y', '40', writer)).trim() as PaneId;
    await server.adopt();
    const rounds = options.quick ? 2 : 5;
    const ours: number[] = [];
    const floor: number[] = [];
    let received = 0;
    for (let i = 0; i < rounds; i++) {
      // Ours: the stream Follow Pane Output reads, counted until the end mark arrives.
      let tail = '';
      let bytes = 0;
      let done: () => void = () => undefined;
      const ended = new Promise<void>((resolve) => (done = resolve));
      const mark = `END-${i}a`;
      const stream = await openPaneOutput(run, server.address, pane, {
        onText: (text) => {
          bytes += Buffer.byteLength(text);
          tail = (tail + text).slice(-64);
          if (tail.includes(mark)) done();
        },
      });
      const start = now();
      fs.writeFileSync(fifo, `${i}a\n`);
      await ended;
      ours.push(bytes / 1024 / 1024 / (msSince(start) / 1000));
      received = bytes;
      await stream.stop();
      await sleep(200);

      // The floor: tmux's own pipe-pane into a file, read when it holds the end mark.
      const file = path.join(server.folder, `floor-${i}.out`);
      await server.tmux('pipe-pane', '-t', pane, `cat > '${file}'`);
      await waitFor('the floor pipe open', async () => (await server.tmux('display-message', '-p', '-t', pane, '#{pane_pipe}')).trim() === '1', 5000, 2);
      const floorMark = Buffer.from(`END-${i}b`);
      const floorStart = now();
      fs.writeFileSync(fifo, `${i}b\n`);
      const size = await waitFor('the end mark in the file', () => (endsWithMark(file, floorMark) ? fs.statSync(file).size : 0), 120_000, 2);
      floor.push(size / 1024 / 1024 / (msSince(floorStart) / 1000));
      await server.tmux('pipe-pane', '-t', pane);
      fs.rmSync(file, { force: true });
      await sleep(200);
    }
    const a = summarize(ours);
    const b = summarize(floor);
    report.add({ section: FOLLOW_SECTION, label: `pipe-pane stream (Follow Pane Output), ${megabytes} MB`, unit: 'MB/s', summary: a });
    report.add({ section: FOLLOW_SECTION, label: `floor: pipe-pane 'cat > file', ${megabytes} MB`, unit: 'MB/s', summary: b });
    report.add({ section: FOLLOW_SECTION, label: 'ours ÷ floor (medians)', unit: '×', value: a.median / b.median });
    report.note(`follow: ${(received / 1024 / 1024).toFixed(1)} MB arrived per round (the pane's ${megabytes} MB with the terminal's \\r\\n line ends); tmux's own processing of the pane bounds both.`);
  } finally {
    server.kill();
  }
}

/** Each command as its own tmux process, as the command-line tool runs them. */
function oneShotRunner(server: PrivateServer): (argv: readonly string[]) => Promise<string[]> {
  return async (argv) => {
    const { stdout } = await runTmux(server.address, argv, { timeoutMs: 10_000 });
    const lines = stdout.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  };
}

/** Whether the file's last bytes hold the mark (read from the end only: the file is megabytes). */
function endsWithMark(file: string, mark: Buffer): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 64);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    return buffer.includes(mark);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
