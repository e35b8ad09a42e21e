import { Snapshot, SnapshotKind } from './document';

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
  /** A lock not refreshed for this long belongs to a process that died (proper-lockfile's `stale`). */
  readonly staleLockMs?: number;
}

export type LockPurpose = 'restore' | 'autosave' | 'save';

export declare class SnapshotStore {
  constructor(dataDir: string, options?: StoreOptions);
  readonly dataDir: string;
  readonly snapshotsDir: string;
  /** Writes one snapshot atomically under its session's lock; returns its entry. */
  save(snapshot: Snapshot): Promise<SnapshotEntry>;
  /** Every snapshot, newest first; broken files included with their reason. */
  list(): Promise<SnapshotEntry[]>;
  /** Reads and validates; throws SnapshotFileError with the reason. */
  read(entry: SnapshotEntry | string): Promise<Snapshot>;
  /** Sets or clears the label; a labelled autosave becomes a manual snapshot (kept until deleted). */
  rename(entry: SnapshotEntry, label: string | undefined): Promise<SnapshotEntry>;
  delete(entry: SnapshotEntry): Promise<void>;
  /** Deletes all but the newest `keep` autosaves of a session; returns how many were deleted. */
  prune(sessionName: string, keep: number): Promise<number>;
  /** The newest good snapshot (of one session, or of any), skipping broken files. */
  latestGood(sessionName?: string): Promise<{ entry: SnapshotEntry; snapshot: Snapshot } | undefined>;
  readManifest(): Promise<AutosaveManifest | undefined>;
  writeManifest(manifest: AutosaveManifest): Promise<void>;
  /**
   * Runs `body` holding the data folder's activity lock, shared by restore and autosave across
   * processes: an autosave never runs while a restore does. Waits up to `waitMs` (default: as long
   * as it takes) for a holder to finish; a holder that died is detected as stale.
   */
  withLock<T>(purpose: LockPurpose, body: () => Promise<T>, options?: { waitMs?: number; signal?: AbortSignal }): Promise<T>;
  /** Calls `listener` (debounced) when files change under the snapshots folder; returns a stop function. */
  watch(listener: () => void): () => void;
}
