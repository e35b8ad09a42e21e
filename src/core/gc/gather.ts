import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomically } from '../snapshots/atomicFile';
import { AutosaveManifest, SnapshotEntry, SnapshotStore } from '../snapshots/store';
import { allPanes, PaneId, Tree } from '../../tmux/model';
import { CleanupInput, StaleFileFacts, withoutDeletedMark } from './candidates';

/**
 * Reads what cleanup decides from: snapshots, folders that are gone, our lock and temporary files,
 * and since when each deleted session has been gone.
 *
 * When a session was deleted is not recorded by tmux. We count from the first time we are sure it
 * was gone: a look at a running server without it (kept in `<dataDir>/cleanup.json`, shared with
 * the command-line tool), or an autosave manifest written after its last snapshot that does not
 * list it. Its last snapshot's time is not used: autosave writes only on change, so a session left
 * unchanged for weeks and then closed would look long gone the moment it closed. Counting from the
 * first sighting of its absence errs the safe way: never earlier than the TTL after the deletion.
 * A server that is not running says nothing about any session (a reboot is not a deletion).
 */

export const CLEANUP_RECORD_FILE = 'cleanup.json';
const RECORD_FORMAT = 'tmux-session-manager/cleanup-record';
const RECORD_VERSION = 1;

/** A write-file-atomic temporary file: `<file>.<number>`. */
const TEMP_FILE = /\.json\.\d+$/;

export interface GatherOptions {
  readonly tree: Tree | undefined;
  readonly store: SnapshotStore;
  readonly now: number;
  /**
   * Dead panes without a death time from tmux → when this process first saw them dead. tmux 3.2
   * and later report `pane_dead_time` for every pane `remain-on-exit` keeps, so this is a fallback;
   * it lives as long as the caller keeps the map (the extension keeps one per window).
   */
  readonly deadSeen?: Map<PaneId, number>;
}

export async function gatherCleanupInput(options: GatherOptions): Promise<CleanupInput> {
  const { tree, store, now } = options;
  const [snapshots, manifest] = await Promise.all([store.list(), store.readManifest()]);
  const goneSince = await updateGoneRecord(store.dataDir, tree, snapshots, manifest, now);

  const deadSince = new Map<PaneId, number>();
  if (tree) {
    const deadSeen = options.deadSeen ?? new Map<PaneId, number>();
    const deadNow = new Set<PaneId>();
    for (const pane of allPanes(tree)) {
      if (!pane.dead || pane.deadTime !== undefined) continue;
      deadNow.add(pane.id);
      if (!deadSeen.has(pane.id)) deadSeen.set(pane.id, now);
      deadSince.set(pane.id, deadSeen.get(pane.id)!);
    }
    for (const id of deadSeen.keys()) if (!deadNow.has(id)) deadSeen.delete(id);
  }

  return { tree, missingFolders: await missingFolders(tree), snapshots, goneSince, deadSince, files: await ourFiles(store) };
}

async function missingFolders(tree: Tree | undefined): Promise<Set<string>> {
  const folders = new Set<string>();
  for (const session of tree?.sessions ?? []) {
    if (session.path) folders.add(session.path);
    for (const window of session.windows) for (const pane of window.panes) if (pane.currentPath) folders.add(withoutDeletedMark(pane.currentPath));
  }
  const missing = new Set<string>();
  await Promise.all(
    [...folders].map(async (folder) => {
      try {
        if (!(await fs.promises.stat(folder)).isDirectory()) missing.add(folder);
      } catch (error) {
        // Only "not there" counts: a folder we may not read (EACCES) still exists.
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') missing.add(folder);
      }
    }),
  );
  // A pane in a removed folder reads as "<path> (deleted)"; that form is gone by definition.
  for (const session of tree?.sessions ?? []) for (const window of session.windows) for (const pane of window.panes) if (pane.currentPath.endsWith(' (deleted)')) missing.add(withoutDeletedMark(pane.currentPath));
  return missing;
}

