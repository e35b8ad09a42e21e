import * as os from 'node:os';
import { Runner, stripEscapes } from '../../tmux/commands';
import { flag, formatString, parseRows, text } from '../../tmux/format';
import { Pane, Session, Window } from '../../tmux/model';
import { foregroundProgram, listProcesses, ProcessInfo, readArgv } from '../processes';
import { Snapshot, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, SnapshotKind, SnapshotPane, SnapshotProgram } from './document';

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
export async function captureSessions(run: Runner, sessions: readonly Session[], options: CaptureOptions): Promise<Snapshot[]> {
  const panes = sessions.flatMap((session) => session.windows.flatMap((window) => window.panes));
  // All panes at once: over control mode the commands are pipelined, so the cost is one round
  // trip plus tmux's own work, not one round trip per pane.
  const [processes, automaticRename, scrollbacks] = await Promise.all([
    listProcesses(),
    readAutomaticRename(run),
    Promise.all(panes.map((pane) => (options.scrollbackLines > 0 ? readScrollback(run, pane, options.scrollbackLines) : Promise.resolve(null)))),
  ]);
  const programs = await Promise.all(panes.map((pane) => readProgram(processes, pane)));
  const byPane = new Map(panes.map((pane, i) => [pane.id, { scrollback: scrollbacks[i], program: programs[i] }]));
  const byPid = new Map(processes.map((info) => [info.pid, info]));
  const header: SnapshotHeader = { kind: options.kind, label: options.label, tmuxVersion: options.tmuxVersion, savedAt: (options.now ?? new Date()).toISOString(), host: os.hostname() };
  return sessions.map((session) =>
    snapshotOfSession(session, header, {
      automaticRename: (window) => automaticRename.get(window.id),
      pane: (pane) => ({ ...byPane.get(pane.id)!, shell: byPid.get(pane.pid)?.command }),
    }),
  );
}

export interface SnapshotHeader {
  readonly kind: SnapshotKind;
  readonly label?: string;
  readonly tmuxVersion: string;
  readonly savedAt: string;
  readonly host: string;
}

/** What the tree does not hold, read elsewhere (the process table, capture-pane, window options). */
export interface SessionDetails {
  automaticRename(window: Window): boolean | undefined;
  pane(pane: Pane): { readonly program: SnapshotProgram | null; readonly shell?: string; readonly scrollback: SnapshotPane['scrollback'] };
}

/** The snapshot document of one session of the tree. */
export function snapshotOfSession(session: Session, header: SnapshotHeader, details: SessionDetails): Snapshot {
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    kind: header.kind,
    ...(header.label ? { label: header.label } : {}),
    savedAt: header.savedAt,
    tmuxVersion: header.tmuxVersion,
    host: header.host,
    session: {
      name: session.name,
      windows: session.windows.map((window) => {
        const automaticRename = details.automaticRename(window);
        return {
          index: window.index,
          name: window.name,
          layout: window.layout,
          active: window.active,
          zoomed: window.zoomed,
          ...(automaticRename !== undefined ? { automaticRename } : {}),
          panes: window.panes.map((pane): SnapshotPane => {
            const { program, shell, scrollback } = details.pane(pane);
            return { index: pane.index, cwd: pane.currentPath, title: pane.title, active: pane.active, program, ...(shell ? { shell } : {}), scrollback };
          }),
        };
      }),
    },
  };
}

async function readProgram(processes: readonly ProcessInfo[], pane: Pane): Promise<SnapshotProgram | null> {
  if (pane.dead) return null;
  const program = foregroundProgram(processes, pane.pid);
  if (!program) return null;
  const argv = await readArgv(program.pid);
  if (!argv || argv.length === 0) return null; // It ended while we looked: the pane is at its prompt.
  return { name: program.command, argv };
}

/**
 * History and screen as the user sees them, colours kept (`-e`), wrapped lines joined (`-J`) so
 * they re-wrap at the restored width. Blank lines below the last output are not part of it.
 */
async function readScrollback(run: Runner, pane: Pane, lines: number): Promise<SnapshotPane['scrollback']> {
  let output: string[];
  try {
    output = await run(['capture-pane', '-p', '-e', '-J', '-S', String(-Math.floor(lines)), '-t', pane.id]);
  } catch {
    return null; // The pane closed meanwhile; the tree will drop it on the next save.
  }
  while (output.length > 0 && stripEscapes(output[output.length - 1]).trim() === '') output.pop();
  return { text: output.join('\n'), lines: output.length };
}

const AUTOMATIC_RENAME_ROW = { windowId: text('window_id'), automaticRename: flag('automatic-rename') } as const;

/** Which windows tmux names itself: their names follow the program, so restore must not pin them. */
async function readAutomaticRename(run: Runner): Promise<Map<string, boolean>> {
  const lines = await run(['list-windows', '-a', '-F', formatString(AUTOMATIC_RENAME_ROW)]).catch(() => [] as string[]);
  return new Map(parseRows(AUTOMATIC_RENAME_ROW, lines).map((row) => [row.windowId, row.automaticRename]));
}
