import { Runner } from '../../tmux/commands';
import { Session } from '../../tmux/model';
import { Snapshot, SnapshotKind } from './document';

export interface CaptureOptions {
  readonly kind: SnapshotKind;
  readonly label?: string;
  /** Lines of scrollback to keep per pane (history and screen); 0 keeps none. */
  readonly scrollbackLines: number;
  /** As `tmux -V` printed it (the service knows it: getStats().version.text). */
  readonly tmuxVersion: string;
  readonly now?: Date;
}

/**
 * Reads what a restore needs of each session: the tree gives layouts, names and cwds; one `ps`
 * call gives each pane's foreground program and its full argument vector; `capture-pane -e`
 * gives scrollback. The sessions must be current (the service's tree).
 */
export declare function captureSessions(run: Runner, sessions: readonly Session[], options: CaptureOptions): Promise<Snapshot[]>;
