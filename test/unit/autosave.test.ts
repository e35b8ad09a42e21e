import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AutosaveOptions, AutosaveRecord, Autosaver, AutosaveSource, snapshotFingerprint, structuralKey } from '../../src/core/snapshots/autosave';
import { snapshotOfSession } from '../../src/core/snapshots/capture';
import { Snapshot } from '../../src/core/snapshots/document';
import { SnapshotStore } from '../../src/core/snapshots/store';
import { isAlive } from '../../src/core/processes';
import { allPanes, Session, Tree } from '../../src/tmux/model';
import { TmuxService } from '../../src/tmux/service';
import { restoreSnapshot } from '../../src/core/snapshots/restore';
import { DEFAULT_RESTORE_COMMANDS, DEFAULT_SAFE_PROGRAMS } from '../../src/core/snapshots/programs';
import { fakeSession, makeSnapshot, sleep } from './helpers/snapshotFixtures';
import { eventually, PrivateTmux } from './helpers/tmux';

/** A capture that reads only the tree: enough to test when and what the autosaver writes. */
function snapshotFromTree(session: Session): Snapshot {
  const header = { kind: 'auto' as const, savedAt: new Date().toISOString(), tmuxVersion: '3.3a', host: os.hostname() };
  return snapshotOfSession(session, header, { automaticRename: () => undefined, pane: () => ({ program: null, scrollback: null }) });
}

describe('What makes an autosave', function () {
  const tree = (...sessions: Session[]): Tree => ({ sessions, takenAt: 0 });

  it('structure does; activity, folders and programs do not, nor tmux naming a window after its program', function () {
    const base = tree(fakeSession('s', { name: 'bash', command: 'bash' }));
    const key = structuralKey(base);
    assert.equal(structuralKey(tree(fakeSession('s', { name: 'bash', command: 'bash', activity: 99, cwd: '/' })), base), key);
    // tmux renames the window a moment after the program starts: first the command changes, then the name.
    const started = tree(fakeSession('s', { name: 'bash', command: 'vim' }));
    assert.equal(structuralKey(started, base), key);
    const renamed = tree(fakeSession('s', { name: 'vim', command: 'vim' }));
    assert.equal(structuralKey(renamed, started), key);

    assert.notEqual(structuralKey(tree(fakeSession('s', { name: 'build', command: 'vim' })), renamed), key, 'a rename by the user');
    assert.notEqual(structuralKey(tree(fakeSession('t', { name: 'bash', command: 'bash' })), base), key, 'a renamed session');
    assert.notEqual(structuralKey(tree()), key, 'a closed session');
  });

  it('the fingerprint ignores scrollback, titles and the time; not folders or programs', function () {
    const snapshot = makeSnapshot('s', { scrollbackChars: 100, seed: 'a' });
    const fingerprint = snapshotFingerprint(snapshot);
    const pane = snapshot.session.windows[0].panes[0];
    const withPane = (change: object): typeof snapshot => ({ ...snapshot, session: { ...snapshot.session, windows: [{ ...snapshot.session.windows[0], panes: [{ ...pane, ...change }] }] } });
    assert.equal(snapshotFingerprint({ ...makeSnapshot('s', { scrollbackChars: 500, seed: 'b', savedAt: new Date(0) }) }), fingerprint);
    assert.equal(snapshotFingerprint(withPane({ title: 'other' })), fingerprint);
    assert.notEqual(snapshotFingerprint(withPane({ cwd: '/elsewhere' })), fingerprint);
    assert.notEqual(snapshotFingerprint(withPane({ program: { name: 'vim', argv: ['vim', 'a'] } })), fingerprint);
    // The same shape on a new server (a restore) has other pane ids and checksum: not a change.
    const withLayout = (layout: string): typeof snapshot => ({ ...snapshot, session: { ...snapshot.session, windows: [{ ...snapshot.session.windows[0], layout }] } });
    const split = 'b261,80x24,0,0{40x24,0,0,4,39x24,41,0,5}';
    assert.equal(snapshotFingerprint(withLayout('1f2e,80x24,0,0{40x24,0,0,11,39x24,41,0,12}')), snapshotFingerprint(withLayout(split)));
    assert.notEqual(snapshotFingerprint(withLayout('c2a1,80x24,0,0{50x24,0,0,4,29x24,51,0,5}')), snapshotFingerprint(withLayout(split)));
  });
});

