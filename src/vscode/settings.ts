import * as vscode from 'vscode';
import { CleanupPolicy, DEFAULT_CLEANUP_POLICY } from '../core/gc/policy';
import { defaultDataDir, expandHome } from '../core/dataDir';
import { DEFAULT_RESTORE_COMMANDS, DEFAULT_SAFE_PROGRAMS, ProgramPolicy } from '../core/snapshots/programs';
import { ServerAddress } from '../tmux/server';

export const SECTION = 'tmuxSessionManager';

export interface Settings {
  readonly address: ServerAddress;
  readonly dataDir: string;
  readonly interruptWaitMs: number;
  readonly terminateWaitMs: number;
  readonly captureLines: number;
  /** How long Wait for Output waits before giving up. */
  readonly waitTimeoutSeconds: number;
  readonly watchPrograms: boolean;
  /** How to follow the server: `auto` uses control mode only where it cannot crash tmux. */
  readonly connection: 'auto' | 'hooks' | 'control';
  /** Minutes between autosaves; 0 turns autosave off. */
  readonly autosaveMinutes: number;
  /** Autosaves kept per session. */
  readonly autosaveKeep: number;
  /** Scrollback lines saved per pane; 0 saves none. */
  readonly scrollbackLines: number;
  readonly restorePrograms: ProgramPolicy;
  readonly safePrograms: readonly string[];
  readonly restoreCommands: Readonly<Record<string, string>>;
  readonly restoreOnStartup: 'ask' | 'always' | 'never';
  /** Seconds between metrics samples while someone looks; 0 turns metrics off. */
  readonly metricsIntervalSeconds: number;
  readonly metricsShowInDescription: boolean;
  /** `metrics.limits` as written: parsed (and each bad entry explained) by the metrics controller. */
  readonly metricsLimits: unknown;
  readonly cleanup: CleanupSettings;
}

export interface CleanupSettings extends CleanupPolicy {
  /** Clean up on a timer, without asking; off by default. */
  readonly automatic: boolean;
  readonly automaticIntervalMinutes: number;
  /** The tree's "stale" mark after this many minutes without activity; 0 turns it off. */
  readonly staleMinutes: number;
}

// Shared with the command-line tool, which must find the same data folder.
export { defaultDataDir } from '../core/dataDir';

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const text = (key: string) => (config.get<string>(key) ?? '').trim();
  const socketPath = text('socketPath');
  return {
    address: {
      tmuxPath: expandHome(text('tmuxPath') || 'tmux'),
      socketName: text('socketName') || undefined,
      socketPath: socketPath ? expandHome(socketPath) : undefined,
    },
    dataDir: text('dataDir') ? expandHome(text('dataDir')) : defaultDataDir(),
    interruptWaitMs: config.get<number>('kill.interruptWaitMs') ?? 1500,
    terminateWaitMs: config.get<number>('kill.terminateWaitMs') ?? 3000,
    captureLines: config.get<number>('capture.lines') ?? 2000,
    waitTimeoutSeconds: positive(config.get<number>('waitTimeoutSeconds'), 300),
    watchPrograms: config.get<boolean>('watchPrograms') ?? true,
    connection: oneOf(config.get<string>('connection'), ['auto', 'hooks', 'control'] as const, 'auto'),
    autosaveMinutes: nonNegative(config.get<number>('autosaveMinutes'), 5),
    autosaveKeep: Math.max(1, Math.floor(nonNegative(config.get<number>('autosaveKeep'), 10))),
    scrollbackLines: Math.floor(nonNegative(config.get<number>('snapshot.scrollbackLines'), 2000)),
    restorePrograms: oneOf(config.get<string>('restorePrograms'), ['none', 'safe', 'all'] as const, 'safe'),
    safePrograms: stringList(config.get<unknown>('safePrograms')) ?? DEFAULT_SAFE_PROGRAMS,
    restoreCommands: stringMap(config.get<unknown>('restoreCommands')) ?? DEFAULT_RESTORE_COMMANDS,
    restoreOnStartup: oneOf(config.get<string>('restoreOnStartup'), ['ask', 'always', 'never'] as const, 'ask'),
    cleanup: {
      idleSessionHours: nonNegative(config.get<number>('cleanup.idleSessionHours'), DEFAULT_CLEANUP_POLICY.idleSessionHours),
      deadPaneHours: nonNegative(config.get<number>('cleanup.deadPaneHours'), DEFAULT_CLEANUP_POLICY.deadPaneHours),
      deletedSnapshotDays: nonNegative(config.get<number>('cleanup.deletedSnapshotDays'), DEFAULT_CLEANUP_POLICY.deletedSnapshotDays),
      protect: stringList(config.get<unknown>('cleanup.protect')) ?? [],
      automatic: config.get<boolean>('cleanup.automatic') === true,
      automaticIntervalMinutes: Math.max(1, nonNegative(config.get<number>('cleanup.automaticIntervalMinutes'), 60)),
      staleMinutes: nonNegative(config.get<number>('cleanup.staleMinutes'), 5),
    },
    metricsIntervalSeconds: nonNegative(config.get<number>('metrics.intervalSeconds'), 2),
    metricsShowInDescription: config.get<boolean>('metrics.showInDescription') === true,
    metricsLimits: config.get<unknown>('metrics.limits') ?? [],
  };
}

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** A hand-edited settings.json can hold anything: wrong types fall back to the default. */
function nonNegative(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === 'string' && item.trim() !== '').map((item) => item.trim());
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const map: Record<string, string> = {};
  for (const [program, command] of Object.entries(value)) {
    if (typeof command === 'string' && command.trim() !== '') map[program] = command.trim();
  }
  return map;
}

/** Settings whose change means talking to another tmux: the service is rebuilt. */
export function affectsConnection(event: vscode.ConfigurationChangeEvent): boolean {
  return ['tmuxPath', 'socketName', 'socketPath', 'watchPrograms', 'connection'].some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}

/** Settings whose change means another snapshot folder: the store (and its watcher) is rebuilt. */
export function affectsStore(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.dataDir`);
}

/** Settings the autosaver was built with: it is rebuilt when one changes. */
export function affectsAutosave(event: vscode.ConfigurationChangeEvent): boolean {
  return ['autosaveMinutes', 'autosaveKeep', 'snapshot.scrollbackLines'].some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}

/** Settings the metrics controller follows (no reconnect needed). */
export function affectsMetrics(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.metrics`) || event.affectsConfiguration(`${SECTION}.kill`);
}
