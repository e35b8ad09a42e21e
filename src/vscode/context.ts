import * as vscode from 'vscode';
import type { Autosaver } from '../core/snapshots/autosave';
import type { LayoutKeeper } from '../core/snapshots/proportions';
import type { SnapshotStore } from '../core/snapshots/store';
import { TmuxService } from '../tmux/service';
import type { PaneFollowers } from './commands/followPane';
import type { MetricsController } from './metrics/controller';
import { Settings } from './settings';
import type { SnapshotTreeProvider } from './snapshots/view';
import { HealthStatusBar } from './statusBar';
import { AttachTerminals } from './terminals';
import { SessionTreeProvider } from './tree';

/** What command handlers need, handed to each; nothing global. */
export interface ExtensionContextServices {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly terminals: AttachTerminals;
  readonly treeProvider: SessionTreeProvider;
  readonly statusBar: HealthStatusBar;
  /** The Snapshots view's provider. */
  readonly snapshotTree: SnapshotTreeProvider;
  /** The open Follow Pane Output terminals. */
  readonly followers: PaneFollowers;
  /** The current service; it is replaced when the connection settings change. */
  service(): TmuxService;
  settings(): Settings;
  /** The snapshot folder under the data dir; replaced when `dataDir` changes. */
  store(): SnapshotStore;
  /** The running autosaver; undefined while autosave is off (`autosaveMinutes` = 0). */
  autosaver(): Autosaver | undefined;
  /** Keeps restored windows in proportion when a client of another size attaches. */
  layoutKeeper(): LayoutKeeper;
  /** Per-pane CPU, memory and I/O, the metrics table and resource limits. */
  readonly metrics: MetricsController;
}
