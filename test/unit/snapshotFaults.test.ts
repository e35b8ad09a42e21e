import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Autosaver, AutosaveSource } from '../../src/core/snapshots/autosave';
import { parseSnapshotText, serializeSnapshot, Snapshot } from '../../src/core/snapshots/document';
import { SnapshotLockBusyError, SnapshotStore, writeFileAtomically } from '../../src/core/snapshots/store';
import { Tree } from '../../src/tmux/model';
import { fakeSession, makeSnapshot, sleep } from './helpers/snapshotFixtures';
import { eventually } from './helpers/tmux';

const CHILD = path.join(__dirname, 'helpers', 'saveChild.js');

/** What the killed writer alternates between: a large snapshot file. */
function atomicContent(seed: 'A' | 'B', chars: number): string {
  return serializeSnapshot(makeSnapshot('big', { scrollbackChars: chars, seed, savedAt: new Date('2026-01-01T00:00:00Z') }));
}

/** A child process running saveChild.js, with its output lines as they arrive. */
class Child {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(args: string[]) {
    // Without extra CA certificates, which Node parses at startup and these children never use: a third of the start time.
    const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
    this.process = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let buffer = '';
    this.process.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      this.lines.push(...parts);
    });
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
  }

  /** The first output line starting with `prefix`, waiting for it. */
  async line(prefix: string, timeoutMs = 10_000): Promise<string> {
    const start = Date.now();
    for (;;) {
      const found = this.lines.find((line) => line.startsWith(prefix));
      if (found) return found;
      if (this.process.exitCode !== null) throw new Error(`child exited (${this.process.exitCode}) before "${prefix}": ${this.stderr}`);
      if (Date.now() - start > timeoutMs) throw new Error(`child did not print "${prefix}" in ${timeoutMs} ms: ${this.stderr}`);
      await sleep(2);
    }
  }

  async kill(): Promise<void> {
    this.process.kill('SIGKILL');
    await this.exited;
  }

  async succeeded(): Promise<void> {
    const code = await this.exited;
    assert.equal(code, 0, `child failed: ${this.stderr}`);
  }
}

/** A tmux service stand-in with one session that never changes. */
function staticSource(name: string): AutosaveSource {
  const tree: Tree = { sessions: [fakeSession(name)], takenAt: Date.now() };
  return {
    tree,
    state: { kind: 'ok' },
    onDidChangeTree: () => ({ dispose() {} }),
    refresh: async () => tree,
    run: async () => {
      throw new Error('no tmux in this test');
    },
  };
}