describe('Autosaver against real tmux', function () {
  this.timeout(30_000);
  let server: PrivateTmux;
  let service: TmuxService;
  let dataDir: string;
  let store: SnapshotStore;
  let captures: number;
  const autosavers: Autosaver[] = [];
  const shells = new Set<number>();

  beforeEach(async function () {
    server = new PrivateTmux();
    server.newSession('alpha');
    service = new TmuxService({ ...server.address });
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok' && service.tree.sessions.length === 1);
    // tmux first names a new window "tmux", then after its shell: that is a rename, so wait it out.
    await eventually('the window named after its shell', () => windowNames() === service.tree.sessions[0].windows[0].panes[0].currentCommand, 5000);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-autosave-'));
    store = new SnapshotStore(dataDir);
    captures = 0;
    shells.clear();
    const remember = () => allPanes(service.tree).forEach((pane) => shells.add(pane.pid));
    remember();
    service.onDidChangeTree(remember);
  });

  afterEach(async function () {
    for (const autosaver of autosavers.splice(0)) autosaver.dispose();
    await service.dispose();
    server.kill();
    // A shell writes its history as it exits: let it finish before the test home folder goes.
    await eventually('the panes\' shells exited', () => [...shells].every((pid) => !isAlive(pid)), 5000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function makeAutosaver(options: Partial<AutosaveOptions> = {}, source: AutosaveSource = service): Autosaver {
    const autosaver = new Autosaver(source, store, {
      intervalMinutes: 60,
      keep: 5,
      debounceMs: 300,
      scrollbackLines: 0,
      tmuxVersion: () => service.getStats().version?.text ?? 'unknown',
      capture: async (sessions) => {
        captures++;
        return sessions.map(snapshotFromTree);
      },
      ...options,
    });
    autosavers.push(autosaver);
    return autosaver;
  }

  /** Snapshot files on disk, relative to the snapshots folder. */
  function files(): string[] {
    if (!fs.existsSync(store.snapshotsDir)) return [];
    return (fs.readdirSync(store.snapshotsDir, { recursive: true }) as string[]).filter((p) => p.endsWith('.json')).map((p) => p.split(path.sep).join('/')).sort();
  }

  const read = (id: string): Snapshot => JSON.parse(fs.readFileSync(path.join(store.snapshotsDir, id), 'utf8'));
  const windowNames = () => service.tree.sessions.flatMap((s) => s.windows.map((w) => w.name)).join(',');

  it('saves once, after the debounce, when windows come and are renamed', async function () {
    const autosaver = makeAutosaver();
    const records: AutosaveRecord[] = [];
    autosaver.onDidAutosave((record) => records.push(record));
    autosaver.start();

    server.tmux('new-window', '-d', '-t', 'alpha:', '-n', 'second');
    await eventually('new window seen', () => windowNames().includes('second'));
    server.tmux('rename-window', '-t', 'alpha:second', 'build');
    await eventually('rename seen', () => windowNames().includes('build'));
    assert.deepEqual(files(), [], 'nothing before the debounce');

    const file = await eventually('one file', () => (files().length === 1 ? files()[0] : undefined));
    await sleep(800);
    assert.equal(captures, 1, 'both changes made one save');
    assert.equal(files().length, 1);
    const saved = read(file);
    assert.equal(saved.kind, 'auto');
    assert.equal(saved.session.windows.length, 2);
    assert.equal(saved.session.windows[1].name, 'build', 'saved after the rename, not between');
    assert.equal(records.length, 1);
    assert.equal(records[0].sessionsWritten, 1);
    assert.deepEqual(autosaver.last, records[0]);
    assert.deepEqual((await store.readManifest())?.sessions, { alpha: file });
  });

  it('writes nothing when nothing changed', async function () {
    const autosaver = makeAutosaver();
    const first = await autosaver.saveNow();
    assert.equal(first.sessionsWritten, 1);
    const before = files();
    const manifestBefore = fs.statSync(store.manifestFile).mtimeMs;
    const fileBefore = fs.statSync(path.join(store.snapshotsDir, before[0])).mtimeMs;
    await sleep(20);

    const second = await autosaver.saveNow();
    assert.equal(second.sessionsWritten, 0);
    assert.equal(second.sessionsUnchanged, 1);
    assert.deepEqual(files(), before);
    assert.equal(fs.statSync(path.join(store.snapshotsDir, before[0])).mtimeMs, fileBefore);
    assert.equal(fs.statSync(store.manifestFile).mtimeMs, manifestBefore, 'the manifest was not rewritten');

    // A new autosaver (another window, or after a restart) compares with the file, not its memory.
    const fresh = makeAutosaver();
    assert.equal((await fresh.saveNow()).sessionsWritten, 0);
    assert.deepEqual(files(), before);

    // Dropped from the manifest (it was closed while another autosave ran), then back unchanged.
    await store.writeManifest({ savedAt: new Date().toISOString(), host: os.hostname(), sessions: { other: 'other/x.json' } });
    assert.equal((await makeAutosaver().saveNow()).sessionsWritten, 0, 'compared with its newest autosave');
    assert.deepEqual(files(), before);
  });

  it('does not save for output or a cd, and saves once soon after a program starts', async function () {
    const autosaver = makeAutosaver();
    autosaver.start();
    const summary = (tree: Tree) => tree.sessions.flatMap((s) => s.windows.map((w) => `${s.name}:${w.name} ${w.layout} ${w.panes.map((p) => p.currentCommand).join('/')}`)).join(', ');
    const seen: string[] = [];
    const first = summary(service.tree);
    service.onDidChangeTree((tree) => seen.push(summary(tree)));
    const paneId = service.tree.sessions[0].windows[0].panes[0].id;
    server.tmux('send-keys', '-t', paneId, 'cd / && echo hello', 'Enter');
    await sleep(800);
    assert.equal(captures, 0, `trees seen: ${first} ⇒ ${seen.join(' → ')}`);

    // A program started in a pane is what a crash would lose: it is saved after the debounce.
    server.tmux('send-keys', '-t', paneId, 'sleep 30', 'Enter');
    await eventually('the program is seen', () => service.tree.sessions[0].windows[0].panes[0].currentCommand === 'sleep', 5000);
    await eventually('one save', () => files().length === 1, 3000);
    // tmux names the window after the program too; that is not another change worth a save.
    await eventually('the window named after the program', () => windowNames() === 'sleep', 5000);
    await sleep(800);
    assert.equal(captures, 1, `trees seen: ${first} ⇒ ${seen.join(' → ')}`);
  });

  it('keeps only the newest N autosaves of a session, and manual snapshots besides', async function () {
    const autosaver = makeAutosaver({ keep: 3 });
    const manual = await store.save(makeSnapshot('alpha', { kind: 'manual', label: 'mine', savedAt: new Date(Date.now() - 60_000) }));
    for (const name of ['one', 'two', 'three', 'four', 'five']) {
      server.tmux('rename-window', '-t', 'alpha:0', name);
      await eventually(`rename to ${name} seen`, () => windowNames() === name);
      const record = await autosaver.saveNow();
      assert.equal(record.sessionsWritten, 1, `saved after renaming to ${name}`);
      await sleep(2); // distinct timestamps
    }
    const left = await store.list();
    assert.deepEqual(left.filter((e) => e.kind === 'auto').map((e) => read(e.id).session.windows[0].name), ['five', 'four', 'three']);
    assert.deepEqual(left.filter((e) => e.kind === 'manual').map((e) => e.id), [manual.id]);
    assert.equal(files().length, 4);
  });

  it('saves a session whose shell changed folder, though tmux reported no change', async function () {
    const autosaver = makeAutosaver();
    await autosaver.saveNow();
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-cd-'));
    try {
      server.tmux('send-keys', '-t', 'alpha:0', `cd '${folder}'`, 'Enter');
      await eventually('the shell in the new folder', () => server.tmux('display-message', '-p', '-t', 'alpha:0', '#{pane_current_path}').trim() === fs.realpathSync(folder), 5000);
      const record = await autosaver.saveNow();
      assert.equal(record.sessionsWritten, 1, 'the new folder is a change worth saving');
      const manifest = await store.readManifest();
      assert.equal(read(manifest!.sessions.alpha).session.windows[0].panes[0].cwd, fs.realpathSync(folder));
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('the manifest names every live session and the file holding it', async function () {
    const betaId = server.newSession('beta two');
    server.newSession('γ "3";x');
    await eventually('three sessions', () => service.tree.sessions.length === 3);
    // As in beforeEach: a new window is renamed after its shell once that starts (slow under load).
    const settled = () => service.tree.sessions.every((s) => s.windows.every((w) => w.name === w.panes[0].currentCommand && w.name !== 'tmux'));
    await eventually('every window named after its shell', settled, 5000);
    const autosaver = makeAutosaver();
    await autosaver.saveNow();
    const manifest = await store.readManifest();
    assert.deepEqual(Object.keys(manifest!.sessions).sort(), ['alpha', 'beta two', 'γ "3";x']);
    for (const [name, id] of Object.entries(manifest!.sessions)) assert.equal(read(id).session.name, name);
    assert.equal(manifest!.host, os.hostname());

    server.tmux('kill-session', '-t', betaId);
    await eventually('two sessions', () => service.tree.sessions.length === 2);
    const record = await autosaver.saveNow();
    assert.equal(record.sessionsWritten, 0, 'the others did not change');
    const after = await store.readManifest();
    assert.deepEqual(after!.sessions, { alpha: manifest!.sessions.alpha, 'γ "3";x': manifest!.sessions['γ "3";x'] });
    assert.equal(files().length, 3, 'the closed session keeps its snapshot');
  });

  it('with no server, or no sessions, writes nothing and keeps the manifest for the after-reboot offer', async function () {
    const autosaver = makeAutosaver();
    await autosaver.saveNow();
    const manifestText = fs.readFileSync(store.manifestFile, 'utf8');
    const before = files();

    server.tmux('kill-server');
    await eventually('server gone', () => service.state.kind !== 'ok');
    const record = await autosaver.saveNow();
    assert.match(record.skipped ?? '', /tmux is not connected \((noServer|reconnecting)\)/);
    assert.equal(autosaver.last?.sessionsWritten, 1, 'a skipped run does not replace the last record');

    const noSessions = { sessions: [], takenAt: Date.now() };
    const empty = makeAutosaver({}, { tree: noSessions, state: { kind: 'ok' }, onDidChangeTree: () => ({ dispose() {} }), refresh: async () => noSessions, run: service.run.bind(service) });
    assert.equal((await empty.saveNow()).skipped, 'the server has no sessions');

    assert.equal(captures, 1);
    assert.deepEqual(files(), before);
    assert.equal(fs.readFileSync(store.manifestFile, 'utf8'), manifestText);
  });

  it('records a failing capture without throwing, and runs never overlap', async function () {
    let running = 0;
    let overlapped = false;
    let fail = true;
    const autosaver = makeAutosaver({
      capture: async (sessions) => {
        captures++;
        running++;
        overlapped ||= running > 1;
        await sleep(150);
        running--;
        if (fail) throw new Error('tmux went away');
        return sessions.map(snapshotFromTree);
      },
    });
    const record = await autosaver.saveNow();
    assert.equal(record.error, 'tmux went away');
    assert.equal(autosaver.last?.error, 'tmux went away');
    assert.deepEqual(files(), []);

    fail = false;
    const records = await Promise.all([autosaver.saveNow(), autosaver.saveNow(), autosaver.saveNow(), autosaver.saveNow()]);
    assert.equal(overlapped, false);
    assert.equal(captures, 3, 'the first failed run, one run, and one more for everyone who asked during it');
    assert.deepEqual(records.map((r) => r.sessionsWritten), [1, 0, 0, 0]);
    assert.equal(files().length, 1);
  });

  it('saves on its timer, and after dispose neither the timer nor changes save again', async function () {
    const autosaver = makeAutosaver({ intervalMinutes: 0.005 }); // 300 ms
    autosaver.start();
    await eventually('a save by the timer', () => captures >= 1 && files().length === 1);
    autosaver.dispose();
    const capturesAtDispose = captures;
    server.tmux('new-window', '-d', '-t', 'alpha:', '-n', 'after');
    await eventually('window seen', () => windowNames().includes('after'));
    await sleep(900);
    assert.equal(captures, capturesAtDispose);
    assert.equal(files().length, 1);
    assert.match((await autosaver.saveNow()).skipped ?? '', /stopped/);
  });

  it('interval 0 turns it off', async function () {
    const autosaver = makeAutosaver({ intervalMinutes: 0 });
    autosaver.start();
    server.tmux('new-window', '-d', '-t', 'alpha:', '-n', 'ignored');
    await eventually('window seen', () => windowNames().includes('ignored'));
    await sleep(700);
    assert.equal(captures, 0);
    assert.deepEqual(files(), []);
  });

  it('with the real capture: saves scrollback along, but output alone is no reason to save', async function () {
    const autosaver = makeAutosaver({ capture: undefined, scrollbackLines: 200 });
    const paneId = service.tree.sessions[0].windows[0].panes[0].id;
    server.tmux('send-keys', '-t', paneId, 'echo marker-$((6*7))', 'Enter');
    await eventually('output', () => server.tmux('capture-pane', '-p', '-t', paneId).includes('marker-42'));
    const first = await autosaver.saveNow();
    assert.equal(first.error, undefined);
    assert.equal(first.sessionsWritten, 1);
    const [file] = files();
    const saved = read(file);
    assert.equal(saved.session.name, 'alpha');
    assert.match(saved.session.windows[0].panes[0].scrollback?.text ?? '', /marker-42/);
    assert.equal(saved.tmuxVersion, service.getStats().version?.text);

    server.tmux('send-keys', '-t', paneId, 'echo more-$((6*7))', 'Enter');
    await eventually('more output', () => server.tmux('capture-pane', '-p', '-t', paneId).includes('more-42'));
    const second = await autosaver.saveNow();
    assert.equal(second.error, undefined);
    assert.equal(second.sessionsWritten, 0);
    assert.deepEqual(files(), [file]);
  });
});

describe('Autosave catches what a crash would lose', function () {
  this.timeout(40_000);

  it('a pager started with no other change is saved soon, and comes back after the server is SIGKILLed', async function () {
    const server = new PrivateTmux();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-autosave-crash-'));
    const service = new TmuxService({ ...server.address }, { programWatchMs: 500 });
    let autosaver: Autosaver | undefined;
    try {
      const file = path.join(dataDir, 'notes.txt');
      fs.writeFileSync(file, 'notes to keep\n');
      server.newSession('work');
      await service.start();
      await eventually('connected', () => service.state.kind === 'ok' && service.tree.sessions.length === 1);
      const store = new SnapshotStore(dataDir);
      autosaver = new Autosaver(service, store, { intervalMinutes: 60, keep: 5, debounceMs: 500, scrollbackLines: 0, tmuxVersion: () => '3.3a' });
      await autosaver.saveNow();
      autosaver.start();
      const first = (await store.readManifest())!.sessions.work;

      server.tmux('send-keys', '-t', 'work:', '-l', `less ${file}`);
      server.tmux('send-keys', '-t', 'work:', 'Enter');
      const saved = await eventually('an autosave with less in it', async () => {
        const id = (await store.readManifest())?.sessions.work;
        if (!id || id === first) return undefined;
        const snapshot = JSON.parse(fs.readFileSync(path.join(store.snapshotsDir, id), 'utf8')) as Snapshot;
        return snapshot.session.windows[0].panes[0].program?.name === 'less' ? snapshot : undefined;
      }, 10_000);

      const pid = Number(server.tmux('display-message', '-p', '#{pid}').trim());
      await eventually('the crash watch ready', () => service.getStats().crashWatch, 5000);
      process.kill(pid, 'SIGKILL');
      await eventually('the server gone', () => !server.isRunning(), 5000);
      await eventually('the service saw it die', () => service.state.kind === 'noServer', 5000);
      const state = service.state as { lastEnd?: { unexpected: boolean } };
      assert.equal(state.lastEnd?.unexpected, true, 'a SIGKILL is not an orderly stop');

      const restorer = new TmuxService({ ...server.address });
      await restorer.start();
      try {
        await restoreSnapshot((argv) => restorer.runStartingServer(argv), saved, { policy: 'safe', safePrograms: DEFAULT_SAFE_PROGRAMS, restoreCommands: DEFAULT_RESTORE_COMMANDS, tempDir: path.join(dataDir, 'tmp') });
        await eventually('less running again in the restored pane', () => server.tmux('list-panes', '-a', '-F', '#{pane_current_command}').includes('less'), 5000);
      } finally {
        await restorer.dispose();
      }
    } finally {
      autosaver?.dispose();
      await service.dispose();
      server.kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
