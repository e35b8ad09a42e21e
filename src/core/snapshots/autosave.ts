import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Runner } from '../../tmux/commands';
import { Emitter } from '../../tmux/emitter';
import { layoutGeometry } from '../../tmux/layout';
import { Tree, Window } from '../../tmux/model';
import { captureSessions } from './capture';
import { Snapshot } from './document';
import { SnapshotStore } from './store';

/** What the autosaver reads from the tmux service (TmuxService satisfies it). */
export interface AutosaveSource {
  readonly tree: Tree;
  readonly state: { readonly kind: string };
  onDidChangeTree(listener: (tree: Tree) => void): { dispose(): void };
  /** Reads the tree anew: tmux tells nobody when a shell changes folder, so the held tree can be behind. */
  refresh(): Promise<Tree>;
  run: Runner;
}

export interface AutosaveOptions {
  /** Minutes between periodic saves; 0 turns autosave off. */
  readonly intervalMinutes: number;
  /** Autosaves kept per session. */
  readonly keep: number;
  /** Quiet time after a structural change before saving. */
  readonly debounceMs?: number;
  readonly scrollbackLines: number;
  readonly tmuxVersion: () => string;
  readonly log?: { info(message: string): void; warn(message: string): void };
  /** Replaces captureSessions, for tests. */
  readonly capture?: (sessions: Tree['sessions']) => Promise<Snapshot[]>;
}

export interface AutosaveRecord {
  readonly at: Date;
  readonly sessionsWritten: number;
  readonly sessionsUnchanged: number;
  readonly error?: string;
  /** Why nothing was attempted (no server, no sessions, disposed); such runs do not replace `last`. */
  readonly skipped?: string;
}

const DEFAULT_DEBOUNCE_MS = 2000;

/**
 * What a change must touch to be worth an autosave soon: sessions, windows and panes coming,
 * going, renamed or moved, and layouts. Activity times, titles, folders and the running command
 * change all the time and are left to the periodic save. `previous` is the tree before this one:
 * tmux renames a window after its program a moment after the program starts, so a name that
 * was the program's then is still the program's and not a rename by the user.
 */
export function structuralKey(tree: Tree, previous?: Tree): string {
  const earlier = new Map<string, string | undefined>();
  for (const session of previous?.sessions ?? []) for (const window of session.windows) earlier.set(window.id, automaticName(window));
  const userName = (window: Window) => (window.name === automaticName(window) || window.name === earlier.get(window.id) ? null : window.name);
  return JSON.stringify(
    tree.sessions.map((session) => [
      session.id,
      session.name,
      session.windows.map((window) => [window.id, window.index, userName(window), window.layout, window.zoomed, window.panes.map((pane) => [pane.id, pane.index])]),
    ]),
  );
}

/**
 * Which program runs in each pane. A program started in a pane changes no structure, yet it is
 * what a crash right after would lose (an agent started five minutes before the next periodic
 * save), so it is saved soon too; a save writes only sessions whose saved form really changed.
 */
export function programKey(tree: Tree): string {
  return JSON.stringify(tree.sessions.map((session) => session.windows.map((window) => window.panes.map((pane) => [pane.id, pane.currentCommand, pane.dead]))));
}

/** The name tmux's automatic-rename gives the window now (its default `automatic-rename-format`). */
function automaticName(window: Window): string | undefined {
  const pane = window.panes.find((candidate) => candidate.active) ?? window.panes[0];
  return pane ? `${pane.inMode ? '[tmux]' : pane.currentCommand}${pane.dead ? '[dead]' : ''}` : undefined;
}

/**
 * What a restore would rebuild from a snapshot: its structure, folders and programs. Scrollback and
 * titles change with every line of output, so they are saved along whenever a save happens but
 * never cause one; neither does the time of the save.
 */
export function snapshotFingerprint(snapshot: Snapshot): string {
  const session = {
    ...snapshot.session,
    windows: snapshot.session.windows.map((window) => ({
      ...window,
      // A restored session has new pane ids: the same shape must not count as a change.
      layout: layoutGeometry(window.layout),
      panes: window.panes.map(({ scrollback: _scrollback, title: _title, ...pane }) => pane),
    })),
  };
  return createHash('sha1').update(JSON.stringify(session)).digest('hex');
}

