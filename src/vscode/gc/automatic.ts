import * as vscode from 'vscode';
import { planCleanup, runCleanup } from '../../core/gc';
import { ExtensionContextServices } from '../context';
import { SessionTreeProvider } from '../tree';
import { cleanupSource, logOutcomes, summarize } from './source';

/**
 * Cleanup on a timer, with `cleanup.automatic` on (off by default): the same policy and the same
 * act-time checks as Clean Up…, every action logged, one notification per run that did something.
 */
export class AutomaticCleanup implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly ctx: ExtensionContextServices) {
    this.rebuild();
  }

  /** Follows the settings: call after they change. */
  rebuild(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const settings = this.ctx.settings().cleanup;
    if (!settings.automatic) return;
    this.timer = setInterval(() => void this.runOnce(), settings.automaticIntervalMinutes * 60_000);
  }

  async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const source = cleanupSource(this.ctx);
      const candidates = await planCleanup(source);
      if (candidates.length === 0) return;
      const outcomes = await runCleanup(source, candidates);
      logOutcomes(this.ctx, outcomes, 'automatic cleanup');
      this.ctx.service().requestSnapshot();
      if (outcomes.some((outcome) => outcome.result !== 'skipped')) {
        void vscode.window.showInformationMessage(`Automatic cleanup: ${summarize(outcomes)}.`, 'Show Log').then((choice) => {
          if (choice) this.ctx.log.show();
        });
      }
    } catch (error) {
      this.ctx.log.warn(`automatic cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.running = false;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Sessions turn stale with time alone, not with a tmux event: repaint once a minute, only while the view shows. */
const STALE_CHECK_MS = 60_000;

export function followStaleMarks(tree: SessionTreeProvider, view: vscode.TreeView<unknown>, staleMinutes: () => number): vscode.Disposable & { settingsChanged(): void } {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearInterval(timer);
    timer = undefined;
    tree.staleMinutes = staleMinutes();
    if (view.visible && tree.staleMinutes > 0) timer = setInterval(() => tree.refreshNow(), STALE_CHECK_MS);
  };
  arm();
  const visibility = view.onDidChangeVisibility(arm);
  return {
    settingsChanged: () => {
      arm();
      tree.refreshNow();
    },
    dispose: () => {
      clearInterval(timer);
      visibility.dispose();
    },
  };
}