describe('Snapshot store under faults', function () {
  this.timeout(90_000);
  let dataDir: string;
  const children: Child[] = [];

  beforeEach(function () {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-faults-'));
  });

  afterEach(async function () {
    for (const child of children.splice(0)) if (child.process.exitCode === null && child.process.signalCode === null) await child.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function start(...args: string[]): Child {
    const child = new Child(args);
    children.push(child);
    return child;
  }

  it('a save killed at any moment leaves the old or the new file, never a mix (200 SIGKILLs)', async function () {
    const chars = 4_000_000;
    const contents = { A: atomicContent('A', chars), B: atomicContent('B', chars) };
    const fileA = path.join(dataDir, 'content-A');
    const fileB = path.join(dataDir, 'content-B');
    fs.writeFileSync(fileA, contents.A);
    fs.writeFileSync(fileB, contents.B);
    const buffers = { A: Buffer.from(contents.A), B: Buffer.from(contents.B) };
    const bytes = buffers.A.length;
    assert.ok(parseSnapshotText(contents.A).ok && contents.A !== contents.B && bytes === buffers.B.length);

    // How long one save takes here, to spread the kills over whole saves.
    const probe = path.join(dataDir, 'probe.json');
    let started = performance.now();
    for (let i = 0; i < 3; i++) await writeFileAtomically(probe, contents.A);
    const saveMs = (performance.now() - started) / 3;

    const KILLS = 200;
    const outcome = { A: 0, B: 0 };
    /** Where each kill landed, judged by the temporary file it left behind. */
    const landed = { betweenSaves: 0, whileWriting: 0, afterWritingBeforeRename: 0 };
    let kills = 0;
    // Starting a process is most of the cost, so a few lanes, each with its own file, run side by side.
    const lane = async (folder: string) => {
      fs.mkdirSync(folder);
      const file = path.join(folder, 'big.json');
      fs.writeFileSync(file, contents.A);
      while (kills < KILLS) {
        kills++;
        const child = start('atomic', file, fileA, fileB);
        await child.line('ready');
        await sleep(Math.random() * saveMs * 3);
        await child.kill();
        children.splice(children.indexOf(child), 1);

        const bytesOnDisk = fs.readFileSync(file);
        const which = bytesOnDisk.equals(buffers.A) ? 'A' : bytesOnDisk.equals(buffers.B) ? 'B' : undefined;
        assert.ok(which, `after a kill the file is neither A nor B (${bytesOnDisk.length} bytes; ${JSON.stringify(parseSnapshotText(bytesOnDisk.toString('utf8'))).slice(0, 200)})`);
        outcome[which]++;
        const temporary = fs.readdirSync(folder).filter((name) => name.startsWith('big.json.'));
        if (temporary.length === 0) landed.betweenSaves++;
        for (const name of temporary) {
          if (fs.statSync(path.join(folder, name)).size < bytes) landed.whileWriting++;
          else landed.afterWritingBeforeRename++;
          fs.unlinkSync(path.join(folder, name));
        }
      }
    };
    started = performance.now();
    await Promise.all([0, 1, 2, 3].map((i) => lane(path.join(dataDir, `lane-${i}`))));
    const totalMs = performance.now() - started;
    console.log(`      ${(bytes / 1e6).toFixed(1)} MB per save, ${saveMs.toFixed(0)} ms each; ${kills} kills in ${(totalMs / 1000).toFixed(1)} s`);
    console.log(`      file afterwards: A ${outcome.A}, B ${outcome.B}, neither 0`);
    console.log(`      kills landed: with no temporary file (between saves, or syncing the folder after a rename) ${landed.betweenSaves}, while writing the temporary file ${landed.whileWriting}, after writing it (fsync/chmod/before the rename) ${landed.afterWritingBeforeRename}`);
    assert.equal(outcome.A + outcome.B, KILLS);
    assert.ok(landed.whileWriting + landed.afterWritingBeforeRename >= 20, 'enough kills landed inside a save to mean something');
    assert.ok(outcome.B > 0, 'some saves completed, so the file was really being replaced');
  });

  it('two processes and this one saving the same session at once lose nothing and leave no locks', async function () {
    const store = new SnapshotStore(dataDir);
    const count = 25;
    const one = start('save', dataDir, 'shared: session', String(count), 'one');
    const two = start('save', dataDir, 'shared: session', String(count), 'two');
    for (let i = 0; i < count; i++) {
      await store.save(makeSnapshot('shared: session', { label: `here ${i}`, kind: 'manual', scrollbackChars: 200_000, seed: `here-${i}` }));
    }
    await one.succeeded();
    await two.succeeded();

    const listed = await store.list();
    assert.equal(listed.length, 3 * count);
    assert.deepEqual(listed.filter((e) => e.broken), []);
    const labels = listed.map((e) => e.label!).sort();
    const expected = ['one', 'two', 'here'].flatMap((tag) => Array.from({ length: count }, (_, i) => `${tag} ${i}`)).sort();
    assert.deepEqual(labels, expected);
    for (const entry of listed) {
      const snapshot = await store.read(entry);
      const [tag, i] = entry.label!.split(' ');
      assert.equal(snapshot.session.windows[0].panes[0].scrollback?.text, makeSnapshot('x', { scrollbackChars: 200_000, seed: `${tag}-${i}` }).session.windows[0].panes[0].scrollback?.text);
    }
    const leftovers = (fs.readdirSync(dataDir, { recursive: true }) as string[]).filter((p) => p.endsWith('.lock') || !/\.json$|^snapshots$|^snapshots.[^/\\]+$/.test(p));
    assert.deepEqual(leftovers, [], 'no lock folders or temporary files are left');
  });

  it("takes over the activity lock of a process that was killed holding it, once it is stale", async function () {
    const store = new SnapshotStore(dataDir, { staleLockMs: 2000 });
    const holder = start('hold', dataDir, 'restore', '60000', '2000');
    await holder.line('locked');
    await holder.kill();
    const killedAt = Date.now();
    assert.equal(fs.existsSync(store.activityLockFile), true, 'SIGKILL left the lock behind');

    await assert.rejects(
      store.withLock('autosave', async () => undefined, { waitMs: 300 }),
      (error: unknown) =>
        error instanceof SnapshotLockBusyError &&
        error.message === `Another VS Code window or the command-line tool is restoring or saving snapshots (lock ${store.activityLockFile}); try again when it finishes.`,
    );
    const acquiredAt = await store.withLock('autosave', async () => Date.now());
    const waited = acquiredAt - killedAt;
    console.log(`      stale lock taken over ${waited} ms after its holder was killed (stale time 2000 ms, refreshed every 1000 ms)`);
    assert.ok(waited >= 900 && waited < 6000, `took over after ${waited} ms`);
    assert.equal(fs.existsSync(store.activityLockFile), false);
  });

  describe('an autosave during a restore waits for it', function () {
    function autosaverFor(store: SnapshotStore, captures: number[]): Autosaver {
      return new Autosaver(staticSource('work'), store, {
        intervalMinutes: 0,
        keep: 5,
        scrollbackLines: 0,
        tmuxVersion: () => '3.3a',
        capture: async (sessions) => {
          captures.push(Date.now());
          return sessions.map((session): Snapshot => makeSnapshot(session.name));
        },
      });
    }

    it('in this process', async function () {
      const store = new SnapshotStore(dataDir);
      const captures: number[] = [];
      const autosaver = autosaverFor(store, captures);
      let restoreEnded = 0;
      const restore = store.withLock('restore', async () => {
        await sleep(600);
        restoreEnded = Date.now();
      });
      await eventually('the restore holds the lock', () => store.isRestoring);
      const requestedAt = Date.now();
      const record = await autosaver.saveNow();
      await restore;
      autosaver.dispose();

      assert.equal(record.error, undefined);
      assert.equal(record.sessionsWritten, 1);
      assert.ok(requestedAt < restoreEnded, 'the autosave was asked for during the restore');
      assert.equal(captures.length, 1);
      assert.ok(captures[0] >= restoreEnded, `captured ${restoreEnded - captures[0]} ms before the restore ended`);
      const [entry] = await store.list();
      assert.ok(fs.statSync(entry.file).mtimeMs >= restoreEnded);
    });

    it('held by another process', async function () {
      const store = new SnapshotStore(dataDir);
      const captures: number[] = [];
      const autosaver = autosaverFor(store, captures);
      const holder = start('hold', dataDir, 'restore', '1500', '10000');
      await holder.line('locked');
      const requestedAt = Date.now();
      const record = await autosaver.saveNow();
      autosaver.dispose();
      await holder.succeeded();
      const restoreEnded = Number((await holder.line('releasing')).split(' ')[1]);

      assert.equal(record.sessionsWritten, 1);
      assert.ok(requestedAt < restoreEnded);
      assert.ok(captures[0] >= restoreEnded, `captured ${restoreEnded - captures[0]} ms before the other process's restore ended`);
      const [entry] = await store.list();
      assert.ok(fs.statSync(entry.file).mtimeMs >= restoreEnded);
      assert.equal((await store.readManifest())?.sessions.work, entry.id);
    });
  });
});
