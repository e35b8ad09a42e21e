import { ChildProcess, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureSessions } from '../src/core/snapshots/capture';
import { Snapshot } from '../src/core/snapshots/document';
import { restoreSnapshot } from '../src/core/snapshots/restore';
import { SnapshotStore } from '../src/core/snapshots/store';
import { Runner } from '../src/tmux/commands';
import { countPanes, Session } from '../src/tmux/model';
import { TmuxService } from '../src/tmux/service';
import { cpuMs } from './idleBench';
import { settle } from './eventsBench';
import { PrivateServer } from './privateServer';
import { fmt, Report } from './report';
import { msSince, now, sleep, summarize, Summary, waitFor } from './stats';

/**
 * Phases 7 and 8: Save All and Restore, against tmuxp (Debian's `tmuxp`, which drives tmux through
 * libtmux). Each phase builds private servers of its own (`tmux -S <tmpdir>/sock`), with sessions
 * of 6 panes in varied layouts, panes in folders of their own and with scrollback of varied length.
 */

export const SAVE_SECTION = '7. save all';
export const RESTORE_SECTION = '8. restore';

/** Scrollback kept per pane by default (the `capture.lines` setting's default). */
const DEFAULT_SCROLLBACK = 2000;
/** Lines printed into the panes before saving: 1 pane in 6 empty, 1 in 6 past tmux's history-limit (2000). */
const FILL_LINES = [0, 25, 100, 300, 800, 2500];

type LayoutKind = 'main-vertical' | 'main-horizontal' | 'even-horizontal' | 'even-vertical' | 'tiled' | 'nested';

interface PaneSpec {
  readonly cwd: string;
  readonly fillLines: number;
  /** Left running in the pane (a foreground program for capture to find). */
  readonly tail: boolean;
}

interface WindowSpec {
  readonly name: string;
  readonly layout: LayoutKind;
  readonly panes: readonly PaneSpec[];
}

interface SessionSpec {
  readonly name: string;
  readonly windows: readonly WindowSpec[];
}

const PANES_PER_SESSION = 6;

/**
 * Session `i`: 6 panes in 2–3 windows, one of four shapes (named layouts, and one nested split
 * tree no named layout makes), each pane in a folder of the session's project.
 */
export function sessionSpec(i: number, work: string): SessionSpec {
  const name = `proj-${String(i).padStart(3, '0')}`;
  const root = path.join(work, 'projects', name);
  const folders = [root, path.join(root, 'src'), path.join(root, 'test'), path.join(root, 'docs')];
  let n = 0;
  const panes = (count: number): PaneSpec[] =>
    Array.from({ length: count }, () => {
      const j = n++;
      return { cwd: folders[(i + j) % folders.length], fillLines: FILL_LINES[(i + j) % FILL_LINES.length], tail: j === 5 && i % 2 === 0 };
    });
  switch (i % 4) {
    case 0:
      return { name, windows: [{ name: 'editor', layout: 'main-vertical', panes: panes(3) }, { name: 'server', layout: 'even-horizontal', panes: panes(2) }, { name: 'logs', layout: 'tiled', panes: panes(1) }] };
    case 1:
      return { name, windows: [{ name: 'code', layout: 'tiled', panes: panes(4) }, { name: 'test', layout: 'even-vertical', panes: panes(2) }] };
    case 2:
      return { name, windows: [{ name: 'dev', layout: 'nested', panes: panes(4) }, { name: 'shell', layout: 'tiled', panes: panes(1) }, { name: 'git', layout: 'tiled', panes: panes(1) }] };
    default:
      return { name, windows: [{ name: 'main', layout: 'main-horizontal', panes: panes(3) }, { name: 'build', layout: 'nested', panes: panes(3) }] };
  }
}

