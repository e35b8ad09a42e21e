import { createHash, randomBytes } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomically } from './atomicFile';
import { countPanes, MAX_SNAPSHOT_BYTES, parseSnapshotText, serializeSnapshot, Snapshot, SnapshotFileError, SnapshotKind, snapshotSchema } from './document';
import { sleep } from '../../tmux/wait';
import { snapshotLibraries } from './libraries';

/**
 * Where snapshots live: `<dataDir>/snapshots/<session folder>/<stamp>-<kind>-<rand>.json`, one
 * file per saved session. Every write is atomic (temporary file, fsync, rename) and made under a
 * lock that other VS Code windows and the command-line tool respect.
 */

/** One file in the store, good or broken. */
export interface SnapshotEntry {
  /** Stable across processes: the path relative to the snapshots folder, with `/`. */
  readonly id: string;
  readonly file: string;
  /** From the document; for a broken file, decoded from its folder's name. */
  readonly sessionName: string;
  /** From the document; for a broken file, from its file name, or `auto` when that says nothing. */
  readonly kind: SnapshotKind;
  readonly label?: string;
  /** From the document; for a broken file, the file's modification time. */
  readonly savedAt: Date;
  readonly windows: number;
  readonly panes: number;
  readonly bytes: number;
  /** Why the file cannot be restored; absent for a good file. */
  readonly broken?: string;
}

/** What the last autosave saw: the sessions the server had, for the offer after a reboot. */
export interface AutosaveManifest {
  readonly savedAt: string;
  readonly host: string;
  /** Session name → id of the snapshot entry that holds it. */
  readonly sessions: Readonly<Record<string, string>>;
}

export interface StoreOptions {
  /** A lock not refreshed for this long belongs to a process that died (proper-lockfile's `stale`; at least 2000). */
  readonly staleLockMs?: number;
  /** How long a save, rename, delete or prune waits for another process working on the same session. */
  readonly sessionLockWaitMs?: number;
  /** Told when a held lock was taken away (the machine slept past the stale time, or someone removed it). */
  readonly log?: { warn(message: string): void };
}

export { writeFileAtomically };


export type LockPurpose = 'restore' | 'autosave' | 'save';

/** The activity lock (or a session's lock) stayed busy for longer than the caller would wait. */
export class SnapshotLockBusyError extends Error {
  constructor(
    readonly lockFile: string,
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotLockBusyError';
  }
}

const DEFAULT_STALE_MS = 10_000;
const DEFAULT_SESSION_LOCK_WAIT_MS = 10_000;
/** Folder names stay well under the 255-byte limit of common file systems, with room for the lock suffix. */
const FOLDER_NAME_LIMIT = 150;
const HASHED_NAME_SEPARATOR = '~';
const READ_CONCURRENCY = 32;
const DEBOUNCE_WATCH_MS = 200;
const MANIFEST_FORMAT = 'tmux-session-manager/autosave-manifest';
const MANIFEST_VERSION = 1;
const SNAPSHOT_FILE = /^(\d{8}T\d{9}Z)-(auto|manual)-([0-9a-f]+)\.json$/;
const TOO_LARGE = `the file is larger than ${MAX_SNAPSHOT_BYTES / 1024 / 1024} MB; not a snapshot this extension wrote`;

// ---------------------------------------------------------------------------------------------
// Names on disk

