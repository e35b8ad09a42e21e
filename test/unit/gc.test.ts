import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { CleanupCandidate, CleanupPolicy, CleanupSource, oneShotTree, planCleanup, runCleanup, setProtected } from '../../src/core/gc';
import { listProcesses, processTree } from '../../src/core/processes';
import { SnapshotStore } from '../../src/core/snapshots/store';
import { SessionId } from '../../src/tmux/model';
import { OneShotQueue } from '../../src/tmux/oneShot';
import { makeSnapshot } from './helpers/snapshotFixtures';
import { eventually, PrivateTmux } from './helpers/tmux';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const OFF: CleanupPolicy = { idleSessionHours: 0, deadPaneHours: 0, deletedSnapshotDays: 0, protect: [] };
const TIMINGS = { interruptWaitMs: 1500, terminateWaitMs: 1500 };

/** What a person would see with `tmux ls`: names, window counts, attached marks. */
function sessionsListed(server: PrivateTmux): string {
  try {
    return server.tmux('list-sessions', '-F', '#{session_name} #{session_windows} #{session_attached}');
  } catch {
    return '(no server)';
  }
}

function panesListed(server: PrivateTmux): string {
  return server.tmux('list-panes', '-a', '-F', '#{session_name} #{pane_id} #{pane_dead}');
}

/** Every file and folder under `folder`, with sizes, to show a dry run wrote nothing it should not. */
function filesUnder(folder: string, ignore: (name: string) => boolean = () => false): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder, { recursive: true, withFileTypes: true })
    .map((dirent) => path.join(dirent.parentPath ?? (dirent as unknown as { path: string }).path, dirent.name))
    .filter((file) => !ignore(path.basename(file)))
    .map((file) => `${path.relative(folder, file)} ${fs.statSync(file).isDirectory() ? 'dir' : fs.statSync(file).size}`)
    .sort();
}