/** The fill file for `lines` lines: log-like lines, a third of them coloured. */
function fillFile(work: string, lines: number): string {
  const file = path.join(work, 'fill', `${lines}.txt`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out: string[] = [];
  for (let k = 0; k < lines; k++) {
    const ms = (k * 7919) % 997;
    const time = `12:${String(Math.floor(k / 60) % 60).padStart(2, '0')}:${String(k % 60).padStart(2, '0')}.${String(ms).padStart(3, '0')}`;
    const text = `worker-${k % 7} GET /api/items/${(k * 31) % 10007} 200 in ${ms % 90} ms`;
    out.push(k % 3 === 0 ? `\u001b[2m${time}\u001b[0m \u001b[32mINFO\u001b[0m ${text}` : `${time} INFO ${text}`);
  }
  fs.writeFileSync(file, out.join('\n') + (lines ? '\n' : ''));
  return file;
}

/** tmux's command-language quoting for one argument. */
function tq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Builds the sessions on `server` in one client (one new-session, one source-file), prints each
 * pane's fill, and waits until every fill is done.
 */
export async function buildSessions(server: PrivateServer, specs: readonly SessionSpec[], work: string): Promise<void> {
  for (const spec of specs) for (const w of spec.windows) for (const p of w.panes) fs.mkdirSync(p.cwd, { recursive: true });
  const lines: string[] = ['set -g history-limit 2000'];
  let first: string[] | undefined;
  for (const spec of specs) {
    const t = `=${spec.name}`;
    spec.windows.forEach((window, w) => {
      const cwd0 = window.panes[0].cwd;
      if (w === 0) {
        const args = ['new-session', '-d', '-s', spec.name, '-n', window.name, '-x', '200', '-y', '50', '-c', cwd0];
        if (!first) first = args;
        else lines.push(args.map(tq).join(' '));
      } else {
        lines.push(`new-window -d -t ${tq(`${t}:${w}`)} -n ${tq(window.name)} -c ${tq(cwd0)}`);
      }
      const split = (target: number, flag: '-h' | '-v', cwd: string) => lines.push(`split-window -d ${flag} -t ${tq(`${t}:${w}.${target}`)} -c ${tq(cwd)}`);
      const rest = window.panes.slice(1);
      if (window.layout === 'nested') {
        // 0 | (1 / (2 | 3)): a split tree no named layout gives.
        const order: [number, '-h' | '-v'][] = [[0, '-h'], [1, '-v'], [2, '-h']];
        rest.forEach((pane, k) => split(order[k][0], order[k][1], pane.cwd));
      } else {
        rest.forEach((pane) => split(0, '-h', pane.cwd));
        if (window.panes.length > 1) lines.push(`select-layout -t ${tq(`${t}:${w}`)} ${window.layout}`);
      }
      window.panes.forEach((pane, p) => {
        const parts: string[] = [];
        if (pane.fillLines > 0) parts.push(`cat ${fillFile(work, pane.fillLines)}`);
        if (pane.tail) parts.push(`tail -n 0 -f ${fillFile(work, 25)}`);
        if (parts.length) lines.push(`send-keys -t ${tq(`${t}:${w}.${p}`)} ${tq(parts.join('; '))} Enter`);
      });
    });
    lines.push(`select-window -t ${tq(`${t}:0`)}`);
  }
  await server.buildScript(first!, lines);
  const expected = specs.length * PANES_PER_SESSION;
  // Done when no pane is still in `cat` and the history stops growing.
  let last = -1;
  await waitFor(
    `${expected} panes filled`,
    async () => {
      const rows = (await server.tmux('list-panes', '-a', '-F', '#{pane_current_command} #{history_size}')).split('\n').filter(Boolean);
      const history = rows.reduce((sum, row) => sum + Number(row.split(' ')[1]), 0);
      const busy = rows.some((row) => row.startsWith('cat '));
      const done = rows.length === expected && !busy && history === last;
      last = history;
      return done;
    },
    60_000,
    200,
  );
}

// ---------------------------------------------------------------------------------------------
// Environment, processes, peers

/** The temporary HOME, XDG folders, shell and socket folder of `server`, for tools we start. */
export function isolatedEnv(server: PrivateServer): NodeJS.ProcessEnv {
  const keys = ['HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'SHELL', 'TMUX_TMPDIR'];
  return Object.fromEntries(keys.map((key) => [key, server.env[key]]));
}

/**
 * Runs `body` with `overrides` in this process's environment: a server our code starts (restore)
 * inherits it, so it gets a throwaway HOME (no ~/.tmux.conf) and /bin/sh as its shell, like the
 * peer's server.
 */
async function withEnv<T>(overrides: NodeJS.ProcessEnv, body: () => Promise<T>): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(overrides)) {
    saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await body();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

export function runProgram(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const wrapped = new Error(`${file} ${args.slice(0, 3).join(' ')}…: ${String(stderr).trim() || error.message}`) as Error & { code?: unknown };
        wrapped.code = (error as { code?: unknown }).code;
        reject(wrapped);
      } else resolve(stdout);
    });
  });
}

