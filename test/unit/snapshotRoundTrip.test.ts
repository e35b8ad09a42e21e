import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureSessions } from '../../src/core/snapshots/capture';
import { parseSnapshotText, serializeSnapshot, Snapshot } from '../../src/core/snapshots/document';
import { DEFAULT_RESTORE_COMMANDS, DEFAULT_SAFE_PROGRAMS } from '../../src/core/snapshots/programs';
import { planPrograms, RestoreCancelled, RestoreOptions, restoreSnapshot } from '../../src/core/snapshots/restore';
import { InvalidInputError } from '../../src/tmux/errors';
import { layoutGeometry } from '../../src/tmux/layout';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

/** What a user sees of a server: every pane with its session, window, layout, folder and program. */
interface SeenPane {
  session: string;
  windowIndex: number;
  windowName: string;
  windowActive: boolean;
  zoomed: boolean;
  layout: string;
  paneIndex: number;
  paneActive: boolean;
  cwd: string;
  command: string;
  id: string;
}

const FIELDS = [
  'session_name',
  'window_index',
  'window_name',
  'window_active',
  'window_zoomed_flag',
  'window_layout',
  'pane_index',
  'pane_active',
  'pane_current_path',
  'pane_current_command',
  'pane_id',
];

function seen(server: PrivateTmux): SeenPane[] {
  const out = server.tmux('list-panes', '-a', '-F', FIELDS.map((f) => `#{${f}}`).join('\u001f'));
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const v = line.split('\u001f');
      return {
        session: v[0],
        windowIndex: Number(v[1]),
        windowName: v[2],
        windowActive: v[3] === '1',
        zoomed: v[4] === '1',
        layout: v[5],
        paneIndex: Number(v[6]),
        paneActive: v[7] === '1',
        cwd: v[8],
        command: v[9],
        id: v[10],
      };
    })
    .sort((a, b) => a.session.localeCompare(b.session) || a.windowIndex - b.windowIndex || a.paneIndex - b.paneIndex);
}

/** The parts a restore promises to bring back (ids and programs differ by design). */
function shape(panes: SeenPane[]): string[] {
  return panes.map((p) => [p.session, p.windowIndex, p.windowName, p.windowActive, p.zoomed, layoutGeometry(p.layout), p.paneIndex, p.paneActive, p.cwd].join(' | '));
}

function filesUnder(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return (fs.readdirSync(folder, { recursive: true }) as string[]).filter((name) => fs.statSync(path.join(folder, name)).isFile());
}

const SESSION_NAMES = ['plain', 'with space', 'ünïcødé ✓ 日本', `it's "quoted"`, 'semi;colon', 'hash#tag', 'dollar$', 'brace{x}', 'tilde~home', 'percent%d'];

