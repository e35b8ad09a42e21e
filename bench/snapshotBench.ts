import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ControlClient } from '../src/tmux/control';
import { formatString } from '../src/tmux/format';
import { countPanes } from '../src/tmux/model';
import { TmuxService } from '../src/tmux/service';
import { PANE_ROW, parseSnapshot, snapshotCommands } from '../src/tmux/snapshot';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { settle } from './eventsBench';
import { msSince, now, summarize, Summary } from './stats';

const SECTION = '1. whole-tree snapshot';

/** The snapshot's pane format, and the same without the two fields tmux reads from /proc. */
const FULL_FORMAT = formatString(PANE_ROW);
const { paneCurrentCommand: _command, paneCurrentPath: _path, ...LITE_ROW } = PANE_ROW;
const LITE_FORMAT = formatString(LITE_ROW);

type Variant = { readonly name: string; readonly run: () => Promise<void> };

/**
 * Runs every variant once per round, in a rotating order so that none always follows the same
 * other, after `warmup` untimed rounds. Returns the samples of each, in milliseconds.
 */
async function interleaved(variants: readonly Variant[], rounds: number, warmup: number): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(round + k) % variants.length];
      const start = now();
      await variant.run();
      const elapsed = msSince(start);
      if (round >= warmup) samples.get(variant.name)!.push(elapsed);
    }
  }
  return samples;
}

export async function benchSnapshot(server: PrivateServer, service: TmuxService, expectedPanes: number, report: Report): Promise<void> {
  const spawned = (args: string[], expectLines?: number) => async () => {
    const out = await server.tmux(...args);
    if (expectLines !== undefined) checkCount(out.split('\n').filter(Boolean).length, expectLines, args[0]);
  };
  const control = (args: string[], expectLines?: number) => async () => {
    const lines = await service.run(args);
    if (expectLines !== undefined) checkCount(lines.length, expectLines, args[0]);
  };
  let badRefreshes = 0;
  const ours = async () => {
    const before = service.getStats().snapshots;
    const tree = await service.refresh();
    // A refresh that found a snapshot already running only queued one: not a real sample.
    if (service.getStats().snapshots !== before + 1 || countPanes(tree) !== expectedPanes) badRefreshes++;
  };

  // The same bytes again, to time parsing alone (CPU only, no tmux).
  const [paneLines, clientLines] = await Promise.all(snapshotCommands().map((argv) => service.run(argv)));
  checkCount(paneLines.length, expectedPanes, 'list-panes');
  const parse = async () => {
    parseSnapshot(paneLines, clientLines);
  };
  const parsed = parseSnapshot(paneLines, clientLines);
  const changeCheck = async () => {
    JSON.stringify(parsed.sessions);
  };

  // A second control client of our own, to time the snapshot's two commands without any parsing.
  const raw = new ControlClient(server.address);
  await raw.ready;
  await settle(service, 200);
  const rawPair = async () => {
    const [panes] = await raw.commands(snapshotCommands());
    checkCount(panes.length, expectedPanes, 'list-panes');
  };

  const heavy = await interleaved(
    [
      { name: 'ours', run: ours },
      { name: 'rawPair', run: rawPair },
      { name: 'controlFull', run: control(['list-panes', '-a', '-F', FULL_FORMAT], expectedPanes) },
      { name: 'controlLite', run: control(['list-panes', '-a', '-F', LITE_FORMAT], expectedPanes) },
      { name: 'spawnedFull', run: spawned(['list-panes', '-a', '-F', FULL_FORMAT], expectedPanes) },
      { name: 'spawnedLite', run: spawned(['list-panes', '-a', '-F', LITE_FORMAT], expectedPanes) },
      { name: 'parse', run: parse },
      { name: 'changeCheck', run: changeCheck },
    ],
    30,
    3,
  ).finally(() => raw.close());
  await settle(service, 200);
  const someSession = service.tree.sessions[Math.floor(service.tree.sessions.length / 2)];
  const someWindow = someSession.windows[0];
  const light = await interleaved(
    [
      { name: 'controlFloor', run: control(['display-message', '-p', 'x'], 1) },
      { name: 'controlWindow', run: control(['list-panes', '-t', someWindow.id, '-F', FULL_FORMAT], someWindow.panes.length) },
      {
        name: 'controlSession',
        run: control(['list-panes', '-s', '-t', someSession.id, '-F', FULL_FORMAT], someSession.windows.reduce((n, w) => n + w.panes.length, 0)),
      },
      { name: 'spawnedFloor', run: spawned(['display-message', '-p', 'x'], 1) },
    ],
    300,
    30,
  );
  const s = (name: string) => summarize((heavy.get(name) ?? light.get(name))!);
  const oursSummary = s('ours');
  const controlFull = s('controlFull');

  const fields = Object.keys(PANE_ROW).length;
  const add = (label: string, summary: Summary, extra: { target?: string; pass?: boolean } = {}) =>
    report.add({ section: SECTION, label, unit: 'ms', summary, ...extra });
  add('ours: TmuxService.refresh() = snapshotCommands round trip + parseSnapshot + change check', oursSummary);
  add(`  of which parseSnapshot (${expectedPanes} rows, CPU only)`, s('parse'));
  add('  of which the change check (JSON.stringify of the tree)', s('changeCheck'));
  add('  of which the round trip (snapshotCommands on a raw ControlClient)', s('rawPair'));
  add(`raw list-panes -a over control mode, same ${fields} fields (the floor)`, controlFull);
  add('raw list-panes -a over control mode, w/o current_command/path', s('controlLite'));
  add(`spawned list-panes -a (execFile), same ${fields} fields`, s('spawnedFull'));
  add('spawned list-panes -a (execFile), w/o current_command/path', s('spawnedLite'));
  add('floor: control-mode round trip, display-message -p x', s('controlFloor'));
  add('floor: spawned tmux display-message -p x', s('spawnedFloor'));
  add('one window: list-panes -t @id over control mode (incremental)', s('controlWindow'));
  add('one session: list-panes -s -t $id over control mode', s('controlSession'));
  if (badRefreshes) report.note(`snapshot: ${badRefreshes} refresh samples overlapped another snapshot (counted anyway).`);

  const ratio = oursSummary.median / controlFull.median;
  report.add({
    section: SECTION,
    label: 'ratio ours / raw list-panes -a over control mode',
    unit: '×',
    value: ratio,
    target: '≤ 1.1×',
    pass: ratio <= 1.1,
  });
  report.add({ section: SECTION, label: 'ratio spawned list-panes -a / ours', unit: '×', value: s('spawnedFull').median / oursSummary.median });

  const libtmux = await runLibtmux(server, expectedPanes);
  if ('note' in libtmux) {
    report.add({ section: SECTION, label: 'libtmux walk of every session/window/pane', unit: '', text: 'skipped' });
    report.note(libtmux.note);
  } else {
    const walk = summarize(libtmux.samples);
    add(`libtmux ${libtmux.version} walk of ${libtmux.panes} panes (in python, incl. connecting)`, walk);
    const speedup = walk.median / oursSummary.median;
    report.add({ section: SECTION, label: 'ratio libtmux walk / ours', unit: '×', value: speedup, target: '≥ 20×', pass: speedup >= 20 });
  }
}

