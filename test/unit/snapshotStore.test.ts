import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serializeSnapshot, SnapshotFileError } from '../../src/core/snapshots/document';
import { sessionFolderName, sessionNameFromFolder, SnapshotEntry, SnapshotLockBusyError, SnapshotStore } from '../../src/core/snapshots/store';
import { makeSnapshot, sleep } from './helpers/snapshotFixtures';
import { eventually } from './helpers/tmux';

const HOUR = 3600_000;

/** Names a user can give a tmux session that mean something to a shell or a file system. */
const AWKWARD_NAMES = [
  'my session',
  '日本語 セッション',
  'emoji 🚀',
  'a:b',
  'dot.name',
  '.hidden',
  '..',
  'semi;colon',
  `quote"s and 'single'`,
  '100%',
  '%2F',
  'slash/name',
  '#{session_name} #S',
  'UPPER',
  'upper',
  'name.lock',
  'tilde~x',
];

describe('SnapshotStore', function () {
  this.timeout(30_000);
  let dataDir: string;
  let store: SnapshotStore;

  beforeEach(function () {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-store-'));
    store = new SnapshotStore(path.join(dataDir, 'state'));
  });

  afterEach(function () {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Every file and folder under the data folder, relative, sorted. */
  function tree(): string[] {
    return (fs.readdirSync(store.dataDir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();
  }

  /** Writes raw bytes where a snapshot of `sessionName` would be, as a broken or foreign file. */
  function plant(sessionName: string, fileName: string, content: string | Buffer): string {
    const folder = path.join(store.snapshotsDir, sessionFolderName(sessionName));
    fs.mkdirSync(folder, { recursive: true });
    const file = path.join(folder, fileName);
    fs.writeFileSync(file, content);
    return file;
  }

  describe('round trip', function () {
    it('saves one file per session where the layout says, private to the user, and reads it back', async function () {
      const snapshot = makeSnapshot('work', { savedAt: new Date('2026-11-23T16:24:55.123Z'), windows: 2 });
      const entry = await store.save(snapshot);

      assert.match(entry.id, /^work\/20261123T162455123Z-auto-[0-9a-f]{12}\.json$/);
      assert.equal(entry.file, path.join(store.snapshotsDir, ...entry.id.split('/')));
      assert.deepEqual(tree(), ['snapshots', 'snapshots/work', `snapshots/${entry.id}`]);
      assert.equal(fs.statSync(entry.file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(store.dataDir).mode & 0o777, 0o700);
      assert.equal(fs.readFileSync(entry.file, 'utf8'), serializeSnapshot(snapshot));

      assert.deepEqual(await store.read(entry), snapshot);
      assert.deepEqual(await store.read(entry.id), snapshot);
      assert.deepEqual(await store.read(entry.file), snapshot);

      const [listed, ...rest] = await store.list();
      assert.deepEqual(rest, []);
      assert.deepEqual(listed, entry);
      assert.equal(listed.sessionName, 'work');
      assert.equal(listed.kind, 'auto');
      assert.equal(listed.windows, 2);
      assert.equal(listed.panes, 2);
      assert.equal(listed.bytes, fs.statSync(entry.file).size);
      assert.equal(listed.savedAt.toISOString(), '2026-11-23T16:24:55.123Z');
      assert.equal(listed.broken, undefined);
    });

    it('lists newest first across sessions', async function () {
      const now = Date.now();
      await store.save(makeSnapshot('a', { savedAt: new Date(now - 3 * HOUR) }));
      await store.save(makeSnapshot('b', { savedAt: new Date(now - 1 * HOUR) }));
      await store.save(makeSnapshot('a', { savedAt: new Date(now - 2 * HOUR) }));
      const listed = await store.list();
      assert.deepEqual(
        listed.map((e) => [e.sessionName, now - e.savedAt.getTime()]),
        [['b', HOUR], ['a', 2 * HOUR], ['a', 3 * HOUR]],
      );
    });

    it('refuses to write a snapshot it would later call broken', async function () {
      const bad = { ...makeSnapshot('x'), session: { name: 'x', windows: [] } };
      await assert.rejects(store.save(bad), /Refusing to save an invalid snapshot of "x"/);
      assert.deepEqual(await store.list(), []);
    });

    it('an empty or missing store lists nothing and has no latest', async function () {
      assert.deepEqual(await store.list(), []);
      assert.equal(await store.latestGood(), undefined);
      assert.equal(await store.readManifest(), undefined);
    });
  });

  describe('session names', function () {
    it('keeps every awkward name apart, exactly, in file-safe folders', async function () {
      for (const name of AWKWARD_NAMES) await store.save(makeSnapshot(name));
      const listed = await store.list();
      assert.deepEqual(listed.map((e) => e.sessionName).sort(), [...AWKWARD_NAMES].sort());

      const folders = fs.readdirSync(store.snapshotsDir);
      assert.equal(folders.length, AWKWARD_NAMES.length, 'one folder per name, none shared');
      for (const folder of folders) assert.match(folder, /^[A-Za-z0-9_%-]+$/, `folder "${folder}" is plain`);
      for (const name of AWKWARD_NAMES) assert.equal(sessionNameFromFolder(sessionFolderName(name)), name);
      for (const entry of listed) assert.deepEqual((await store.read(entry)).session.name, entry.sessionName);
    });

    it('shortens very long names with a hash, keeps them apart, and takes the real name from the file', async function () {
      const long = (tail: string) => `${'ä'.repeat(200)} ${tail}`;
      const first = await store.save(makeSnapshot(long('one')));
      const second = await store.save(makeSnapshot(long('two')));
      const [folderA, folderB] = [first.id, second.id].map((id) => id.split('/')[0]);
      assert.notEqual(folderA, folderB);
      for (const folder of [folderA, folderB]) {
        assert.ok(Buffer.byteLength(folder) <= 150, `folder name is ${Buffer.byteLength(folder)} bytes`);
        assert.match(folder, /^(%C3%A4)+~[0-9a-f]{12}$/, 'cut at a whole character, then the hash');
        assert.ok(sessionNameFromFolder(folder).endsWith('ä…'));
      }
      assert.deepEqual((await store.list()).map((e) => e.sessionName).sort(), [long('one'), long('two')]);
      assert.equal((await store.latestGood(long('two')))?.entry.id, second.id);
    });
  });

  describe('rename, delete, prune', function () {
    it('a label makes an autosave a manual snapshot, in place of the old file; clearing it keeps it manual', async function () {
      const saved = await store.save(makeSnapshot('dev', { savedAt: new Date('2026-01-02T03:04:05.006Z') }));
      const labelled = await store.rename(saved, '  before refactor ');
      assert.equal(labelled.kind, 'manual');
      assert.equal(labelled.label, 'before refactor');
      assert.equal(labelled.id, saved.id.replace('-auto-', '-manual-'));
      assert.equal(fs.existsSync(saved.file), false, 'the autosave file is gone');
      const document = await store.read(labelled);
      assert.equal(document.kind, 'manual');
      assert.equal(document.label, 'before refactor');
      assert.equal(document.savedAt, '2026-01-02T03:04:05.006Z', 'renaming does not change when it was saved');

      const cleared = await store.rename(labelled, '');
      assert.equal(cleared.id, labelled.id);
      assert.equal(cleared.kind, 'manual');
      assert.equal(cleared.label, undefined);
      assert.equal('label' in (await store.read(cleared)), false);
      assert.deepEqual((await store.list()).map((e) => [e.id, e.kind, e.label]), [[cleared.id, 'manual', undefined]]);
      assert.deepEqual(tree().filter((p) => p.endsWith('.json')), [`snapshots/${cleared.id}`]);
    });

    it('renaming a broken file fails with its reason and leaves it alone', async function () {
      const file = plant('dev', '20260101T000000000Z-auto-abc.json', '{"format":');
      const [entry] = await store.list();
      await assert.rejects(store.rename(entry, 'x'), (error: unknown) => error instanceof SnapshotFileError && /truncated/.test(error.reason));
      assert.equal(fs.readFileSync(file, 'utf8'), '{"format":');
    });

    it('deletes one file', async function () {
      const keep = await store.save(makeSnapshot('dev', { savedAt: new Date(Date.now() - HOUR) }));
      const gone = await store.save(makeSnapshot('dev'));
      await store.delete(gone);
      assert.equal(fs.existsSync(gone.file), false);
      assert.deepEqual((await store.list()).map((e) => e.id), [keep.id]);
      await store.delete(gone); // Already gone (another window): not an error.
      await store.delete(keep);
      assert.deepEqual(tree(), ['snapshots'], 'the session folder went with its last file');
      assert.equal(await store.prune('nobody', 2), 0);
      assert.deepEqual(tree(), ['snapshots'], 'pruning a session without snapshots creates nothing');
    });

    it('prunes only the oldest autosaves of one session; manual snapshots and broken files stay', async function () {
      const now = Date.now();
      const autos: SnapshotEntry[] = [];
      for (let i = 5; i >= 1; i--) autos.push(await store.save(makeSnapshot('dev', { savedAt: new Date(now - i * HOUR) })));
      const manual = await store.save(makeSnapshot('dev', { kind: 'manual', label: 'keep me', savedAt: new Date(now - 10 * HOUR) }));
      const broken = plant('dev', '20200101T000000000Z-auto-0ld.json', 'not json');
      const other = await store.save(makeSnapshot('other', { savedAt: new Date(now - 20 * HOUR) }));

      assert.equal(await store.prune('dev', 2), 3);
      const left = (await store.list()).map((e) => e.id).sort();
      assert.deepEqual(left, [autos[3].id, autos[4].id, manual.id, store.idOf(broken), other.id].sort());
      assert.equal(await store.prune('dev', 2), 0, 'nothing more to prune');
      assert.equal(await store.prune('nobody', 2), 0);
    });
  });

  describe('broken files', function () {
    const good = () => makeSnapshot('dev', { savedAt: new Date(Date.now() - HOUR) });
    const CASES: { name: string; content: () => string | Buffer; reason: RegExp }[] = [
      { name: 'truncated', content: () => serializeSnapshot(good()).slice(0, 120), reason: /the file is truncated \(it ends in the middle of the JSON\)/ },
      { name: 'not JSON', content: () => 'hello, world', reason: /the file is not JSON/ },
      { name: 'empty', content: () => '', reason: /the file is empty/ },
      { name: 'wrong types', content: () => JSON.stringify({ ...good(), session: { name: 'dev', windows: 'three' } }), reason: /the snapshot is invalid at session\.windows/ },
      { name: 'future version', content: () => JSON.stringify({ ...good(), version: 2 }), reason: /written by a newer version \(format 2; this one reads 1\)/ },
      { name: 'not ours', content: () => JSON.stringify({ hello: 1 }), reason: /not a tmux-session-manager snapshot/ },
      { name: 'array', content: () => '[1,2]', reason: /JSON but not a snapshot/ },
      { name: '50 MB', content: () => Buffer.alloc(50 * 1024 * 1024, 0x20), reason: /^the file is larger than 32 MB; not a snapshot this extension wrote$/ },
    ];

    for (const { name, content, reason } of CASES) {
      it(`${name}: listed with its reason, read refuses it, latestGood falls back past it`, async function () {
        const older = await store.save(good());
        const file = plant('dev', `20990101T000000000Z-manual-${name.replace(/\W/g, '')}.json`, content());
        const listed = await store.list();
        assert.equal(listed.length, 2);
        const broken = listed.find((e) => e.file === file)!;
        assert.match(broken.broken ?? '', reason);
        assert.equal(broken.sessionName, 'dev', 'named after its folder');
        assert.equal(broken.kind, 'manual', 'kind from the file name');
        assert.equal(broken.windows, 0);
        assert.equal(broken.bytes, fs.statSync(file).size);
        assert.equal(broken.savedAt.getTime(), fs.statSync(file).mtime.getTime());
        assert.equal(listed[0].file, file, 'its modification time is now: newest');

        await assert.rejects(store.read(broken), (error: unknown) => error instanceof SnapshotFileError && reason.test(error.reason) && error.file === file);
        const latest = await store.latestGood();
        assert.equal(latest?.entry.id, older.id);
        assert.equal((await store.latestGood('dev'))?.entry.id, older.id);
      });
    }

    it('a huge file is refused by its size, without being read', async function () {
      // 4 GB, sparse: reading it would overflow a string (a different error); stat takes nothing.
      const file = plant('dev', 'huge.json', '');
      fs.truncateSync(file, 4 * 1024 ** 3);
      const [entry] = await store.list();
      await assert.rejects(store.read(entry), /larger than 32 MB/);
      assert.equal(entry.kind, 'auto', 'a file name that says nothing means auto');
      assert.match(entry.broken!, /larger than 32 MB/);
    });

    it('latestGood is undefined when every file is broken', async function () {
      plant('dev', 'a.json', 'x');
      plant('dev', 'b.json', '');
      assert.equal(await store.latestGood(), undefined);
      assert.equal(await store.latestGood('dev'), undefined);
    });

    it('ignores temporary files of interrupted writes, lock folders and other files', async function () {
      const entry = await store.save(makeSnapshot('dev'));
      fs.writeFileSync(`${entry.file}.3127734214`, serializeSnapshot(makeSnapshot('dev')).slice(0, 50));
      fs.writeFileSync(`${entry.file}.12`, '');
      fs.mkdirSync(path.join(store.snapshotsDir, 'dev.lock'));
      fs.mkdirSync(path.join(store.snapshotsDir, 'dev', 'sub.json'));
      fs.writeFileSync(path.join(store.snapshotsDir, 'dev', 'notes.txt'), 'x');
      fs.writeFileSync(path.join(store.snapshotsDir, 'loose.json'), 'x');
      assert.deepEqual((await store.list()).map((e) => e.id), [entry.id]);
    });

    it('reading a file that is gone says so', async function () {
      const entry = await store.save(makeSnapshot('dev'));
      fs.unlinkSync(entry.file);
      await assert.rejects(store.read(entry), (error: unknown) => error instanceof SnapshotFileError && /no longer exists/.test(error.reason));
      assert.throws(() => store.fileOf('../../etc/passwd'), SnapshotFileError);
    });
  });

  describe('manifest', function () {
    it('round trips, and anything wrong with it reads as no manifest', async function () {
      const manifest = { savedAt: new Date().toISOString(), host: 'h', sessions: { 'a b': 'a%20b/x.json', 'ü': '%C3%BC/y.json' } };
      await store.writeManifest(manifest);
      assert.deepEqual(await store.readManifest(), manifest);
      assert.equal(fs.statSync(store.manifestFile).mode & 0o777, 0o600);

      const text = fs.readFileSync(store.manifestFile, 'utf8');
      for (const corrupt of [text.slice(0, 30), '', 'nonsense', '[]', JSON.stringify({ ...JSON.parse(text), version: 2 }), JSON.stringify({ ...JSON.parse(text), sessions: [1] })]) {
        fs.writeFileSync(store.manifestFile, corrupt);
        assert.equal(await store.readManifest(), undefined, `manifest ${JSON.stringify(corrupt.slice(0, 40))}`);
      }
    });
  });

  describe('speed', function () {
    it('lists 1000 files, and reads again only the files that changed', async function () {
      const base = Date.now() - 1000 * 60_000;
      for (let i = 0; i < 1000; i++) {
        const snapshot = makeSnapshot(`s${i % 50}`, { savedAt: new Date(base + i * 60_000), windows: 3, scrollbackChars: 4000, seed: String(i) });
        plant(snapshot.session.name, `${new Date(snapshot.savedAt).toISOString().replace(/[-:.]/g, '')}-auto-${i.toString(16).padStart(6, '0')}.json`, serializeSnapshot(snapshot));
      }
      // One file with a whole-second time, so the test can put that exact time back.
      const folder = store.snapshotsDir;
      const planted = (fs.readdirSync(folder, { recursive: true }) as string[]).filter((p) => p.endsWith('.json')).sort()[500];
      const file = path.join(folder, planted);
      const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
      fs.utimesSync(file, when, when);
      let started = performance.now();
      const listed = await store.list();
      const first = performance.now() - started;
      started = performance.now();
      await store.list();
      const second = performance.now() - started;
      console.log(`      1000 files: first list ${first.toFixed(0)} ms, unchanged ${second.toFixed(0)} ms`);
      assert.equal(listed.length, 1000);
      assert.equal(listed[0].savedAt.getTime(), base + 999 * 60_000);
      assert.ok(listed.every((e) => !e.broken && e.windows === 3));
      // Speed is the bench's business; here: an unchanged file (same inode, size and time) is not
      // read again, and a changed one is.
      fs.writeFileSync(file, ' '.repeat(fs.statSync(file).size));
      fs.utimesSync(file, when, when);
      assert.equal((await store.list()).find((e) => e.file === file)?.broken, undefined, 'unchanged by its stat: taken from the cache');
      fs.utimesSync(file, when, new Date(when.getTime() + 1000));
      assert.match((await store.list()).find((e) => e.file === file)?.broken ?? '', /empty/, 'changed: read again');
    });
  });

  describe('watch', function () {
    it('creates the folder, reports changes in any session folder once per burst, and stops', async function () {
      assert.equal(fs.existsSync(store.snapshotsDir), false);
      let calls = 0;
      const stop = store.watch(() => calls++);
      const settled = async () => {
        await sleep(500);
        return calls;
      };
      try {
        assert.equal(fs.existsSync(store.snapshotsDir), true);
        const first = await store.save(makeSnapshot('new session'));
        await eventually('a save in a new folder is seen', () => calls > 0);

        // The folder appeared after watching began: it must have a watcher of its own now.
        let before = await settled();
        fs.unlinkSync(first.file);
        await eventually('a delete inside the session folder is seen', () => calls > before);

        before = await settled();
        for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(path.dirname(first.file), `burst-${i}.json`), '{}');
        await eventually('the burst is seen', () => calls > before);
        assert.equal(await settled(), before + 1, 'a burst is one call');
      } finally {
        stop();
      }
      const stopped = calls;
      await store.save(makeSnapshot('another'));
      assert.equal(await settled(), stopped, 'nothing after stop');
    });
  });

  describe('activity lock', function () {
    it('runs holders one at a time in one process, says who holds it, and cleans up', async function () {
      const events: string[] = [];
      const work = (name: string, purpose: 'restore' | 'autosave') =>
        store.withLock(purpose, async () => {
          events.push(`${name} start ${store.activity}`);
          await sleep(100);
          events.push(`${name} end`);
          return name;
        });
      const results = await Promise.all([work('a', 'restore'), work('b', 'autosave'), work('c', 'restore')]);
      assert.deepEqual(results, ['a', 'b', 'c']);
      assert.deepEqual(events, ['a start restore', 'a end', 'b start autosave', 'b end', 'c start restore', 'c end']);
      assert.equal(store.activity, undefined);
      assert.equal(fs.existsSync(store.activityLockFile), false, 'the lock folder is removed');
    });

    it('gives up after waitMs with a message that says what to do, and still runs later callers', async function () {
      let release!: () => void;
      const held = store.withLock('restore', () => new Promise<void>((resolve) => (release = resolve)));
      await eventually('the restore holds the lock', () => store.isRestoring);
      await assert.rejects(store.withLock('autosave', async () => 'never', { waitMs: 200 }), (error: unknown) => error instanceof SnapshotLockBusyError && /already restoring snapshots; try again when it finishes/.test(error.message));
      const controller = new AbortController();
      const aborted = store.withLock('autosave', async () => 'never', { signal: controller.signal });
      controller.abort();
      await assert.rejects(aborted, /abort/i);
      const later = store.withLock('save', async () => 'ran');
      release();
      await held;
      assert.equal(await later, 'ran');
      assert.equal(store.isRestoring, false);
    });

    it('refuses to be taken again inside its own body, instead of waiting for itself forever', async function () {
      const inner = await store.withLock('restore', async () => {
        const nested = store.withLock('save', async () => 'never');
        return nested.then(() => 'ran', (error: Error) => error.message);
      });
      assert.match(inner, /already held by this operation \(restore\); taking it again inside would wait forever/);
      // A session lock inside the activity lock is fine: that is what an autosave does.
      const entry = await store.withLock('autosave', () => store.save(makeSnapshot('dev')));
      assert.equal(fs.existsSync(entry.file), true);
    });

    it('a body that throws releases the lock', async function () {
      await assert.rejects(store.withLock('restore', async () => Promise.reject(new Error('boom'))), /boom/);
      assert.equal(await store.withLock('autosave', async () => 1, { waitMs: 0 }), 1);
    });
  });

  describe('session lock', function () {
    it('waits for a live lock, then says which session is locked; takes over a stale one', async function () {
      const quick = new SnapshotStore(store.dataDir, { sessionLockWaitMs: 300, staleLockMs: 2000 });
      const lock = path.join(store.snapshotsDir, `${sessionFolderName('dev')}.lock`);
      fs.mkdirSync(lock, { recursive: true });
      await assert.rejects(quick.save(makeSnapshot('dev')), (error: unknown) => error instanceof SnapshotLockBusyError && /snapshots of session "dev" are locked/.test(error.message));
      assert.deepEqual(await quick.list(), []);

      const old = new Date(Date.now() - 5000);
      fs.utimesSync(lock, old, old);
      const entry = await quick.save(makeSnapshot('dev'));
      assert.equal(fs.existsSync(entry.file), true);
      assert.equal(fs.existsSync(lock), false);
    });
  });
});
