import * as vscode from 'vscode';
import { AutosaveRecord, AutosaveSource, Autosaver } from '../../core/snapshots/autosave';
import type { SnapshotStore } from '../../core/snapshots/store';
import { TmuxService } from '../../tmux/service';
import { Settings } from '../settings';
import { HealthStatusBar } from '../statusBar';

/**
 * Owns the autosaver: builds it from the current service, store and settings, rebuilds it when
 * any of them is replaced, and reports each run to the status bar's tooltip. It starts only when
 * told to (after the after-reboot offer has read the manifest the last autosave left).
 */
export class AutosaveController implements vscode.Disposable {
  private autosaver: Autosaver | undefined;
  private subscription: { dispose(): void } | undefined;
  private started = false;
  /** Kept across rebuilds: the tooltip goes on telling when the last autosave ran. */
  private lastRecord: AutosaveRecord | undefined;

  constructor(
    private readonly statusBar: HealthStatusBar,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get current(): Autosaver | undefined {
    return this.autosaver;
  }

  rebuild(service: TmuxService, store: SnapshotStore, settings: Settings): void {
    this.stop();
    const intervalMinutes = settings.autosaveMinutes;
    this.statusBar.setAutosave({ intervalMinutes, record: this.lastRecord });
    if (intervalMinutes <= 0) {
      this.log.info('autosave is off (autosaveMinutes is 0)');
      return;
    }
    const autosaver = new Autosaver(sourceOf(service), store, {
      intervalMinutes,
      keep: settings.autosaveKeep,
      scrollbackLines: settings.scrollbackLines,
      tmuxVersion: () => service.getStats().version?.text ?? 'unknown',
      log: { info: (message) => this.log.info(`autosave: ${message}`), warn: (message) => this.log.warn(`autosave: ${message}`) },
    });
    this.autosaver = autosaver;
    this.subscription = autosaver.onDidAutosave((record) => {
      this.lastRecord = record;
      this.statusBar.setAutosave({ intervalMinutes, record });
    });
    if (this.started) autosaver.start();
  }

  /** Starts the current autosaver and every later one. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.autosaver?.start();
  }

  private stop(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
    this.autosaver?.dispose();
    this.autosaver = undefined;
  }

  dispose(): void {
    this.stop();
  }
}

/** The service as the autosaver reads it; methods bound, so it can call them detached. */
function sourceOf(service: TmuxService): AutosaveSource {
  return {
    get tree() {
      return service.tree;
    },
    get state() {
      return service.state;
    },
    onDidChangeTree: (listener) => service.onDidChangeTree(listener),
    refresh: () => service.refresh(),
    run: (argv) => service.run(argv),
  };
}