function checkCount(got: number, expected: number, what: string): void {
  if (got !== expected) throw new Error(`${what} returned ${got} rows, expected ${expected}`);
}

const PYTHON = '/usr/bin/python3';

/** Runs bench/libtmux_walk.py with Debian's python3 (which has python3-libtmux), not the one on PATH. */
async function runLibtmux(server: PrivateServer, expectedPanes: number): Promise<{ version: string; panes: number; samples: number[] } | { note: string }> {
  const script = path.resolve(__dirname, '..', '..', 'bench', 'libtmux_walk.py');
  if (!fs.existsSync(PYTHON)) return { note: `libtmux: ${PYTHON} not found; skipped.` };
  if (!fs.existsSync(script)) return { note: `libtmux: ${script} not found; skipped.` };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(PYTHON, [script, server.socketPath, '3'], { env: server.env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, out, err) => {
      if (error) reject(new Error(`libtmux walk failed: ${String(err).trim() || error.message}`));
      else resolve(out);
    });
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { missing?: string; version?: string; panes?: number; samples_ms?: number[] };
  if (result.missing) return { note: `libtmux: python3-libtmux is not installed (${result.missing}); skipped. Install it with apt-get install python3-libtmux.` };
  if (result.panes !== expectedPanes) throw new Error(`libtmux walked ${result.panes} panes, expected ${expectedPanes}`);
  return { version: result.version ?? '?', panes: result.panes, samples: result.samples_ms ?? [] };
}
