import { Runner } from '../../tmux/commands';
import { SessionId } from '../../tmux/model';
import { Snapshot } from './document';
import { ProgramPolicy } from './programs';

/** A program the restore would start, for the confirmation prompt. */
export interface PlannedProgram {
  readonly window: string;
  readonly paneIndex: number;
  readonly cwd: string;
  /** What will be typed into the pane's shell. */
  readonly command: string;
  /** In the safe list: runs without asking. */
  readonly safe: boolean;
}

export interface ProgramChoice {
  readonly policy: ProgramPolicy;
  readonly safePrograms: readonly string[];
  readonly restoreCommands: Readonly<Record<string, string>>;
}

export interface RestoreOptions extends ProgramChoice {
  /** Session name to create; defaults to the saved name. Must not exist unless `replace`. */
  readonly name?: string;
  /** Kill an existing session of that name first (the UI asked). */
  readonly replace?: boolean;
  /**
   * Asked once with the programs outside the safe list; false starts none of them (safe ones
   * still start). Omitted: those programs are not started.
   */
  readonly approve?: (programs: readonly PlannedProgram[]) => Promise<boolean>;
  /** Cancelling kills the half-built session: nothing is left behind. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (message: string, fraction: number) => void;
  /** Folder for the scrollback files the panes replay; they delete themselves after. */
  readonly tempDir: string;
}

export interface RestoreResult {
  readonly sessionId: SessionId;
  readonly name: string;
  readonly programsStarted: readonly string[];
  readonly programsSkipped: readonly string[];
}

/** The programs a restore of `snapshot` would start under this policy. */
export declare function planPrograms(snapshot: Snapshot, choice: ProgramChoice): PlannedProgram[];

/** Recreates the session. `run` must be able to start the server (the service's runStartingServer). */
export declare function restoreSnapshot(run: Runner, snapshot: Snapshot, options: RestoreOptions): Promise<RestoreResult>;

/** Thrown when the signal aborts; the partial session is already gone. */
export class RestoreCancelled extends Error {
  constructor() {
    super('Restore cancelled; the partly restored session was removed.');
    this.name = 'RestoreCancelled';
  }
}