function encodeCharacter(character: string): string {
  if (/^[A-Za-z0-9_-]$/.test(character)) return character;
  return [...Buffer.from(character, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/**
 * The folder holding one session's snapshots. Everything but letters, digits, `_` and `-` is
 * percent-encoded (so `.`, `/`, `:` and case tricks cannot make a name special), which keeps it
 * reversible. A name too long to fit is cut at a character and given a hash, which keeps it
 * unique; the document always holds the real name.
 */
export function sessionFolderName(sessionName: string): string {
  const encoded = [...sessionName].map(encodeCharacter).join('');
  if (encoded.length <= FOLDER_NAME_LIMIT) return encoded;
  const hash = createHash('sha1').update(sessionName, 'utf8').digest('hex').slice(0, 12);
  let prefix = '';
  for (const character of sessionName) {
    const piece = encodeCharacter(character);
    if (prefix.length + piece.length > FOLDER_NAME_LIMIT - hash.length - 1) break;
    prefix += piece;
  }
  return `${prefix}${HASHED_NAME_SEPARATOR}${hash}`;
}

/** The session name a folder stands for; a shortened one ends in `…`. For files we cannot read. */
export function sessionNameFromFolder(folder: string): string {
  const hashed = folder.lastIndexOf(HASHED_NAME_SEPARATOR);
  const encoded = hashed >= 0 ? folder.slice(0, hashed) : folder;
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    name = encoded;
  }
  return hashed >= 0 ? `${name}…` : name;
}

/** `2026-11-23T16:24:55.123Z` → `20261123T162455123Z`: sorts by time, safe on every file system. */
function fileStamp(savedAt: string): string {
  return new Date(savedAt).toISOString().replace(/[-:.]/g, '');
}

export function snapshotFileName(savedAt: string, kind: SnapshotKind): string {
  return `${fileStamp(savedAt)}-${kind}-${randomBytes(6).toString('hex')}.json`;
}

function kindFromFileName(name: string): SnapshotKind {
  return (/^\d{8}T\d{9}Z-(auto|manual)-/.exec(name)?.[1] as SnapshotKind | undefined) ?? 'auto';
}

/** Same stamp and random part, another kind: the file of a snapshot whose kind changed. */
function withKind(name: string, savedAt: string, kind: SnapshotKind): string {
  const match = SNAPSHOT_FILE.exec(name);
  return match ? `${match[1]}-${kind}-${match[3]}.json` : snapshotFileName(savedAt, kind);
}

/** write-file-atomic's temporary files are `<file>.<number>`; lock folders end in `.lock`. */
function isSnapshotFileName(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.');
}

function isSessionFolderName(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.lock');
}

async function ensureFolder(folder: string): Promise<void> {
  await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
}

// ---------------------------------------------------------------------------------------------
// Locks

/**
 * proper-lockfile refuses a lock this process already holds (ELOCKED, as for any other holder),
 * so callers in one process queue here first and only the head of the queue goes to the file.
 * Module-wide so that two stores on the same folder in one process queue together.
 */
const inProcessQueues = new Map<string, Promise<void>>();
/** Lock file → what this process holds it for. */
const heldHere = new Map<string, LockPurpose>();
/** The locks the current call chain holds, to refuse a nested take that would wait for itself forever. */
const heldByCaller = new AsyncLocalStorage<ReadonlyMap<string, { held: boolean }>>();

/** Waits for `promise`, but no later than `deadline`, and not past an abort. */
async function waitUntil(promise: Promise<void>, deadline: number, signal: AbortSignal | undefined, busy: () => Error): Promise<void> {
  signal?.throwIfAborted();
  if (deadline === Infinity && !signal) return promise;
  let timer: NodeJS.Timeout | undefined;
  let aborted: (() => void) | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        if (deadline !== Infinity) timer = setTimeout(() => reject(busy()), Math.max(0, deadline - Date.now()));
        aborted = () => reject(signal!.reason);
        signal?.addEventListener('abort', aborted, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (aborted) signal?.removeEventListener('abort', aborted);
  }
}

interface LockRequest {
  /** The path proper-lockfile locks (need not exist); the lock itself is the folder `lockFile`. */
  readonly target: string;
  readonly lockFile: string;
  readonly staleMs: number;
  readonly deadline: number;
  readonly signal?: AbortSignal;
  readonly busy: () => Error;
  readonly onCompromised: (error: Error) => void;
  /** Creates the folder the lock lives in; run once this caller's turn in the process has come. */
  readonly prepare: () => Promise<void>;
}

async function acquireFileLock(request: LockRequest): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    request.signal?.throwIfAborted();
    try {
      return await snapshotLibraries().lockfile.lock(request.target, {
        realpath: false,
        lockfilePath: request.lockFile,
        stale: request.staleMs,
        retries: 0,
        onCompromised: request.onCompromised,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    }
    const left = request.deadline - Date.now();
    if (left <= 0) throw request.busy();
    // Backoff with jitter, so two waiters do not retry in step; capped so a release is noticed soon.
    const pause = Math.min(25 * 2 ** Math.min(attempt, 5), 500) * (0.5 + Math.random() / 2);
    await sleep(Math.min(pause, left), request.signal);
  }
}

/** Runs `body` holding `request`'s lock against this process and every other. */
async function underLock<T>(request: LockRequest, purpose: LockPurpose, body: () => Promise<T>): Promise<T> {
  const outer = heldByCaller.getStore();
  if (outer?.get(request.lockFile)?.held) {
    throw new Error(`The lock ${request.lockFile} is already held by this operation (${heldHere.get(request.lockFile)}); taking it again inside would wait forever.`);
  }
  const previous = inProcessQueues.get(request.lockFile) ?? Promise.resolve();
  let leave!: () => void;
  const mine = new Promise<void>((resolve) => (leave = resolve));
  const tail = previous.then(() => mine);
  inProcessQueues.set(request.lockFile, tail);
  try {
    await waitUntil(previous, request.deadline, request.signal, request.busy);
    await request.prepare();
    const release = await acquireFileLock(request);
    heldHere.set(request.lockFile, purpose);
    const token = { held: true };
    try {
      return await heldByCaller.run(new Map([...(outer ?? []), [request.lockFile, token]]), body);
    } finally {
      token.held = false;
      heldHere.delete(request.lockFile);
      // A lock that was compromised is already gone; nothing else can fail here that matters.
      await release().catch(() => undefined);
    }
  } finally {
    leave();
    if (inProcessQueues.get(request.lockFile) === tail) inProcessQueues.delete(request.lockFile);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

function manifestSchema() {
  const { z } = snapshotLibraries();
  return z.object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.literal(MANIFEST_VERSION),
    savedAt: z.string(),
    host: z.string(),
    sessions: z.record(z.string(), z.string()),
  });
}

type ReadResult = { readonly ok: true; readonly snapshot: Snapshot; readonly bytes: number } | { readonly ok: false; readonly reason: string; readonly bytes: number };

/** Reads one file through one handle, so the size checked is the size of the file read. */
async function readSnapshotFile(file: string): Promise<ReadResult> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (error) {
    return { ok: false, reason: unreadable(error), bytes: 0 };
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_SNAPSHOT_BYTES) return { ok: false, reason: TOO_LARGE, bytes: size };
    const text = await handle.readFile('utf8');
    const parsed = parseSnapshotText(text);
    return parsed.ok ? { ok: true, snapshot: parsed.snapshot, bytes: size } : { ok: false, reason: parsed.reason, bytes: size };
  } catch (error) {
    return { ok: false, reason: unreadable(error), bytes: 0 };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'the file no longer exists (another window or the command-line tool may have deleted it)';
  if (code === 'EACCES' || code === 'EPERM') return 'the file cannot be read (permission denied)';
  if (code === 'EISDIR') return 'this is a folder, not a snapshot file';
  return `the file cannot be read (${(error as Error).message})`;
}

/** Enough to overlap the fsync waits; more only queues in the kernel. */
const WRITE_CONCURRENCY = 16;

async function mapWithLimit<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function readFolder(folder: string): Promise<fs.Dirent[]> {
  try {
    return await fs.promises.readdir(folder, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

function newestFirst(a: SnapshotEntry, b: SnapshotEntry): number {
  return b.savedAt.getTime() - a.savedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** A session's folder goes with its last file, so a closed session leaves nothing behind. */
async function removeIfEmpty(folder: string): Promise<void> {
  await fs.promises.rmdir(folder).catch(() => undefined);
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await fs.promises.unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

// ---------------------------------------------------------------------------------------------

interface CachedEntry {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly entry: SnapshotEntry;
}

export class SnapshotStore {
  readonly dataDir: string;
  readonly snapshotsDir: string;
  /** The activity lock's folder is this path plus `.lock`. */
  readonly activityLockTarget: string;
  readonly manifestFile: string;
  private readonly staleMs: number;
  private readonly sessionLockWaitMs: number;
  /**
   * Entries by file, valid while the file's inode, size and mtime stay the same. Files are only
   * ever replaced by rename, which gives a new inode, so a hit is the file as it was read.
   */
  private readonly cache = new Map<string, CachedEntry>();

  constructor(dataDir: string, private readonly options: StoreOptions = {}) {
    this.dataDir = path.resolve(dataDir);
    this.snapshotsDir = path.join(this.dataDir, 'snapshots');
    this.activityLockTarget = path.join(this.dataDir, 'activity');
    this.manifestFile = path.join(this.dataDir, 'autosave.json');
    this.staleMs = Math.max(options.staleLockMs ?? DEFAULT_STALE_MS, 2000);
    this.sessionLockWaitMs = options.sessionLockWaitMs ?? DEFAULT_SESSION_LOCK_WAIT_MS;
  }

  /** What this process holds the activity lock for right now, if it does. */
  get activity(): LockPurpose | undefined {
    return heldHere.get(this.activityLockFile);
  }

  /** Whether a restore runs in this process (other processes: only the lock says, and it says "busy"). */
  get isRestoring(): boolean {
    return this.activity === 'restore';
  }

  get activityLockFile(): string {
    return `${this.activityLockTarget}.lock`;
  }

  /** The absolute path of an entry id (`<folder>/<file>.json`); refuses ids that leave the store. */
  fileOf(id: string): string {
    const file = path.resolve(this.snapshotsDir, ...id.split('/'));
    if (path.dirname(path.dirname(file)) !== this.snapshotsDir) throw new SnapshotFileError(id, 'not a snapshot of this store');
    return file;
  }

  idOf(file: string): string {
    return path.relative(this.snapshotsDir, file).split(path.sep).join('/');
  }

  /** Writes one snapshot atomically under its session's lock; returns its entry. */
  async save(snapshot: Snapshot): Promise<SnapshotEntry> {
    const checked = snapshotSchema().safeParse(snapshot);
    if (!checked.success) throw new Error(`Refusing to save an invalid snapshot of "${snapshot.session?.name}": ${checked.error.issues[0].message}`);
    const folder = path.join(this.snapshotsDir, sessionFolderName(snapshot.session.name));
    const file = path.join(folder, snapshotFileName(snapshot.savedAt, snapshot.kind));
    const text = serializeSnapshot(snapshot);
    await this.withSessionLock(folder, async () => {
      // Inside the lock: a delete of the session's last file removes the folder under the same lock.
      await ensureFolder(folder);
      await writeFileAtomically(file, text);
    });
    return this.entryOf(file, snapshot, Buffer.byteLength(text));
  }

  /**
   * Saves several sessions at once (Save All, autosave). Files are written in parallel: most of
   * a save is waiting for fsync, and those waits overlap.
   */
  saveMany(snapshots: readonly Snapshot[]): Promise<SnapshotEntry[]> {
    return mapWithLimit(snapshots, WRITE_CONCURRENCY, (snapshot) => this.save(snapshot));
  }

  /** Every snapshot, newest first; broken files included with their reason. */
  async list(): Promise<SnapshotEntry[]> {
    const folders = (await readFolder(this.snapshotsDir)).filter((dirent) => dirent.isDirectory() && isSessionFolderName(dirent.name));
    const perFolder = await mapWithLimit(folders, READ_CONCURRENCY, (dirent) => this.filesIn(path.join(this.snapshotsDir, dirent.name)));
    const files = perFolder.flat();
    const entries = await mapWithLimit(files, READ_CONCURRENCY, (file) => this.describe(file));
    const seen = new Set(files);
    for (const file of this.cache.keys()) if (!seen.has(file)) this.cache.delete(file);
    return entries.filter((entry): entry is SnapshotEntry => entry !== undefined).sort(newestFirst);
  }

  /** Reads and validates; throws SnapshotFileError with the reason. */
  async read(entry: SnapshotEntry | string): Promise<Snapshot> {
    const file = typeof entry === 'string' ? (path.isAbsolute(entry) ? entry : this.fileOf(entry)) : entry.file;
    const result = await readSnapshotFile(file);
    if (!result.ok) throw new SnapshotFileError(file, result.reason);
    return result.snapshot;
  }

  /** Sets or clears the label; a labelled autosave becomes a manual snapshot (kept until deleted). */
  async rename(entry: SnapshotEntry, label: string | undefined): Promise<SnapshotEntry> {
    const file = this.fileOf(entry.id);
    const folder = path.dirname(file);
    const newLabel = label?.trim() || undefined;
    return this.withSessionLock(folder, async () => {
      const snapshot = await this.read(file);
      const kind: SnapshotKind = newLabel ? 'manual' : snapshot.kind;
      const { label: _previous, ...rest } = snapshot;
      const renamed: Snapshot = newLabel ? { ...rest, kind, label: newLabel } : { ...rest, kind };
      const target = kind === snapshot.kind ? file : path.join(folder, withKind(path.basename(file), snapshot.savedAt, kind));
      const text = serializeSnapshot(renamed);
      // The new file is complete before the old one goes: a crash leaves two copies, never none.
      await writeFileAtomically(target, text);
      if (target !== file) await unlinkIfPresent(file);
      return this.entryOf(target, renamed, Buffer.byteLength(text));
    });
  }

  async delete(entry: SnapshotEntry): Promise<void> {
    const file = this.fileOf(entry.id);
    await this.withSessionLock(path.dirname(file), async () => {
      await unlinkIfPresent(file);
      await removeIfEmpty(path.dirname(file));
    });
    this.cache.delete(file);
  }

  /** Deletes all but the newest `keep` autosaves of a session; returns how many were deleted. Broken files stay for the user to see. */
  async prune(sessionName: string, keep: number): Promise<number> {
    const folder = path.join(this.snapshotsDir, sessionFolderName(sessionName));
    return this.withSessionLock(folder, async () => {
      const entries = await Promise.all((await this.filesIn(folder)).map((file) => this.describe(file)));
      const autosaves = entries
        .filter((entry): entry is SnapshotEntry => entry !== undefined && !entry.broken && entry.kind === 'auto' && entry.sessionName === sessionName)
        .sort(newestFirst);
      const doomed = autosaves.slice(Math.max(0, Math.floor(keep)));
      for (const entry of doomed) {
        await unlinkIfPresent(entry.file);
        this.cache.delete(entry.file);
      }
      await removeIfEmpty(folder);
      return doomed.length;
    });
  }

  /** The newest good snapshot (of one session, or of any), skipping broken files. */
  async latestGood(sessionName?: string): Promise<{ entry: SnapshotEntry; snapshot: Snapshot } | undefined> {
    for (const entry of await this.list()) {
      if (entry.broken || (sessionName !== undefined && entry.sessionName !== sessionName)) continue;
      try {
        return { entry, snapshot: await this.read(entry) };
      } catch {
        // Changed or went away since it was listed: the next one will do.
      }
    }
    return undefined;
  }

  /** The last autosave's manifest; undefined when there is none or it cannot be trusted. */
  async readManifest(): Promise<AutosaveManifest | undefined> {
    let text: string;
    try {
      const stat = await fs.promises.stat(this.manifestFile);
      if (stat.size > MAX_SNAPSHOT_BYTES) return undefined;
      text = await fs.promises.readFile(this.manifestFile, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = manifestSchema().safeParse(JSON.parse(text));
      if (!parsed.success) return undefined;
      const { savedAt, host, sessions } = parsed.data;
      return { savedAt, host, sessions };
    } catch {
      return undefined;
    }
  }

  async writeManifest(manifest: AutosaveManifest): Promise<void> {
    await ensureFolder(this.dataDir);
    const document = { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, savedAt: manifest.savedAt, host: manifest.host, sessions: manifest.sessions };
    await writeFileAtomically(this.manifestFile, `${JSON.stringify(document, null, 1)}\n`);
  }

  /**
   * Runs `body` holding the data folder's activity lock, shared by restore and autosave across
   * processes: an autosave never runs while a restore does. Waits up to `waitMs` (default: as long
   * as it takes) for a holder to finish; a holder that died is detected as stale.
   */
  withLock<T>(purpose: LockPurpose, body: () => Promise<T>, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const lockFile = this.activityLockFile;
    const busy = () => {
      const here = heldHere.get(lockFile);
      const message = here
        ? `This window is already ${here === 'restore' ? 'restoring' : 'saving'} snapshots; try again when it finishes.`
        : `Another VS Code window or the command-line tool is restoring or saving snapshots (lock ${lockFile}); try again when it finishes.`;
      return new SnapshotLockBusyError(lockFile, message);
    };
    return underLock(
      {
        target: this.activityLockTarget,
        lockFile,
        staleMs: this.staleMs,
        deadline: options.waitMs === undefined ? Infinity : Date.now() + options.waitMs,
        signal: options.signal,
        busy,
        onCompromised: (error) => this.lockCompromised(lockFile, error),
        prepare: () => ensureFolder(this.dataDir),
      },
      purpose,
      body,
    );
  }

  /** Calls `listener` (debounced) when files change under the snapshots folder; returns a stop function. */
  watch(listener: () => void): () => void {
    const top = this.snapshotsDir;
    const watchers = new Map<string, fs.FSWatcher>();
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;

    const changed = () => {
      if (stopped) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (!stopped) listener();
      }, DEBOUNCE_WATCH_MS);
    };
    // One watcher per folder rather than `recursive`, which Node 18 (older VS Code) lacks on Linux.
    const follow = (folder: string) => {
      if (stopped || watchers.has(folder)) return;
      try {
        const watcher = fs.watch(folder, (_event, name) => {
          if (folder === top) {
            // A session lock being taken, refreshed or released is not a change of snapshots.
            if (name && name.toString().endsWith('.lock')) return;
            followSubfolders();
          }
          changed();
        });
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(folder);
          changed();
        });
        watchers.set(folder, watcher);
      } catch {
        // Gone between listing and watching: the top folder's next event lists it again.
      }
    };
    const followSubfolders = () => {
      let dirents: fs.Dirent[];
      try {
        dirents = fs.readdirSync(top, { withFileTypes: true });
      } catch {
        return;
      }
      const wanted = new Set(dirents.filter((d) => d.isDirectory() && isSessionFolderName(d.name)).map((d) => path.join(top, d.name)));
      for (const folder of wanted) follow(folder);
      for (const [folder, watcher] of watchers) {
        if (folder !== top && !wanted.has(folder)) {
          watcher.close();
          watchers.delete(folder);
        }
      }
    };

    try {
      fs.mkdirSync(top, { recursive: true, mode: 0o700 });
    } catch (error) {
      this.options.log?.warn(`Cannot create ${top} to watch it: ${(error as Error).message}`);
    }
    follow(top);
    followSubfolders();
    return () => {
      stopped = true;
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    };
  }

  // -------------------------------------------------------------------------------------------

  /** Callers queue in the order they call, so nothing may be awaited before `underLock`. */
  private withSessionLock<T>(folder: string, body: () => Promise<T>): Promise<T> {
    const lockFile = `${folder}.lock`;
    return underLock(
      {
        target: folder,
        lockFile,
        staleMs: this.staleMs,
        deadline: Date.now() + this.sessionLockWaitMs,
        busy: () =>
          new SnapshotLockBusyError(
            lockFile,
            `The snapshots of session "${sessionNameFromFolder(path.basename(folder))}" are locked by another VS Code window or the command-line tool (lock ${lockFile}); try again in a moment.`,
          ),
        onCompromised: (error) => this.lockCompromised(lockFile, error),
        prepare: () => ensureFolder(this.snapshotsDir),
      },
      'save',
      body,
    );
  }

  private lockCompromised(lockFile: string, error: Error): void {
    // proper-lockfile's default throws from a timer, which would take the whole extension host down.
    this.options.log?.warn(`Lost the lock ${lockFile} (${error.message}); another process may have taken it over.`);
  }

  private async filesIn(folder: string): Promise<string[]> {
    return (await readFolder(folder)).filter((dirent) => !dirent.isDirectory() && isSnapshotFileName(dirent.name)).map((dirent) => path.join(folder, dirent.name));
  }

  /** The entry for one file, from the cache when the file is unchanged; undefined if it vanished. */
  private async describe(file: string): Promise<SnapshotEntry | undefined> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch {
      this.cache.delete(file);
      return undefined;
    }
    if (!stat.isFile()) return undefined;
    const cached = this.cache.get(file);
    if (cached && cached.ino === stat.ino && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached.entry;

    const result = stat.size > MAX_SNAPSHOT_BYTES ? ({ ok: false, reason: TOO_LARGE, bytes: stat.size } as const) : await readSnapshotFile(file);
    const entry = result.ok ? this.entryOf(file, result.snapshot, result.bytes) : this.brokenEntry(file, result.reason, stat);
    this.cache.set(file, { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, entry });
    return entry;
  }

  private entryOf(file: string, snapshot: Snapshot, bytes: number): SnapshotEntry {
    return {
      id: this.idOf(file),
      file,
      sessionName: snapshot.session.name,
      kind: snapshot.kind,
      ...(snapshot.label !== undefined ? { label: snapshot.label } : {}),
      savedAt: new Date(snapshot.savedAt),
      windows: snapshot.session.windows.length,
      panes: countPanes(snapshot),
      bytes,
    };
  }

  private brokenEntry(file: string, reason: string, stat: fs.Stats): SnapshotEntry {
    return {
      id: this.idOf(file),
      file,
      sessionName: sessionNameFromFolder(path.basename(path.dirname(file))),
      kind: kindFromFileName(path.basename(file)),
      savedAt: stat.mtime,
      windows: 0,
      panes: 0,
      bytes: stat.size,
      broken: reason,
    };
  }
}