/** `tmuxp 1.27.0, libtmux 0.21.0`, or undefined when tmuxp is not installed. */
export async function tmuxpVersion(): Promise<string | undefined> {
  try {
    return (await runProgram('tmuxp', ['--version'], process.env, 20_000)).trim();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The program `name` on PATH, as an absolute path. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * A `tmux` first on PATH that counts its invocations in a file, then runs the real tmux: how many
 * tmux processes a peer starts. Used for separate, untimed runs only (the wrapper costs a shell).
 */
class TmuxCounter {
  readonly dir: string;
  private readonly countFile: string;

  constructor(work: string, realTmux: string) {
    this.dir = fs.mkdtempSync(path.join(work, 'counter-'));
    this.countFile = path.join(this.dir, 'count');
    const shim = path.join(this.dir, 'tmux');
    fs.writeFileSync(shim, `#!/bin/sh\necho >> '${this.countFile}'\nexec '${realTmux}' "$@"\n`, { mode: 0o755 });
  }

  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return { ...base, PATH: `${this.dir}${path.delimiter}${base.PATH ?? ''}` };
  }

  take(): number {
    let count = 0;
    try {
      count = fs.readFileSync(this.countFile, 'utf8').split('\n').length - 1;
    } catch {
      // None yet.
    }
    fs.rmSync(this.countFile, { force: true });
    return count;
  }
}

/**
 * Counts the processes this Node process starts (execFile, execa and spawn all end in
 * ChildProcess.prototype.spawn), by program name.
 */
class SpawnCounter {
  readonly byProgram = new Map<string, number>();
  private readonly original: (...args: unknown[]) => unknown;

  constructor() {
    const proto = ChildProcess.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
    const original = proto.spawn;
    this.original = original;
    const counter = this;
    proto.spawn = function (this: unknown, ...args: unknown[]) {
      const file = (args[0] as { file?: string } | undefined)?.file ?? '?';
      const key = path.basename(file);
      counter.byProgram.set(key, (counter.byProgram.get(key) ?? 0) + 1);
      return original.apply(this, args);
    };
  }

  get total(): number {
    return [...this.byProgram.values()].reduce((a, b) => a + b, 0);
  }

  describe(): string {
    return [...this.byProgram].map(([name, count]) => `${count} ${name}`).join(', ') || 'none';
  }

  stop(): void {
    (ChildProcess.prototype as unknown as { spawn: unknown }).spawn = this.original;
  }
}

/** What the core modules export at run time: `declare` stubs compile to nothing. */
function missingCore(): string[] {
  const missing: string[] = [];
  if (typeof captureSessions !== 'function') missing.push('captureSessions (src/core/snapshots/capture.ts)');
  if (typeof SnapshotStore !== 'function') missing.push('SnapshotStore (src/core/snapshots/store.ts)');
  if (typeof restoreSnapshot !== 'function') missing.push('restoreSnapshot (src/core/snapshots/restore.ts)');
  return missing;
}

async function connect(server: PrivateServer, panes: number): Promise<TmuxService> {
  const service = new TmuxService(server.address);
  await service.start();
  await waitFor('service ok', () => service.state.kind === 'ok' && countPanes(service.tree) === panes, 20_000);
  await settle(service, 200);
  return service;
}

function mkWork(): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-bench-snapshots-'));
  const cleanup = () => fs.rmSync(work, { recursive: true, force: true });
  process.once('exit', cleanup);
  return work;
}

/** Files ending in `suffix` under `dir` (0 when it does not exist). */
function countFiles(dir: string, suffix: string): number {
  let count = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) count += countFiles(path.join(dir, entry.name), suffix);
    else if (entry.name.endsWith(suffix)) count++;
  }
  return count;
}

function filesUnder(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = filesUnder(full);
      files += inner.files;
      bytes += inner.bytes;
    } else if (entry.isFile() && entry.name.endsWith('.json')) {
      files++;
      bytes += fs.statSync(full).size;
    }
  }
  return { files, bytes };
}

// ---------------------------------------------------------------------------------------------
// 7. Save all

export interface SaveOptions {
  readonly sessions: number;
  readonly rounds: number;
}