describe('Snapshots: save, lose the server, restore', function () {
  this.timeout(120_000);
  let server: PrivateTmux;
  let work: string;
  const services: TmuxService[] = [];

  beforeEach(function () {
    server = new PrivateTmux();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-roundtrip-'));
  });

  afterEach(async function () {
    for (const service of services.splice(0)) await service.dispose();
    server.kill();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function connectedService(): Promise<TmuxService> {
    const service = new TmuxService(server.address);
    services.push(service);
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok');
    await service.refresh();
    return service;
  }

  async function save(): Promise<Snapshot[]> {
    const service = await connectedService();
    const snapshots = await captureSessions((argv) => service.run(argv), service.tree.sessions, { kind: 'manual', scrollbackLines: 500, tmuxVersion: '3.3a' });
    await service.dispose();
    services.splice(services.indexOf(service), 1);
    // Through the file format and its validation, as a real save and restore go.
    return snapshots.map((s) => {
      const parsed = parseSnapshotText(serializeSnapshot(s));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      return parsed.snapshot;
    });
  }

  function loseServer(): void {
    server.tmux('kill-server');
    assert.equal(server.isRunning(), false);
  }

  function restoreOptions(extra: Partial<RestoreOptions> = {}): RestoreOptions {
    return { policy: 'safe', safePrograms: DEFAULT_SAFE_PROGRAMS, restoreCommands: DEFAULT_RESTORE_COMMANDS, tempDir: path.join(work, 'tmp'), ...extra };
  }

  /** Restores through a service that finds no server, as after a reboot. */
  async function restoreAll(snapshots: Snapshot[], extra: Partial<RestoreOptions> = {}) {
    const service = new TmuxService(server.address);
    services.push(service);
    await service.start();
    const results = [];
    for (const snapshot of snapshots) results.push(await restoreSnapshot((argv) => service.runStartingServer(argv), snapshot, restoreOptions(extra)));
    return results;
  }

  function folder(name: string): string {
    const dir = path.join(work, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  async function waitForText(paneId: string, text: string): Promise<void> {
    await eventually(`"${text}" in ${paneId}`, () => server.tmux('capture-pane', '-p', '-t', paneId).includes(text), 5000);
  }

  async function waitForCommand(paneId: string, command: string): Promise<void> {
    await eventually(`${command} in ${paneId}`, () => server.tmux('display-message', '-p', '-t', paneId, '#{pane_current_command}').trim() === command, 5000);
  }

  /** 20 sessions: nested splits, zoom, gaps in window indexes, odd names and folders. */
  async function buildVariedServer(): Promise<void> {
    const dirs = [folder('plain'), folder('dir with space'), folder(`it's "quoted" dir`), folder('ünïcødé dir')];
    for (let i = 0; i < 20; i++) {
      const name = i < SESSION_NAMES.length ? SESSION_NAMES[i] : `session ${i}`;
      const cwd = dirs[i % dirs.length];
      const sid = server.tmux('new-session', '-d', '-x', '160', '-y', '50', '-s', name, '-c', cwd, '-n', `main ${i}`, '-P', '-F', '#{session_id}').trim();
      // Window 0: nested splits (left | right split top/bottom | bottom split again).
      const left = server.tmux('display-message', '-p', '-t', `${sid}:`, '#{pane_id}').trim();
      const right = server.tmux('split-window', '-h', '-t', left, '-c', dirs[(i + 1) % dirs.length], '-P', '-F', '#{pane_id}').trim();
      const rightBottom = server.tmux('split-window', '-v', '-t', right, '-l', '30%', '-c', dirs[(i + 2) % dirs.length], '-P', '-F', '#{pane_id}').trim();
      if (i % 2 === 0) server.tmux('split-window', '-h', '-t', rightBottom, '-l', '10', '-c', cwd);
      if (i % 3 === 0) {
        // A window at a gap in the numbering, with three panes and a zoom.
        const w = server.tmux('new-window', '-d', '-t', `${sid}:5`, '-n', 'zoomed ✓', '-c', cwd, '-P', '-F', '#{window_id}').trim();
        server.tmux('split-window', '-v', '-t', w, '-c', cwd);
        server.tmux('split-window', '-h', '-t', w, '-c', cwd);
        server.tmux('resize-pane', '-Z', '-t', w);
      }
      if (i % 4 === 1) {
        server.tmux('new-window', '-d', '-t', `${sid}:9`, '-n', 'logs', '-c', cwd);
        server.tmux('select-window', '-t', `${sid}:9`);
      }
      // The active pane is not always the first one.
      server.tmux('select-pane', '-t', i % 2 === 0 ? right : left);
    }
  }

  it('brings back 20 sessions with identical layouts, folders, names, active window and pane, and zoom', async function () {
    await buildVariedServer();
    const before = seen(server);
    assert.equal(new Set(before.map((p) => p.session)).size, 20);
    assert.ok(before.some((p) => p.zoomed));
    const snapshots = await save();
    loseServer();
    await restoreAll(snapshots);
    // Folders are read from the shells, which take a moment to start.
    await eventually('every pane in its folder', () => shape(seen(server)).join('\n') === shape(before).join('\n'), 10_000).catch(() => undefined);
    assert.deepEqual(shape(seen(server)), shape(before));
  });

  it('replays saved scrollback into each pane, with the new shell prompt below it', async function () {
    const sid = server.newSession('history');
    const pane = server.tmux('display-message', '-p', '-t', `${sid}:`, '#{pane_id}').trim();
    const other = server.tmux('split-window', '-h', '-t', pane, '-P', '-F', '#{pane_id}').trim();
    server.tmux('send-keys', '-t', pane, '-l', 'printf "\\033[31mred-marker-1\\033[0m\\n"; echo line-two-marker');
    server.tmux('send-keys', '-t', pane, 'Enter');
    server.tmux('send-keys', '-t', other, '-l', 'echo other-pane-marker');
    server.tmux('send-keys', '-t', other, 'Enter');
    await waitForText(pane, 'line-two-marker');
    await waitForText(other, 'other-pane-marker');
    const snapshots = await save();
    assert.match(snapshots[0].session.windows[0].panes[0].scrollback!.text, /\u001b\[31mred-marker-1/, 'colours are kept');
    loseServer();
    await restoreAll(snapshots);
    const [restoredLeft, restoredRight] = seen(server).map((p) => p.id);
    await waitForText(restoredLeft, 'line-two-marker');
    await waitForText(restoredLeft, 'red-marker-1');
    await waitForText(restoredRight, 'other-pane-marker');
    const colour = server.tmux('capture-pane', '-p', '-e', '-t', restoredLeft);
    assert.match(colour, /\u001b\[31mred-marker-1/, 'the replay keeps the colours');
    // The replay files delete themselves once printed.
    await eventually('replay files removed', () => filesUnder(path.join(work, 'tmp')).length === 0, 5000);
  });

  it('restarts programs per policy: safe ones always, others only under "all" and only when approved', async function () {
    const file = path.join(folder('files'), 'notes.txt');
    fs.writeFileSync(file, 'some notes\n');
    const sid = server.newSession('programs');
    const shellPane = server.tmux('display-message', '-p', '-t', `${sid}:`, '#{pane_id}').trim();
    const sleepPane = server.tmux('split-window', '-t', shellPane, '-P', '-F', '#{pane_id}').trim();
    const lessPane = server.tmux('split-window', '-t', shellPane, '-P', '-F', '#{pane_id}').trim();
    // Typed at a prompt (the usual way) and started as the pane's own command.
    server.tmux('send-keys', '-t', lessPane, '-l', `less ${file}`);
    server.tmux('send-keys', '-t', lessPane, 'Enter');
    server.tmux('send-keys', '-t', sleepPane, '-l', 'sleep 4242');
    server.tmux('send-keys', '-t', sleepPane, 'Enter');
    server.tmux('new-window', '-d', '-t', `${sid}:3`, '-n', 'tail', '--', 'tail', '-f', file);
    await waitForCommand(lessPane, 'less');
    await waitForCommand(sleepPane, 'sleep');
    const snapshots = await save();
    const programs = snapshots[0].session.windows.flatMap((w) => w.panes.map((p) => p.program?.argv.join(' ') ?? null));
    assert.deepEqual(programs.sort(), [null, 'sleep 4242', `less ${file}`, `tail -f ${file}`].sort());

    assert.deepEqual(
      planPrograms(snapshots[0], restoreOptions()).map((p) => [p.command, p.safe]),
      [[`less ${file}`, true], [`tail -f ${file}`, true]],
      '"safe" plans the pager and tail, not sleep',
    );
    assert.deepEqual(planPrograms(snapshots[0], restoreOptions({ policy: 'none' })), []);

    loseServer();
    const asked: string[][] = [];
    const [result] = await restoreAll(snapshots, { policy: 'all', approve: async (list) => (asked.push(list.map((p) => p.command)), false) });
    assert.deepEqual(asked, [['sleep 4242']], 'asks once, listing only the program outside the safe list');
    assert.equal(result.programsStarted.length, 2);
    assert.equal(result.programsSkipped.length, 1);
    const commands = () => seen(server).map((p) => p.command).sort();
    await eventually('less and tail running again', () => commands().includes('less') && commands().includes('tail'), 5000);
    assert.ok(!commands().includes('sleep'), 'a program the user declined is not started');

    // With approval, the same snapshot under another name starts sleep too.
    const service = services[services.length - 1];
    const approved = await restoreSnapshot((argv) => service.run(argv), snapshots[0], restoreOptions({ name: 'programs-2', policy: 'all', approve: async () => true }));
    assert.equal(approved.programsStarted.length, 3);
    await eventually('sleep running in the copy', () => seen(server).some((p) => p.session === 'programs-2' && p.command === 'sleep'), 5000);
  });

  it('resumes an agent with its resume command instead of starting it blank', async function () {
    const bin = folder('bin');
    // A stand-in agent: prints its arguments so the test sees how it was started.
    fs.writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\necho "agent started with: $*"\nsleep 4343\n', { mode: 0o755 });
    const sid = server.newSession('agent');
    const pane = server.tmux('display-message', '-p', '-t', `${sid}:`, '#{pane_id}').trim();
    server.tmux('send-keys', '-t', pane, '-l', `PATH='${bin}':$PATH; export PATH; claude --model x`);
    server.tmux('send-keys', '-t', pane, 'Enter');
    await waitForText(pane, 'agent started with: --model x');
    const snapshots = await save();
    const plan = planPrograms(snapshots[0], restoreOptions());
    assert.equal(plan.length, 1, `planned ${JSON.stringify(plan)} from ${JSON.stringify(snapshots[0].session.windows[0].panes[0].program)}`);
    assert.equal(plan[0].command, 'claude --continue');
    assert.equal(plan[0].safe, false, 'an agent is asked about before it starts');
    loseServer();
    // Restored panes run login shells, as tmux starts them: the agent is on the PATH the user's
    // profile sets (HOME is a temporary folder in tests).
    const profile = path.join(os.homedir(), '.bash_profile');
    fs.writeFileSync(profile, `PATH='${bin}':$PATH\nexport PATH\n`);
    const [result] = await restoreAll(snapshots, { approve: async () => true }).finally(() => fs.rmSync(profile));
    assert.deepEqual(result.programsStarted, ['agent.0: claude --continue'.replace('agent', snapshots[0].session.windows[0].name)]);
    const [restored] = seen(server);
    await waitForText(restored.id, 'agent started with: --continue').catch((error) => assert.fail(`${error}\n${server.tmux('capture-pane', '-p', '-t', restored.id)}`));
  });

  it('never clobbers an existing session: refuses, restores under another name, or replaces only when complete', async function () {
    const sid = server.newSession('keep');
    server.tmux('rename-window', '-t', `${sid}:`, 'original');
    const snapshots = await save();
    server.tmux('rename-window', '-t', `${sid}:`, 'changed since');
    const service = await connectedService();
    const run = (argv: readonly string[]) => service.run(argv);
    await assert.rejects(restoreSnapshot(run, snapshots[0], restoreOptions()), (error: Error) => error instanceof InvalidInputError && /already exists/.test(error.message));
    await restoreSnapshot(run, snapshots[0], restoreOptions({ name: 'keep-restored' }));
    assert.deepEqual([...new Set(seen(server).map((p) => `${p.session}/${p.windowName}`))].sort(), ['keep-restored/original', 'keep/changed since']);
    await restoreSnapshot(run, snapshots[0], restoreOptions({ replace: true }));
    assert.deepEqual([...new Set(seen(server).map((p) => `${p.session}/${p.windowName}`))].sort(), ['keep-restored/original', 'keep/original']);
  });

  it('leaves nothing behind when cancelled halfway', async function () {
    const sid = server.newSession('big');
    for (let i = 0; i < 5; i++) {
      server.tmux('split-window', '-t', `${sid}:`, '-d');
      server.tmux('select-layout', '-t', `${sid}:`, 'tiled');
    }
    server.tmux('new-window', '-d', '-t', `${sid}:`);
    const snapshots = await save();
    const service = await connectedService();
    const controller = new AbortController();
    const progress: number[] = [];
    await assert.rejects(
      restoreSnapshot((argv) => service.run(argv), snapshots[0], restoreOptions({ name: 'half', signal: controller.signal, onProgress: (_m, f) => (progress.push(f), f > 0.4 && controller.abort()) })),
      RestoreCancelled,
    );
    assert.ok(progress.length >= 3, 'progress was reported');
    assert.deepEqual([...new Set(seen(server).map((p) => p.session))], ['big'], 'the half-built session is gone');
    assert.deepEqual(filesUnder(path.join(work, 'tmp')), [], 'no replay files left');
  });

  it('starts a pane whose folder is gone in the home folder, and says so', async function () {
    const doomed = folder('doomed');
    server.tmux('new-session', '-d', '-s', 'moved', '-c', doomed);
    const snapshots = await save();
    fs.rmSync(doomed, { recursive: true });
    loseServer();
    const [result] = await restoreAll(snapshots);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /no longer exists/);
    assert.deepEqual(seen(server).map((p) => p.session), ['moved']);
  });
});