/**
 * Saves every session of the server now and then, and soon after its shape changes, writing only
 * sessions that differ from their last autosave. Each run holds the store's activity lock, so it
 * waits for a restore running in any window or in the command-line tool.
 */
export class Autosaver {
  private readonly emitter = new Emitter<AutosaveRecord>();
  private readonly stopping = new AbortController();
  /** Fingerprints of snapshot files by entry id; files are never rewritten with other content under the same id. */
  private readonly fingerprints = new Map<string, string>();
  private lastRecord: AutosaveRecord | undefined;
  private interval: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private subscription: { dispose(): void } | undefined;
  private lastStructure = '';
  private lastPrograms = '';
  private lastTree: Tree | undefined;
  private running: Promise<AutosaveRecord> | undefined;
  private queued: Promise<AutosaveRecord> | undefined;
  private disposed = false;

  constructor(
    private readonly source: AutosaveSource,
    private readonly store: SnapshotStore,
    private readonly options: AutosaveOptions,
  ) {}

  get last(): AutosaveRecord | undefined {
    return this.lastRecord;
  }

  readonly onDidAutosave = (listener: (record: AutosaveRecord) => void): { dispose(): void } => this.emitter.event(listener);

  /** Starts the timer and follows structural changes. */
  start(): void {
    if (this.disposed || this.subscription || this.options.intervalMinutes <= 0) return;
    this.lastTree = this.source.tree;
    this.lastStructure = structuralKey(this.lastTree);
    this.lastPrograms = programKey(this.lastTree);
    this.subscription = this.source.onDidChangeTree((tree) => this.treeChanged(tree));
    this.interval = setInterval(() => void this.saveNow(), this.options.intervalMinutes * 60_000);
    this.interval.unref();
  }

