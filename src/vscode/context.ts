import * as vscode from 'vscode';
import { TmuxService } from '../tmux/service';
import { Settings } from './settings';
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
  /** The current service; it is replaced when the connection settings change. */
  service(): TmuxService;
  settings(): Settings;
}