/** Lock folders (`*.lock`) and write-file-atomic leftovers in the data folder and the snapshots folder. */
async function ourFiles(store: SnapshotStore): Promise<StaleFileFacts[]> {
  const files: StaleFileFacts[] = [];
  const look = async (folder: string, depth: number): Promise<void> => {
    let dirents: fs.Dirent[];
    try {
      dirents = await fs.promises.readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    await Promise.all(
      dirents.map(async (dirent) => {
        const file = path.join(folder, dirent.name);
        const type = dirent.isDirectory() && dirent.name.endsWith('.lock') ? 'lock' : dirent.isFile() && TEMP_FILE.test(dirent.name) ? 'temp' : undefined;
        if (type) {
          const stat = await fs.promises.stat(file).catch(() => undefined);
          if (stat) files.push({ path: file, type, mtimeMs: stat.mtimeMs });
        } else if (dirent.isDirectory() && depth > 0 && (folder === store.snapshotsDir || file === store.snapshotsDir)) {
          await look(file, depth - 1);
        }
      }),
    );
  };
  await look(store.dataDir, 2);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

// ---------------------------------------------------------------------------------------------
// Since when a session is gone

interface GoneRecord {
  /** Session name → ISO time of the first look that found it gone. */
  readonly goneSince: Record<string, string>;
}

async function readRecord(file: string): Promise<GoneRecord> {
  try {
    const parsed = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { format?: unknown; version?: unknown; goneSince?: unknown };
    if (parsed.format !== RECORD_FORMAT || parsed.version !== RECORD_VERSION || typeof parsed.goneSince !== 'object' || parsed.goneSince === null) return { goneSince: {} };
    const goneSince: Record<string, string> = {};
    for (const [name, when] of Object.entries(parsed.goneSince)) if (typeof when === 'string' && !Number.isNaN(Date.parse(when))) goneSince[name] = when;
    return { goneSince };
  } catch {
    // Missing or unreadable: start again. The only cost is counting from now, the safe side.
    return { goneSince: {} };
  }
}

/**
 * Brings the record up to date with this look and returns name → gone since (ms) for every
 * session that has snapshots and is not running. Two writers (a window and the command-line tool)
 * may race; the loser's new entries are recorded again at its next look, later, so still safe.
 */
async function updateGoneRecord(dataDir: string, tree: Tree | undefined, snapshots: readonly SnapshotEntry[], manifest: AutosaveManifest | undefined, now: number): Promise<Map<string, number>> {
  const file = path.join(dataDir, CLEANUP_RECORD_FILE);
  const record = await readRecord(file);
  const running = new Set(tree?.sessions.map((session) => session.name) ?? []);
  const newestSave = new Map<string, number>();
  for (const entry of snapshots) newestSave.set(entry.sessionName, Math.max(newestSave.get(entry.sessionName) ?? 0, entry.savedAt.getTime()));

  const next: Record<string, string> = {};
  for (const name of newestSave.keys()) {
    if (running.has(name)) continue;
    const recorded = record.goneSince[name];
    if (recorded) next[name] = recorded;
    else if (tree) next[name] = new Date(now).toISOString();
  }

  const result = new Map<string, number>();
  const manifestTime = manifest ? Date.parse(manifest.savedAt) : NaN;
  for (const [name, newest] of newestSave) {
    if (running.has(name)) continue;
    const seen: number[] = [];
    if (next[name]) seen.push(Date.parse(next[name]));
    if (manifest && !(name in manifest.sessions) && manifestTime >= newest) seen.push(manifestTime);
    if (seen.length > 0) result.set(name, Math.min(...seen));
  }

  const changed = JSON.stringify(next) !== JSON.stringify(record.goneSince);
  if (changed) {
    await fs.promises.mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFileAtomically(file, `${JSON.stringify({ format: RECORD_FORMAT, version: RECORD_VERSION, goneSince: next }, null, 1)}\n`);
  }
  return result;
}