  /** Saves now what changed since the last autosave (waits for a running restore). Never rejects. */
  saveNow(): Promise<AutosaveRecord> {
    if (this.disposed) return Promise.resolve(skipped('autosave was stopped'));
    if (!this.running) {
      this.running = this.runOnce().finally(() => (this.running = undefined));
      return this.running;
    }
    // Never two runs at once: callers arriving during a run share one more run after it.
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.saveNow();
    });
    return this.queued;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.interval);
    clearTimeout(this.debounce);
    this.subscription?.dispose();
    this.subscription = undefined;
    // A run waiting for the lock gives up; one already writing finishes its file.
    this.stopping.abort();
    this.emitter.dispose();
  }

  private treeChanged(tree: Tree): void {
    const structure = structuralKey(tree, this.lastTree);
    const programs = programKey(tree);
    this.lastTree = tree;
    if (structure === this.lastStructure && programs === this.lastPrograms) return;
    this.lastStructure = structure;
    this.lastPrograms = programs;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.saveNow(), this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.debounce.unref();
  }

  /** Why there is nothing to save now: an empty manifest would lose the after-reboot offer. */
  private skipReason(): string | undefined {
    if (this.disposed) return 'autosave was stopped';
    if (this.source.state.kind !== 'ok') return `tmux is not connected (${this.source.state.kind})`;
    if (this.source.tree.sessions.length === 0) return 'the server has no sessions';
    return undefined;
  }

  private async runOnce(): Promise<AutosaveRecord> {
    const reason = this.skipReason();
    if (reason) return skipped(reason);
    let record: AutosaveRecord;
    try {
      record = await this.store.withLock('autosave', () => this.saveChanged(), { signal: this.stopping.signal });
    } catch (error) {
      if (this.disposed) return skipped('autosave was stopped');
      record = { at: new Date(), sessionsWritten: 0, sessionsUnchanged: 0, error: (error as Error).message ?? String(error) };
      this.options.log?.warn(`Autosave failed: ${record.error}`);
    }
    if (!record.skipped) {
      this.lastRecord = record;
      this.emitter.fire(record);
    }
    return record;
  }

  private async saveChanged(): Promise<AutosaveRecord> {
    // A restore may have held the lock until just now: what to save is what the server has now.
    const reason = this.skipReason();
    if (reason) return skipped(reason);
    // Structure first: scrollback is what costs (tmux formats every line), and only sessions
    // that changed are written, so only theirs is read.
    // The tree is read now, not taken as held: a `cd` in a shell changes no structure and fires
    // no event, and a save on the timer is exactly what should catch it.
    const tree = await this.source.refresh();
    const structures = await this.capture(tree.sessions, 0);
    if (structures.length === 0) return skipped('the sessions closed while they were read');

    const previous = await this.store.readManifest();
    const sessions: Record<string, string> = {};
    const changed: { name: string; fingerprint: string }[] = [];
    // A session missing from the manifest (closed for a while, then restored) is compared with
    // its newest autosave instead.
    let newestAutosaves: Map<string, string> | undefined;
    const newestAutosave = async (name: string) => {
      newestAutosaves ??= new Map((await this.store.list()).filter((e) => e.kind === 'auto' && !e.broken).reverse().map((e) => [e.sessionName, e.id]));
      return newestAutosaves.get(name);
    };
    for (const structure of structures) {
      const name = structure.session.name;
      const fingerprint = snapshotFingerprint(structure);
      const previousId = previous?.sessions[name] ?? (await newestAutosave(name));
      if (previousId !== undefined && (await this.fingerprintOf(previousId)) === fingerprint) sessions[name] = previousId;
      else changed.push({ name, fingerprint });
    }
    const changedNames = new Set(changed.map((c) => c.name));
    const full = this.options.scrollbackLines > 0 ? await this.capture(tree.sessions.filter((s) => changedNames.has(s.name)), this.options.scrollbackLines) : structures.filter((s) => changedNames.has(s.session.name));
    const entries = await this.store.saveMany(full);
    for (const entry of entries) {
      this.fingerprints.set(entry.id, changed.find((c) => c.name === entry.sessionName)?.fingerprint ?? '');
      sessions[entry.sessionName] = entry.id;
    }
    await Promise.all(entries.map((entry) => this.store.prune(entry.sessionName, Math.max(1, this.options.keep))));
    const written = entries.length;
    const unchanged = structures.length - changed.length;

    if (!previous || !sameSessions(previous.sessions, sessions) || previous.host !== os.hostname()) {
      await this.store.writeManifest({ savedAt: new Date().toISOString(), host: os.hostname(), sessions });
    }
    if (written > 0) this.options.log?.info(`Autosaved ${written} session${written === 1 ? '' : 's'} (${unchanged} unchanged).`);
    return { at: new Date(), sessionsWritten: written, sessionsUnchanged: unchanged };
  }

  private async capture(sessions: Tree['sessions'], scrollbackLines: number): Promise<Snapshot[]> {
    if (sessions.length === 0) return [];
    if (this.options.capture) return this.options.capture(sessions);
    // `run` is TmuxService's method: called through the source so it keeps its `this`.
    return captureSessions((argv) => this.source.run(argv), sessions, {
      kind: 'auto',
      scrollbackLines,
      tmuxVersion: this.options.tmuxVersion(),
    });
  }

  /**
   * The fingerprint of the snapshot an entry holds, or undefined when it is gone or unreadable (the
   * user deleted or labelled it, or another window pruned it): then the session is saved anew.
   * Read from the file, so a second window or a fresh start compares with what is on disk.
   */
  private async fingerprintOf(id: string): Promise<string | undefined> {
    let file: string;
    try {
      file = this.store.fileOf(id);
      await fs.promises.access(file);
    } catch {
      this.fingerprints.delete(id);
      return undefined;
    }
    const known = this.fingerprints.get(id);
    if (known) return known;
    try {
      const fingerprint = snapshotFingerprint(await this.store.read(file));
      this.fingerprints.set(id, fingerprint);
      return fingerprint;
    } catch {
      return undefined;
    }
  }
}

function skipped(reason: string): AutosaveRecord {
  return { at: new Date(), sessionsWritten: 0, sessionsUnchanged: 0, skipped: reason };
}

function sameSessions(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
