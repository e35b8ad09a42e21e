import { Runner } from '../../tmux/commands';
import { Tree } from '../../tmux/model';
import { Snapshot } from './document';
import { SnapshotStore } from './store';

/** What the autosaver reads from the tmux service (TmuxService satisfies it). */
export interface AutosaveSource {
  readonly tree: Tree;
  readonly state: { readonly kind: string };
  onDidChangeTree(listener: (tree: Tree) => void): { dispose(): void };
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
}

export declare class Autosaver {
  constructor(source: AutosaveSource, store: SnapshotStore, options: AutosaveOptions);
  /** Starts the timer and follows structural changes. */
  start(): void;
  /** Saves now what changed since the last autosave (waits for a running restore). */
  saveNow(): Promise<AutosaveRecord>;
  readonly last: AutosaveRecord | undefined;
  onDidAutosave(listener: (record: AutosaveRecord) => void): { dispose(): void };
  dispose(): void;
}
