import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { listProcesses } from '../../src/core/processes';
import { openPaneOutput, PaneOutputEnd, PanePipeBusyError } from '../../src/core/output/paneOutput';
import { PlainTextDecoder, RecentText } from '../../src/core/output/plainText';
import { OutputInterruptedError, waitForOutput, WaitForOptions, WaitResult } from '../../src/core/output/waitFor';
import { PaneId } from '../../src/tmux/model';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

/**
 * Waiting for a pane's output, without a control-mode client: pipe-pane into a FIFO, against a
 * real server. A pane's program starts printing on a `tmux wait-for` signal that the test sends
 * through the same runner after starting the wait, the way a caller sends the keys it then waits on.
 */
describe('waitForOutput and pane output streams', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let service: TmuxService;
  /** Where the streams make their FIFO folders, so the tests can see that none is left. */
  let tempRoot: string;

  beforeEach(function () {
    server = new PrivateTmux();
    server.newSession('main');
    service = new TmuxService(server.address);
    tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-wait-'));
  });

  afterEach(async function () {
    await service.dispose();
    server.kill();
    const left = fs.readdirSync(tempRoot);
    fs.rmSync(tempRoot, { recursive: true, force: true });
    assert.deepEqual(left, [], 'FIFO folders left behind');
  });

  const run = (argv: readonly string[]) => service.run(argv);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** A pane in a new, unattached window, running `command` in the default shell. */
  const pane = (command: string) => server.tmux('new-window', '-d', '-t', 'main:', '-P', '-F', '#{pane_id}', command).trim() as PaneId;
  const wait = (paneId: PaneId, options: Omit<WaitForOptions, 'output'>) => waitForOutput(run, server.address, paneId, { ...options, output: { tempRoot } });
  const go = (channel = 'go') => run(['wait-for', '-S', channel]);
  const format = (paneId: string, text: string) => server.tmux('display-message', '-p', '-t', paneId, text).trim();
  /** The pipe-pane writers (our `cat`s) still running under the server. */
  const writers = async () => {
    const serverPid = Number(server.tmux('display-message', '-p', '#{pid}').trim());
    return (await listProcesses()).filter((info) => info.ppid === serverPid && info.command === 'cat');
  };

  it('catches a pattern printed right after the call, and stops its stream', async function () {
    const id = pane('tmux wait-for go; echo "build finished: $((6*7)) ok"; sleep 30');
    const waiting = wait(id, { regex: /build finished: (\d+) ok/, timeoutMs: 5000 });
    await sleep(1);
    await go();
    const result = await waiting;
    assert.equal(result.kind, 'matched', JSON.stringify(result));
    assert.equal(result.match, 'build finished: 42 ok');
    assert.deepEqual(result.lastLines, ['build finished: 42 ok']);
    assert.equal(format(id, '#{pane_pipe}'), '0');
    assert.deepEqual(await writers(), []);
  });

  it('matches within a few milliseconds of the print', async function () {
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const id = pane(`tmux wait-for go-${i}; echo "tick $(date +%s%N)"; sleep 30`);
      const started = performance.now();
      const waiting = wait(id, { regex: /tick (\d+)/, timeoutMs: 5000 });
      await go(`go-${i}`);
      const result = await waiting;
      assert.equal(result.kind, 'matched', JSON.stringify(result));
      const printedAt = Number(BigInt(result.match!.slice('tick '.length)) / 1000n) / 1000;
      latencies.push(performance.timeOrigin + started + result.elapsedMs - printedAt);
    }
    const median = [...latencies].sort((a, b) => a - b)[2];
    if (process.env.TSM_TEST_LOG) console.log(`    print → match: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms; median ${median.toFixed(1)} ms`);
    assert.ok(median < 50, `median ${median} ms from print to match (${latencies.join(', ')})`);
  });

  it('never matches what was on the screen before the call; a command typed after it echoes, then prints', async function () {
    const id = pane('sh');
    await run(['send-keys', '-t', id, '-l', 'echo before-$((1+1))']);
    await run(['send-keys', '-t', id, 'Enter']);
    await eventually('the first command to print', () => server.tmux('capture-pane', '-p', '-t', id).split('\n').includes('before-2'));

    const before = await wait(id, { regex: /before-2/, timeoutMs: 300 });
    assert.equal(before.kind, 'timeout');
    assert.deepEqual(before.lastLines, []);

    // A terminal echoes what is typed: the command line is output too, before its result.
    const typed = wait(id, { regex: /echo after-\$\(\(40\+2\)\)/, timeoutMs: 5000 });
    await run(['send-keys', '-t', id, '-l', 'sleep 0.3; echo after-$((40+2))']);
    await run(['send-keys', '-t', id, 'Enter']);
    assert.equal((await typed).kind, 'matched');
    // So a pattern for the result is one the command line cannot match.
    const printed = await wait(id, { regex: /after-\d+/, timeoutMs: 5000 });
    assert.equal(printed.kind, 'matched', JSON.stringify(printed));
    assert.equal(printed.match, 'after-42');
  });

  it('finds a match split over chunks and interrupted by colour codes', async function () {
    const id = pane(`tmux wait-for go; printf 'ne\\033[31medle'; sleep 0.1; printf -- '-fou\\033['; sleep 0.1; printf '0mnd\\n'; sleep 30`);
    const waiting = wait(id, { regex: /needle-found$/m, timeoutMs: 5000 });
    await go();
    const result = await waiting;
    assert.equal(result.kind, 'matched', JSON.stringify(result));
    assert.deepEqual(result.lastLines, ['needle-found']);
  });

  it('works from a temporary folder whose name has quotes, #{…}, % and spaces', async function () {
    const odd = fs.mkdtempSync(path.join(tempRoot, "it's #{pane_id} 100% "));
    const id = pane('tmux wait-for go; echo "odd folder ok"; sleep 30');
    const waiting = waitForOutput(run, server.address, id, { regex: /odd folder ok/, timeoutMs: 5000, output: { tempRoot: odd } });
    await go();
    assert.equal((await waiting).kind, 'matched');
    assert.deepEqual(fs.readdirSync(odd), []);
    fs.rmdirSync(odd);
  });

  it('on timeout, gives the last 20 lines seen, without escape sequences', async function () {
    const id = pane(`tmux wait-for go; for i in $(seq 1 30); do printf '\\033[1;32mline\\033[0m %s\\r\\n' $i; done; sleep 30`);
    const waiting = wait(id, { regex: /never printed/, timeoutMs: 400 });
    await go();
    const result = await waiting;
    assert.equal(result.kind, 'timeout');
    assert.deepEqual(result.lastLines, Array.from({ length: 20 }, (_, i) => `line ${i + 11}`));
    assert.ok(result.elapsedMs >= 400 && result.elapsedMs < 1500, `${result.elapsedMs} ms`);
  });

  it('untilExit resolves when the program exits, told by the end of the stream', async function () {
    const id = pane('tmux wait-for go; echo bye; exit 3');
    const waiting = wait(id, { untilExit: true, timeoutMs: 5000 });
    await go();
    const result = await waiting;
    assert.equal(result.kind, 'exited');
    assert.deepEqual(result.lastLines, ['bye']);
    assert.ok(result.elapsedMs < 1000, `${result.elapsedMs} ms`);
    assert.equal(server.tmux('list-panes', '-a', '-F', '#{pane_id}').split('\n').includes(id), false);
    // Dead or gone before the call: exited at once.
    assert.equal((await wait(id, { untilExit: true, timeoutMs: 5000 })).kind, 'exited');
  });

  it('untilExit sees a pane kept dead by remain-on-exit, and leaves no writer behind', async function () {
    const id = pane('tmux wait-for go; echo bye; exit 3');
    server.tmux('set-option', '-p', '-t', id, 'remain-on-exit', 'on');
    const waiting = wait(id, { untilExit: true, timeoutMs: 5000 });
    await go();
    const result = await waiting;
    assert.equal(result.kind, 'exited');
    assert.deepEqual(result.lastLines, ['bye']);
    assert.equal(format(id, '#{pane_dead} #{pane_dead_status}'), '1 3');
    assert.deepEqual(await writers(), []);
    assert.equal((await wait(id, { untilExit: true, timeoutMs: 5000 })).kind, 'exited');
  });

  it('quietMs resolves once the pane has printed nothing for that long', async function () {
    const id = pane('tmux wait-for go; for i in 1 2 3 4 5; do echo tick $i; sleep 0.05; done; sleep 30');
    const waiting = wait(id, { quietMs: 300, timeoutMs: 5000 });
    await go();
    const result = await waiting;
    assert.equal(result.kind, 'quiet');
    assert.deepEqual(result.lastLines, ['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5']);
    assert.ok(result.elapsedMs >= 500 && result.elapsedMs < 2000, `${result.elapsedMs} ms`);
  });

  it('cancels on its signal, and never takes or closes a pipe of the user\'s', async function () {
    const id = pane('sleep 30');
    const controller = new AbortController();
    const waiting = wait(id, { regex: /x/, timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    assert.equal((await waiting).kind, 'cancelled');
    assert.equal(format(id, '#{pane_pipe}'), '0');

    // The user's pipe-pane replaces ours while we wait: the wait fails, and their pipe stays.
    // A long timeout: on a loaded machine the replacement must be told apart before it, not raced.
    const replaced = wait(id, { regex: /x/, timeoutMs: 30_000 });
    await eventually('our pipe to open', () => format(id, '#{pane_pipe}') === '1');
    server.tmux('pipe-pane', '-t', id, 'cat > /dev/null');
    await assert.rejects(replaced, OutputInterruptedError);
    assert.equal(format(id, '#{pane_pipe}'), '1');

    // And while it is open, we refuse to start.
    await assert.rejects(wait(id, { regex: /x/, timeoutMs: 5000 }), PanePipeBusyError);
    assert.equal(format(id, '#{pane_pipe}'), '1');
  });

  it('100 waits on 100 panes at once each get their own outcome', async function () {
    const kinds = ['matched', 'exited', 'quiet', 'timeout'] as const;
    const ids = Array.from({ length: 100 }, (_, i) => {
      // A quiet wait must not go quiet before the signal, however long the 100 opens take: these
      // panes tick until it comes.
      const before = kinds[i % 4] === 'quiet' ? 'tmux wait-for go & while kill -0 $! 2>/dev/null; do echo tick; sleep 0.1; done' : 'tmux wait-for go';
      return pane(`${before}; echo "pane-${i}-done"; ${kinds[i % 4] === 'exited' ? 'exit 0' : 'sleep 30'}`);
    });
    const waits = ids.map((id, i): Promise<WaitResult> => {
      switch (kinds[i % 4]) {
        case 'matched':
          return wait(id, { regex: /pane-(\d+)-done/, timeoutMs: 15_000 });
        case 'exited':
          return wait(id, { untilExit: true, timeoutMs: 15_000 });
        case 'quiet':
          // Ticks come every 0.1 s; 2 s of silence before the signal would take a machine stalled
          // for that long, which a loaded CI machine running 100 shells can come close to at 1 s.
          return wait(id, { quietMs: 2000, timeoutMs: 15_000 });
        case 'timeout':
          return wait(id, { regex: /never printed/, timeoutMs: 3000 });
      }
    });
    const all = Promise.all(waits);
    await go();
    const results = await all;
    results.forEach((result, i) => {
      assert.equal(result.kind, kinds[i % 4], `pane ${i}: ${JSON.stringify(result)}`);
      if (result.kind === 'quiet') assert.equal(result.lastLines.at(-1), `pane-${i}-done`, `pane ${i}`);
      else assert.deepEqual(result.lastLines, [`pane-${i}-done`], `pane ${i}`);
      if (result.kind === 'matched') assert.equal(result.match, `pane-${i}-done`);
    });
    assert.ok(server.tmux('list-panes', '-a', '-F', '#{pane_pipe}').split('\n').every((pipe) => pipe !== '1'));
    assert.deepEqual(await writers(), []);
  });

  it('streams 10 MB from a pane of an unattached session, complete and in order, in bounded memory', async function () {
    const count = 1_300_000;
    const id = pane(`tmux wait-for go; seq 1 ${count}; sleep 60`);
    assert.equal(format(id, '#{session_attached}'), '0');
    let next = 1;
    let partial = '';
    let bytes = 0;
    let problem: string | undefined;
    let ended: PaneOutputEnd | undefined;
    const stream = await openPaneOutput(run, server.address, id, {
      tempRoot,
      onText(text) {
        bytes += Buffer.byteLength(text);
        const lines = (partial + text).split('\r\n');
        partial = lines.pop()!;
        for (const line of lines) {
          if (line !== String(next)) problem ??= `expected ${next}, got ${JSON.stringify(line.slice(0, 40))}`;
          next++;
        }
      },
      onEnd: (end) => (ended = end),
    });
    assert.ok(fs.existsSync(stream.folder) === false, 'the writer removes the FIFO folder once it has opened it');

    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const started = performance.now();
    await go();
    await eventually('every number to arrive', () => next > count || problem, 30_000);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    assert.equal(problem, undefined);
    assert.equal(next, count + 1);
    assert.ok(bytes >= 10_000_000, `${bytes} bytes`);
    const growth = (peak - baseline) / 2 ** 20;
    if (process.env.TSM_TEST_LOG) console.log(`    ${(bytes / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(2)} s; heap grew at most ${growth.toFixed(1)} MiB`);
    assert.ok(growth < 50, `heap grew by ${growth.toFixed(1)} MiB`);

    await stream.stop();
    await stream.stop();
    assert.deepEqual(ended, { kind: 'stopped' });
    assert.equal(format(id, '#{pane_pipe}'), '0');
    assert.equal(fs.existsSync(stream.folder), false);
    assert.deepEqual(await writers(), []);
  });

  it('decodes characters split across chunks, and ends when the pane is killed', async function () {
    const line = 'é€😀 naïve ✓';
    const id = pane(`tmux wait-for go; yes '${line}' | head -n 20000; sleep 60`);
    let text = '';
    let resolveEnd!: (end: PaneOutputEnd) => void;
    const ended = new Promise<PaneOutputEnd>((resolve) => (resolveEnd = resolve));
    const stream = await openPaneOutput(run, server.address, id, { tempRoot, onText: (chunk) => (text += chunk), onEnd: resolveEnd });
    await go();
    const expected = `${line}\r\n`.repeat(20000);
    await eventually('all the lines', () => text.length >= expected.length, 10_000);
    assert.equal(text, expected);

    await run(['kill-pane', '-t', id]);
    assert.deepEqual(await ended, { kind: 'paneGone' });
    await stream.stop();
    assert.deepEqual(await writers(), []);
  });
});

describe('waitForOutput: plain text from chunks', function () {
  it('holds back an escape sequence or a line end cut by the end of a chunk', function () {
    const decoder = new PlainTextDecoder();
    const chunks = ['a\u001b[3', '1mb\u001b]0;ti', 'tle\u0007c\r', '\r', '\nd\u001b', '(Be\u001b[0m'];
    assert.equal(chunks.map((chunk) => decoder.push(chunk)).join('') + decoder.flush(), 'abc\nde');
  });

  it('lets a malformed escape go instead of holding it forever', function () {
    const decoder = new PlainTextDecoder();
    assert.equal(decoder.push('x\u001b[\u00e9y'), 'x\u00e9y');
  });

  it('shows lines as a terminal would: a carriage return writes over the line', function () {
    const recent = new RecentText(64);
    recent.append('one\n 10%\r 50%\r100%\nabcdef\rxy\n');
    assert.deepEqual(recent.lastLines(20), ['one', '100%', 'xycdef']);
    recent.append('x'.repeat(100));
    assert.equal(recent.toString().length, 64);
  });
});