export async function benchSaveAll(report: Report, options: SaveOptions): Promise<void> {
  const { sessions } = options;
  const panes = sessions * PANES_PER_SESSION;
  const section = `${SAVE_SECTION}: ${sessions} sessions × ${PANES_PER_SESSION} panes`;
  const work = mkWork();
  const server = new PrivateServer();
  let service: TmuxService | undefined;
  try {
    const specs = Array.from({ length: sessions }, (_, i) => sessionSpec(i, work));
    const buildStart = now();
    await buildSessions(server, specs, work);
    console.log(`   built and filled ${panes} panes in ${(msSince(buildStart) / 1000).toFixed(1)} s`);
    service = await connect(server, panes);
    const s = service;
    const history = (await server.tmux('list-panes', '-a', '-F', '#{history_size}')).split('\n').filter(Boolean).map(Number);
    report.meta.saveAll = { sessions, panesPerSession: PANES_PER_SESSION, panes, fillLines: FILL_LINES, historyLines: history.reduce((a, b) => a + b, 0) };

    // Ours: what Save All does — capture every session, then write each snapshot to the store.
    const missing = missingCore().filter((m) => !m.startsWith('restoreSnapshot'));
    const ours = new Map<number, { total: number[]; capture: number[]; save: number[] }>();
    if (missing.length) {
      report.add({ section, label: 'ours: captureSessions + SnapshotStore.save', unit: '', text: 'skipped' });
      report.note(`save all: ours skipped, not implemented yet: ${missing.join(', ')}.`);
    } else {
      const tmuxVersion = s.getStats().version?.text ?? '';
      // Where the CPU goes: the tmux server or this process (the `tmux -C` client process itself is
      // idle: the server writes to its pipe directly).
      const cpu = () => ({ server: cpuMs(server.pid) ?? NaN, node: (process.cpuUsage().user + process.cpuUsage().system) / 1000 });
      const cpuSums = new Map<string, { server: number; node: number; n: number }>();
      const addCpu = (key: string, before: ReturnType<typeof cpu>) => {
        const after = cpu();
        const sum = cpuSums.get(key) ?? { server: 0, node: 0, n: 0 };
        sum.server += after.server - before.server;
        sum.node += after.node - before.node;
        sum.n++;
        cpuSums.set(key, sum);
      };
      const run: Runner = (argv) => s.run(argv);
      let written: { files: number; bytes: number } | undefined;
      const variants = [DEFAULT_SCROLLBACK, 0];
      for (const lines of variants) ours.set(lines, { total: [], capture: [], save: [] });
      const counts = new Map<number, { commands: number; spawned: string }>();
      const floor: number[] = [];
      let floorLines = 0;
      for (let round = 0; round < 1 + options.rounds; round++) {
        for (let k = 0; k < variants.length; k++) {
          const scrollbackLines = variants[(round + k) % variants.length];
          const dataDir = fs.mkdtempSync(path.join(work, 'data-'));
          const counter = round === 0 ? new SpawnCounter() : undefined;
          const commandsBefore = s.getStats().commandsSent;
          const store = new SnapshotStore(dataDir);
          let captured: Snapshot[] = [];
          let mid = now();
          const cpuBefore = cpu();
          const start = now();
          try {
            // As the Save All command does it: under the data folder's lock, from a fresh tree.
            await store.withLock('save', async () => {
              const current = (await s.refresh()).sessions;
              captured = await captureSessions(run, current, { kind: 'auto', scrollbackLines, tmuxVersion });
              mid = now();
              await store.saveMany(captured);
            });
          } finally {
            counter?.stop();
          }
          const end = now();
          if (round > 0) addCpu(`ours, scrollback ${scrollbackLines}`, cpuBefore);
          if (counter) counts.set(scrollbackLines, { commands: s.getStats().commandsSent - commandsBefore, spawned: counter.describe() });
          const got = captured.reduce((n, snap) => n + snap.session.windows.reduce((m, w) => m + w.panes.length, 0), 0);
          if (captured.length !== sessions || got !== panes) throw new Error(`captured ${captured.length} sessions / ${got} panes, expected ${sessions} / ${panes}`);
          const stored = filesUnder(path.join(dataDir, 'snapshots'));
          if (stored.files < sessions) throw new Error(`the store holds ${stored.files} files, expected ${sessions}`);
          if (scrollbackLines === DEFAULT_SCROLLBACK) written = stored;
          console.log(`   ${round === 0 ? 'warm-up' : `round ${round}`}: ours, scrollback ${scrollbackLines}: ${fmt(msSince(start, end))} ms (capture ${fmt(msSince(start, mid))}, save ${fmt(msSince(mid, end))})`);
          if (round > 0) {
            const v = ours.get(scrollbackLines)!;
            v.total.push(msSince(start, end));
            v.capture.push(msSince(start, mid));
            v.save.push(msSince(mid, end));
          }
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
        // The floor of the scrollback: the same capture-pane commands, all at once, no processing.
        const floorCpu = cpu();
        const floorStart = now();
        const outputs = await Promise.all(
          s.tree.sessions.flatMap((session) => session.windows.flatMap((w) => w.panes)).map((pane) => s.run(['capture-pane', '-p', '-e', '-J', '-S', String(-DEFAULT_SCROLLBACK), '-t', pane.id])),
        );
        if (round > 0) {
          floor.push(msSince(floorStart));
          addCpu('capture-pane floor', floorCpu);
        }
        if (outputs.length !== panes) throw new Error(`capture-pane ran for ${outputs.length} panes, expected ${panes}`);
        floorLines = outputs.reduce((n, lines) => n + lines.length, 0);
      }
      for (const lines of variants) {
        const v = ours.get(lines)!;
        const what = lines ? `scrollback ${lines} lines` : 'no scrollback';
        report.add({ section, label: `ours (${what}): captureSessions + SnapshotStore.save × ${sessions}`, unit: 'ms', summary: summarize(v.total) });
        report.add({ section, label: '  of which lock + refresh + captureSessions', unit: 'ms', summary: summarize(v.capture) });
        report.add({ section, label: `  of which SnapshotStore.saveMany (16 at a time)`, unit: 'ms', summary: summarize(v.save) });
        const c = counts.get(lines);
        if (c) report.note(`save all, ours (${what}): ${c.commands} tmux commands over control mode; processes started: ${c.spawned}.`);
      }
      report.add({ section, label: `floor: ${panes} × capture-pane -p -e -J -S -${DEFAULT_SCROLLBACK} over control mode, all at once (${floorLines} lines)`, unit: 'ms', summary: summarize(floor) });
      for (const [key, sum] of cpuSums) {
        report.note(`save all, CPU per trial, ${key}: tmux server ${fmt(sum.server / sum.n)} ms, this Node process ${fmt(sum.node / sum.n)} ms.`);
      }
      if (written) report.add({ section, label: `snapshot files written (scrollback ${DEFAULT_SCROLLBACK})`, unit: 'MB', value: written.bytes / 1e6 });
    }

    // Peer: tmuxp freeze, one process per session.
    const version = await tmuxpVersion();
    if (!version) {
      report.add({ section, label: 'tmuxp freeze', unit: '', text: 'skipped' });
      report.note('save all: tmuxp is not installed (apt-get install tmuxp); peer skipped.');
      console.log('   tmuxp not installed: peer skipped');
      return;
    }
    report.meta.tmuxp = version;
    const env = { ...process.env, ...isolatedEnv(server) };
    const out = fs.mkdtempSync(path.join(work, 'tmuxp-freeze-'));
    const freeze = (name: string, file: string, e: NodeJS.ProcessEnv) => runProgram('tmuxp', ['freeze', '-S', server.socketPath, '-o', file, '--yes', '--quiet', '--force', name], e);
    // Warm-up (page cache for Python and its modules), untimed.
    await freeze(specs[0].name, path.join(out, 'warmup.yaml'), env);
    const start = now();
    for (const spec of specs) await freeze(spec.name, path.join(out, `${spec.name}.yaml`), env);
    const peerMs = msSince(start);
    console.log(`   tmuxp freeze × ${sessions}: ${fmt(peerMs)} ms`);
    const frozen = fs.readdirSync(out).filter((f) => f.startsWith('proj-'));
    const text = fs.readFileSync(path.join(out, `${specs[0].name}.yaml`), 'utf8');
    if (frozen.length !== sessions || !text.includes(`session_name: ${specs[0].name}`)) throw new Error(`tmuxp freeze wrote ${frozen.length} files, expected ${sessions}`);
    const peer = summarize([peerMs]);
    report.add({ section, label: `tmuxp freeze × ${sessions} (one process per session), total wall`, unit: 'ms', summary: peer });
    report.add({ section, label: '  per session', unit: 'ms', value: peerMs / sessions });

    const realTmux = onPath('tmux');
    if (realTmux) {
      const counter = new TmuxCounter(work, realTmux);
      const sample = specs.slice(0, 4);
      for (const spec of sample) await freeze(spec.name, path.join(out, 'counted.yaml'), counter.env(env));
      report.note(`save all, tmuxp freeze: ${fmt(counter.take() / sample.length)} tmux processes per session (counted in a separate run of ${sample.length} sessions).`);
    }
    for (const [lines, v] of ours) {
      if (!v.total.length) continue;
      const ratio = peerMs / summarize(v.total).median;
      report.add({
        section,
        label: `ratio tmuxp freeze / ours (${lines ? `scrollback ${lines}` : 'no scrollback'})`,
        unit: '×',
        value: ratio,
        target: '≥ 50×',
        pass: ratio >= 50,
      });
    }
    report.note(`save all: tmuxp ${version.replace(/^tmuxp /, '')}: tmuxp freeze -S <socket> -o <file>.yaml --yes --quiet --force <session>, one after another; it saves no scrollback.`);
  } finally {
    if (service) await Promise.race([service.dispose(), sleep(3000)]);
    const killStart = now();
    server.kill();
    console.log(`   save server killed in ${fmt(msSince(killStart))} ms`);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 8. Restore

/** The layout without its checksum and pane ids: the shape tmux was asked to make. */
function layoutShape(layout: string): string {
  return layout.replace(/^[0-9a-f]{4},/, '').replace(/(\d+x\d+,\d+,\d+),\d+/g, '$1');
}

/** What a tmuxp workspace file holds for one session: windows, layouts, folders, no commands. */
function workspaceYaml(session: Session): string {
  const q = (text: string) => JSON.stringify(text); // JSON strings are YAML strings.
  const out = [`session_name: ${q(session.name)}`, 'windows:'];
  for (const window of session.windows) {
    out.push(`  - window_name: ${q(window.name)}`, `    layout: ${q(window.layout)}`, `    start_directory: ${q(window.panes[0].currentPath)}`, '    panes:');
    for (const pane of window.panes) out.push(`      - start_directory: ${q(pane.currentPath)}`);
  }
  return out.join('\n') + '\n';
}

type Shape = Map<string, string[]>;

/** Session name → layout shape of each window, read by a separate tmux process. */
async function serverShape(server: PrivateServer): Promise<{ sessions: Shape; panes: number }> {
  const rows = (await server.tmux('list-windows', '-a', '-F', '#{session_name}\t#{window_panes}\t#{window_layout}')).split('\n').filter(Boolean);
  const sessions: Shape = new Map();
  let panes = 0;
  for (const row of rows) {
    const [name, count, layout] = row.split('\t');
    panes += Number(count);
    sessions.set(name, [...(sessions.get(name) ?? []), layoutShape(layout)]);
  }
  return { sessions, panes };
}

interface Trial {
  /** From the start to every session and pane on the server. */
  readonly ms: number;
  /** From the start to every pane having replayed its scrollback (its file deleted). */
  readonly replayedMs?: number;
  /** CPU the tmux server used from its start to the end of the trial. */
  readonly serverCpuMs?: number;
  /** Ours: commands the service sent, and whole-tree snapshots it took meanwhile. */
  readonly commands?: number;
  readonly snapshots?: number;
  readonly layoutsMatching: number;
  readonly windows: number;
  readonly note?: string;
}

export interface RestoreBenchOptions {
  readonly sessions: number;
  readonly rounds: number;
}

export async function benchRestore(report: Report, options: RestoreBenchOptions): Promise<void> {
  const { sessions } = options;
  const panes = sessions * PANES_PER_SESSION;
  const section = `${RESTORE_SECTION}: ${sessions} sessions × ${PANES_PER_SESSION} panes`;
  const work = mkWork();
  try {
    // The sessions to restore, built and read on a source server that is then killed.
    const specs = Array.from({ length: sessions }, (_, i) => sessionSpec(i, work));
    const source = new PrivateServer();
    let tree: readonly Session[];
    let withScrollback: Snapshot[] | undefined;
    const missing = missingCore().filter((m) => !m.startsWith('SnapshotStore'));
    try {
      await buildSessions(source, specs, work);
      const service = await connect(source, panes);
      try {
        tree = service.tree.sessions;
        if (!missing.length) {
          withScrollback = await captureSessions((argv) => service.run(argv), tree, { kind: 'manual', scrollbackLines: DEFAULT_SCROLLBACK, tmuxVersion: service.getStats().version?.text ?? '' });
        }
      } finally {
        await service.dispose();
      }
    } finally {
      source.kill();
    }
    const expected: Shape = new Map(tree.map((session) => [session.name, session.windows.map((w) => layoutShape(w.layout))]));
    const windows = [...expected.values()].reduce((n, l) => n + l.length, 0);

    /** Polls a separate tmux process until every session has all its panes; compares layouts. */
    const untilComplete = async (server: PrivateServer, start: bigint): Promise<Trial> => {
      let shape = await serverShape(server).catch(() => undefined);
      while (!shape || shape.panes < panes || shape.sessions.size < sessions) {
        if (msSince(start) > 120_000) throw new Error(`restore incomplete after 120 s: ${shape?.sessions.size ?? 0} sessions, ${shape?.panes ?? 0} panes`);
        await sleep(5);
        shape = await serverShape(server).catch(() => undefined);
      }
      const ms = msSince(start);
      let matching = 0;
      for (const [name, layouts] of expected) {
        const got = shape.sessions.get(name) ?? [];
        layouts.forEach((layout, w) => {
          if (got[w] === layout) matching++;
        });
      }
      return { ms, layoutsMatching: matching, windows };
    };

    type Variant = { name: string; run: () => Promise<Trial> };
    const variants: Variant[] = [];

    if (missing.length || !withScrollback) {
      report.add({ section, label: 'ours: restoreSnapshot', unit: '', text: 'skipped' });
      report.note(`restore: ours skipped, not implemented yet: ${missing.join(', ')}.`);
    } else {
      const bare = withScrollback.map((snap) => ({ ...snap, session: { ...snap.session, windows: snap.session.windows.map((w) => ({ ...w, panes: w.panes.map((p) => ({ ...p, scrollback: null })) })) } }));
      const ours = (snapshots: Snapshot[], parallel: boolean) => async (): Promise<Trial> => {
        const target = new PrivateServer();
        try {
          return await withEnv(isolatedEnv(target), async () => {
            // As in the extension: the service is up (no server yet) before the user asks.
            const service = new TmuxService(target.address);
            try {
              await service.start();
              const run: Runner = (argv) => service.runStartingServer(argv);
              const tempRoot = path.join(target.folder, 'restore-tmp');
              const restoreOptions = (k: number) => ({
                policy: 'none' as const,
                safePrograms: [],
                restoreCommands: {},
                // Concurrent restores each need a tempDir of their own: a restore removes the empty
                // restore-* folders it finds there, which includes one another restore has just made.
                tempDir: parallel ? path.join(tempRoot, String(k)) : tempRoot,
              });
              const before = service.getStats();
              const start = now();
              // As the restore command does it: the tree is read once after each restore, not after every split.
              if (parallel) {
                // The first alone: it starts the server (tmux clients racing to start one fail with
                // "no server running"); then all the others at once over the one control client.
                await service.batch(() => restoreSnapshot(run, snapshots[0], restoreOptions(0)));
                await Promise.all(snapshots.slice(1).map((snap, k) => service.batch(() => restoreSnapshot(run, snap, restoreOptions(k + 1)))));
              } else {
                for (const snap of snapshots) await service.batch(() => restoreSnapshot(run, snap, restoreOptions(0)));
              }
              const trial = await untilComplete(target, start);
              let replayedMs: number | undefined;
              if (snapshots.some((snap) => snap.session.windows.some((w) => w.panes.some((p) => p.scrollback)))) {
                await waitFor('every pane replayed its scrollback', () => countFiles(tempRoot, '.txt') === 0, 60_000, 5);
                replayedMs = msSince(start);
              }
              await target.adopt();
              const after = service.getStats();
              return { ...trial, replayedMs, serverCpuMs: cpuMs(target.pid), commands: after.commandsSent - before.commandsSent, snapshots: after.snapshots - before.snapshots };
            } finally {
              await Promise.race([service.dispose(), sleep(3000)]);
            }
          });
        } finally {
          target.kill();
        }
      };
      variants.push({ name: 'ours sequential', run: ours(bare, false) });
      variants.push({ name: 'ours parallel', run: ours(bare, true) });
      variants.push({ name: 'ours sequential + scrollback', run: ours(withScrollback, false) });
    }

    const version = await tmuxpVersion();
    const yamlDir = path.join(work, 'workspaces');
    fs.mkdirSync(yamlDir);
    const files = tree.map((session) => {
      const file = path.join(yamlDir, `${session.name}.yaml`);
      fs.writeFileSync(file, workspaceYaml(session));
      return file;
    });
    const tmuxp = (oneCall: boolean, counter?: TmuxCounter, only?: number) => async (): Promise<Trial> => {
      const target = new PrivateServer();
      try {
        const env = { ...process.env, ...isolatedEnv(target) };
        const load = (which: string[]) => runProgram('tmuxp', ['load', '-y', '-d', '-S', target.socketPath, ...which], counter ? counter.env(env) : env);
        const start = now();
        if (only !== undefined) {
          await load(files.slice(0, only));
          await target.adopt();
          return { ms: msSince(start), layoutsMatching: 0, windows: 0 };
        }
        if (oneCall) await load(files);
        else for (const file of files) await load([file]);
        const trial = await untilComplete(target, start);
        await target.adopt();
        return { ...trial, serverCpuMs: cpuMs(target.pid) };
      } finally {
        target.kill();
      }
    };
    if (version) {
      report.meta.tmuxp = version;
      variants.push({ name: 'tmuxp', run: tmuxp(true) });
    } else {
      report.add({ section, label: 'tmuxp load', unit: '', text: 'skipped' });
      report.note('restore: tmuxp is not installed (apt-get install tmuxp); peer skipped.');
      console.log('   tmuxp not installed: peer skipped');
    }

    // Every variant once per round, in rotating order, after an untimed warm-up (for tmuxp, one
    // file: enough to bring Python and its modules into the page cache).
    const samples = new Map<string, Trial[]>(variants.map((v) => [v.name, []]));
    if (version) await tmuxp(true, undefined, 1)();
    for (let round = 0; round < 1 + options.rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const variant = variants[(round + k) % variants.length];
        if (round === 0 && variant.name !== 'ours sequential') continue; // warm-up: Node's code paths and the page cache
        const trial = await variant.run();
        console.log(`   ${round === 0 ? 'warm-up' : `round ${round}`}: ${variant.name}: ${fmt(trial.ms)} ms${trial.replayedMs === undefined ? '' : ` (replayed: ${fmt(trial.replayedMs)} ms)`}`);
        if (round > 0) samples.get(variant.name)!.push(trial);
      }
    }
    const summaryOf = (name: string): Summary | undefined => {
      const trials = samples.get(name);
      return trials && trials.length ? summarize(trials.map((t) => t.ms)) : undefined;
    };
    const layouts = (name: string) => {
      const t = samples.get(name)?.[0];
      return t ? `${t.layoutsMatching}/${t.windows}` : '';
    };
    const labels: Record<string, string> = {
      'ours sequential': `ours: restoreSnapshot × ${sessions}, one after another, no scrollback`,
      'ours parallel': `ours: restoreSnapshot × ${sessions}, first alone then the rest at once, no scrollback`,
      'ours sequential + scrollback': `ours: restoreSnapshot × ${sessions}, one after another, with scrollback (${DEFAULT_SCROLLBACK})`,
      tmuxp: `tmuxp load -d of ${sessions} workspace files, one call`,
    };
    for (const variant of variants) {
      const summary = summaryOf(variant.name);
      if (summary) report.add({ section, label: labels[variant.name], unit: 'ms', summary });
      const replayed = (samples.get(variant.name) ?? []).flatMap((t) => (t.replayedMs === undefined ? [] : [t.replayedMs]));
      if (replayed.length) report.add({ section, label: '  until every pane has replayed its scrollback', unit: 'ms', summary: summarize(replayed) });
    }

    if (version) {
      // One call per file, once, for comparison (slower: Python starts 20 times).
      const perFile = await tmuxp(false)();
      report.add({ section, label: `tmuxp load -d, one call per file (× ${sessions}, once)`, unit: 'ms', summary: summarize([perFile.ms]) });
      const realTmux = onPath('tmux');
      if (realTmux) {
        const counter = new TmuxCounter(work, realTmux);
        const sample = 2;
        await tmuxp(true, counter, sample)();
        report.note(`restore, tmuxp load: ${fmt(counter.take() / sample)} tmux processes per session (counted in a separate run of ${sample} sessions).`);
      }
      const peer = summaryOf('tmuxp')!;
      const ratioRow = (name: string, what: string) => {
        const ours = summaryOf(name);
        if (!ours) return;
        const ratio = peer.median / ours.median;
        report.add({ section, label: `ratio tmuxp load / ours (${what})`, unit: '×', value: ratio, target: '> 1×', pass: ratio > 1 });
      };
      ratioRow('ours sequential', 'one after another, no scrollback');
      ratioRow('ours parallel', 'all at once, no scrollback');
      ratioRow('ours sequential + scrollback', 'one after another, with scrollback: more work than the peer');
      report.note(
        `restore: tmuxp ${version.replace(/^tmuxp /, '')}: tmuxp load -y -d -S <socket> <20 files> (one call: faster than one call per file). ` +
          'Workspaces generated from the same sessions: window names, the saved layout string, each pane\'s folder, no commands.',
      );
    }
    const cpuNotes = variants
      .map((v) => {
        const cpus = (samples.get(v.name) ?? []).flatMap((t) => (t.serverCpuMs === undefined ? [] : [t.serverCpuMs]));
        return cpus.length ? `${v.name} ${fmt(summarize(cpus).median)} ms` : '';
      })
      .filter(Boolean);
    if (cpuNotes.length) report.note(`restore: CPU of the tmux server (median per trial): ${cpuNotes.join(', ')}.`);
    const serviceNotes = variants
      .map((v) => {
        const t = samples.get(v.name)?.[0];
        return t?.commands !== undefined ? `${v.name} ${t.commands} commands, ${t.snapshots} snapshots` : '';
      })
      .filter(Boolean);
    if (serviceNotes.length) report.note(`restore, ours: commands the TmuxService ran, and whole-tree snapshots it took meanwhile (first trial): ${serviceNotes.join('; ')}.`);
    const layoutNotes = variants.map((v) => `${v.name} ${layouts(v.name)}`).join(', ');
    report.note(`restore: windows whose layout matches the saved one (shape, ignoring checksum and pane ids): ${layoutNotes}.`);
    report.note('restore: timed from the first command to a separate `tmux list-windows -a` showing every session with all its panes, on a fresh private server each time (the restore starts it).');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