describe('cleanup against real tmux', function () {
  this.timeout(60_000);
  let server: PrivateTmux;
  let dataDir: string;
  let store: SnapshotStore;
  let queue: OneShotQueue;
  const clients: ChildProcess[] = [];

  beforeEach(function () {
    server = new PrivateTmux();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-gc-'));
    store = new SnapshotStore(dataDir);
    queue = new OneShotQueue(server.address);
  });

  afterEach(function () {
    for (const client of clients.splice(0)) client.kill('SIGKILL');
    server.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function source(policy: CleanupPolicy, now: number): CleanupSource {
    const run = (argv: readonly string[]) => queue.run(argv);
    return { run, readTree: () => oneShotTree(run), store, policy, timings: TIMINGS, now: () => now };
  }

  /** A real client attached to the session, in a pseudo-terminal of its own (as a user's terminal would be). */
  async function attachClient(name: string): Promise<void> {
    const command = `tmux -S '${server.socketPath}' -f /dev/null attach -t '=${name.replace(/'/g, `'\\''`)}'`;
    // script runs the command with $SHELL, which may be anything where tests run: say which shell.
    const client = spawn('script', ['-qfc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SHELL: '/bin/sh', TMUX: '', TERM: 'xterm' } });
    clients.push(client);
    let printed = '';
    client.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    client.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    client.on('error', (error) => (printed += String(error)));
    try {
      await eventually(`a client attached to ${name}`, () => server.tmux('list-clients', '-F', '#{session_name}').split('\n').includes(name), 10_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}; script ${client.exitCode === null ? 'still runs' : `exited with ${client.exitCode}`} and printed: ${JSON.stringify(printed.slice(-500))}`);
    }
  }

  it('proposes a session with no activity and no client for longer than the TTL, saying how long', async function () {
    server.newSession('quiet');
    const now = Date.now() + 3 * DAY + HOUR;
    const candidates = await planCleanup(source({ ...OFF, idleSessionHours: 48 }, now));
    assert.deepEqual(
      candidates.map((c) => [c.kind, c.label, c.reason]),
      [['idleSession', 'session "quiet"', 'idle 3 days, no client attached']],
    );
    assert.deepEqual(await planCleanup(source({ ...OFF, idleSessionHours: 96 }, now)), [], 'not idle for 4 days yet');
  });

  it('proposes a pane whose program exited longer ago than the TTL, with its exit status', async function () {
    server.newSession('work');
    server.tmux('set-option', '-g', 'remain-on-exit', 'on');
    server.tmux('new-window', '-t', 'work:', '-n', 'build', 'exit 3');
    // tmux 3.3a built with libutempter can miss the SIGCHLD of a pane that exits while it closes the
    // pane's terminal, and then never learns the status (fixed in tmux 3.6); a SIGCHLD to the
    // server makes it reap, as the supervision driver does.
    const serverPid = Number(server.tmux('display-message', '-p', '#{pid}').trim());
    await eventually('the pane dead with its status', () => {
      process.kill(serverPid, 'SIGCHLD');
      return server.tmux('list-panes', '-a', '-F', '#{pane_dead} #{pane_dead_status}').includes('1 3');
    });
    const candidates = await planCleanup(source({ ...OFF, deadPaneHours: 24 }, Date.now() + 30 * HOUR));
    assert.equal(candidates.length, 1);
    assert.equal(candidates[0].kind, 'deadPane');
    assert.match(candidates[0].label, /^pane 1\.0 of "work"/);
    assert.equal(candidates[0].reason, 'program exited with status 3, 1 day ago');
    assert.deepEqual(await planCleanup(source({ ...OFF, deadPaneHours: 48 }, Date.now() + 30 * HOUR)), []);
  });

  it('proposes a session whose folder was removed, and not one whose pane moved to a folder that exists', async function () {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-gc-project-'));
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-gc-project-'));
    server.tmux('new-session', '-d', '-s', 'gone-project', '-c', project);
    server.tmux('new-session', '-d', '-s', 'moved-on', '-c', other);
    server.tmux('send-keys', '-t', '=moved-on:', `cd ${JSON.stringify(os.tmpdir())}`, 'Enter');
    await eventually('the pane moved', () => server.tmux('display-message', '-p', '-t', '=moved-on:', '#{pane_current_path}').trim() === fs.realpathSync(os.tmpdir()));
    fs.rmSync(project, { recursive: true });
    fs.rmSync(other, { recursive: true });

    const candidates = await planCleanup(source(OFF, Date.now()));
    assert.deepEqual(
      candidates.map((c) => [c.kind, c.label, c.reason]),
      [['missingFolder', 'session "gone-project"', `its folder ${project} no longer exists`]],
    );
  });

  it('proposes the autosaves of a session gone longer than the TTL, counted from when it was first seen gone', async function () {
    server.newSession('alive');
    const longAgo = new Date(Date.now() - 90 * DAY);
    await store.save(makeSnapshot('old', { savedAt: longAgo }));
    await store.save(makeSnapshot('old', { savedAt: new Date(longAgo.getTime() + HOUR) }));
    await store.save(makeSnapshot('old', { kind: 'manual', label: 'before refactor', savedAt: longAgo }));
    await store.save(makeSnapshot('alive', { savedAt: longAgo }));

    // The first look finds "old" gone: its 90-day-old snapshots do not make it 90 days gone.
    assert.deepEqual(await planCleanup(source({ ...OFF, deletedSnapshotDays: 30 }, Date.now())), []);
    const later = await planCleanup(source({ ...OFF, deletedSnapshotDays: 30 }, Date.now() + 31 * DAY));
    assert.deepEqual(
      later.map((c) => [c.kind, c.label, c.reason]),
      [['deletedSessionSnapshots', '2 autosaves of session "old"', 'the session has been gone for 31 days']],
    );
    assert.equal((later[0].target as { ids: readonly string[] } & CleanupCandidate['target']).ids.length, 2, 'the named snapshot is not among them');
  });

  it('proposes lock folders nobody refreshes and half-written temporary files, with their age', async function () {
    const hoursAgo = (n: number) => new Date(Date.now() - n * HOUR);
    await store.save(makeSnapshot('s'));
    const lock = path.join(dataDir, 'activity.lock');
    fs.mkdirSync(lock);
    fs.utimesSync(lock, hoursAgo(3), hoursAgo(3));
    const temp = path.join(store.snapshotsDir, 's', '20260101T000000000Z-auto-abc.json.123456789');
    fs.writeFileSync(temp, '{"format":');
    fs.utimesSync(temp, hoursAgo(50), hoursAgo(50));
    const freshLock = path.join(store.snapshotsDir, 's.lock');
    fs.mkdirSync(freshLock);

    const candidates = await planCleanup(source(OFF, Date.now()));
    assert.deepEqual(
      candidates.map((c) => [c.kind, c.reason]),
      [
        ['staleLock', 'left by a process that is gone (not refreshed for 3 hours)'],
        ['staleTempFile', 'half-written by a save that was interrupted, 2 days old'],
      ],
    );
    assert.deepEqual(
      candidates.map((c) => c.target),
      [
        { type: 'file', path: lock },
        { type: 'file', path: temp },
      ],
    );
    const outcomes = await runCleanup(source(OFF, Date.now()), candidates);
    assert.deepEqual(outcomes.map((o) => o.result), ['done', 'done']);
    assert.ok(!fs.existsSync(lock) && !fs.existsSync(temp), 'both removed');
    assert.ok(fs.existsSync(freshLock), 'a lock in use stays');
    assert.equal((await store.list()).length, 1, 'the snapshot beside them stays');
  });

  it('a dry run changes nothing: sessions, panes and snapshot files are the same after it', async function () {
    server.newSession('idle-a');
    server.newSession('idle-b');
    server.tmux('set-option', '-g', 'remain-on-exit', 'on');
    server.tmux('new-window', '-t', 'idle-a:', 'exit 1');
    await store.save(makeSnapshot('gone', { savedAt: new Date(Date.now() - 90 * DAY) }));
    fs.mkdirSync(path.join(dataDir, 'activity.lock'));
    fs.utimesSync(path.join(dataDir, 'activity.lock'), new Date(0), new Date(0));
    await eventually('the pane is dead', () => panesListed(server).includes(' 1'));
    const policy = { idleSessionHours: 1, deadPaneHours: 1, deletedSnapshotDays: 1, protect: [] };
    // The first look records "gone" as gone; the second, a year on, proposes its autosave.
    await planCleanup(source(policy, Date.now()));

    const sessionsBefore = sessionsListed(server);
    const panesBefore = panesListed(server);
    const filesBefore = filesUnder(dataDir);
    const candidates = await planCleanup(source(policy, Date.now() + 365 * DAY));
    assert.deepEqual(candidates.map((c) => c.kind).sort(), ['deletedSessionSnapshots', 'idleSession', 'idleSession', 'staleLock']);
    assert.equal(sessionsListed(server), sessionsBefore);
    assert.equal(panesListed(server), panesBefore);
    assert.deepEqual(filesUnder(dataDir), filesBefore);
  });

  it('acting ends a session gracefully: its program gets Ctrl-C first and says so', async function () {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-gc-trap-'));
    const said = path.join(folder, 'said');
    const script = path.join(folder, 'program.sh');
    fs.writeFileSync(script, `trap 'echo interrupted > "${said}"; exit 0' INT TERM\nwhile :; do sleep 0.1; done\n`);
    server.newSession('bystander');
    server.newSession('victim');
    // Typed at the pane's shell, as a user starts a program: the shell stays, the program runs under it.
    const shell = Number(server.tmux('display-message', '-p', '-t', '=victim:', '#{pane_pid}').trim());
    server.tmux('send-keys', '-t', '=victim:', '-l', `sh '${script}'`);
    server.tmux('send-keys', '-t', '=victim:', 'Enter');
    await eventually('the program runs', async () => processTree(await listProcesses(), shell).some((info) => info.command === 'sleep'), 5000);

    const src = source({ ...OFF, idleSessionHours: 1 }, Date.now() + 2 * HOUR);
    const [victim, ...others] = (await planCleanup(src)).sort((a, b) => (a.label < b.label ? 1 : -1));
    assert.equal(victim.label, 'session "victim"');
    const outcomes = await runCleanup(src, [victim]);
    assert.deepEqual(outcomes.map((o) => [o.result, o.detail]), [['done', 'ended on Ctrl-C']]);
    assert.equal(fs.readFileSync(said, 'utf8').trim(), 'interrupted', 'the trap ran: the program was asked to stop');
    assert.equal(sessionsListed(server).trim(), 'bystander 1 0', 'only the chosen session was closed');
    assert.deepEqual(others.map((o) => o.label), ['session "bystander"']);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('skips, with the reason, a session attached or protected between the dry run and acting', async function () {
    server.newSession('will-attach');
    const protectedId = server.newSession(`it's "odd"; name`) as SessionId;
    server.newSession('plain');
    const src = source({ ...OFF, idleSessionHours: 1 }, Date.now() + 2 * HOUR);
    const candidates = await planCleanup(src);
    assert.equal(candidates.length, 3);

    await attachClient('will-attach');
    await setProtected(src.run, protectedId, true);
    const outcomes = await runCleanup(src, candidates);
    const byLabel = Object.fromEntries(outcomes.map((o) => [o.candidate.label, `${o.result}: ${o.detail}`]));
    assert.deepEqual(byLabel, {
      'session "will-attach"': 'skipped: left alone: a client is attached now',
      [`session "it's "odd"; name"`]: 'skipped: left alone: it is protected now',
      'session "plain"': 'done: closed (nothing was running)',
    });
    assert.deepEqual(sessionsListed(server).trim().split('\n').map((line) => line.split(' ')[0]).sort(), [`it's`, 'will-attach']);
    assert.equal(server.tmux('show-options', '-v', '-t', protectedId, '@tmux-session-manager-protected').trim(), '1');
  });

  it('never touches protected, pattern-protected or attached sessions, under 50 random policies, also when acting', async function () {
    const keep = {
      protectedMark: server.newSession(`keep "mark"; it's`) as SessionId,
      pattern: server.newSession('prod-api') as SessionId,
      attached: server.newSession('attached-one') as SessionId,
    };
    server.tmux('set-option', '-g', 'remain-on-exit', 'on');
    await setProtected((argv) => queue.run(argv), keep.protectedMark, true);
    // Each kept session also has a dead pane, which a policy would otherwise propose.
    for (const id of Object.values(keep)) server.tmux('new-window', '-d', '-t', `${id}:`, 'exit 2');
    await attachClient('attached-one');
    await store.save(makeSnapshot('prod-db', { savedAt: new Date(Date.now() - 400 * DAY) }));
    const keptPanes = () => server.tmux('list-panes', '-a', '-F', '#{session_id} #{pane_id}').split('\n').filter((line) => Object.values(keep).some((id) => line.startsWith(`${id} `))).sort();
    const panesBefore = keptPanes();
    assert.equal(panesBefore.length, 6);

    const policy = fc.record({
      idleSessionHours: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })),
      deadPaneHours: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 })),
      deletedSnapshotDays: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
      protect: fc.array(fc.constantFrom('victim-*', 'v?ctim-1', '*-2', 'nothing', '', '*x*'), { maxLength: 3 }).map((extra) => ['prod-*', ...extra]),
    });
    let acted = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(policy, fc.integer({ min: 0, max: 500 }), async (p, hoursAhead) => {
        runs++;
        // Fresh victims each run: idle ones and ones with a dead pane.
        for (const name of ['victim-1', 'victim-2']) if (!sessionsListed(server).includes(`${name} `)) server.newSession(name);
        server.tmux('new-window', '-d', '-t', '=victim-1:', 'exit 4');
        const src = source(p, Date.now() + hoursAhead * HOUR);
        const candidates = await planCleanup(src);
        for (const candidate of candidates) {
          const t = candidate.target;
          if (t.type === 'session') assert.ok(!Object.values(keep).includes(t.id), `${candidate.label} must not be proposed`);
          if (t.type === 'pane') assert.ok(!Object.values(keep).includes(t.sessionId), `${candidate.label} must not be proposed`);
          if (t.type === 'snapshots') assert.notEqual(t.sessionName, 'prod-db', 'snapshots of a protected name stay');
        }
        const outcomes = await runCleanup(src, candidates);
        acted += outcomes.filter((o) => o.result === 'done').length;
        assert.deepEqual(keptPanes(), panesBefore, 'every protected and attached session keeps every pane');
        assert.ok((await store.list()).some((entry) => entry.sessionName === 'prod-db'));
      }),
      { numRuns: 50, seed: 20260714 },
    );
    assert.equal(runs, 50);
    assert.ok(acted > 20, `the policies did act on the other sessions (${acted} actions), so the property was tested against real kills`);
  });
});
