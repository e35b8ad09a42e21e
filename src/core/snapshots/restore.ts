import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Runner, sessionExists } from '../../tmux/commands';
import { formatString, int, parseRows, text } from '../../tmux/format';
import { InvalidInputError } from '../../tmux/errors';
import { layoutSize } from '../../tmux/layout';
import { PaneId, SessionId, WindowId } from '../../tmux/model';
import { assertSessionName, assertWindowName } from '../../tmux/names';
import { escapeFormat } from '../../tmux/quote';
import { sleep } from '../../tmux/wait';
import { Snapshot, SnapshotPane, SnapshotWindow } from './document';
import { commandLineOf, ProgramPolicy, programNames, shellQuote } from './programs';

/** What new-session and new-window report of what they made. */
const CREATED_ROW = { sessionId: text('session_id'), windowId: text('window_id'), paneId: text('pane_id'), windowIndex: int('window_index') } as const;
const SESSION_ROW = { id: text('session_id'), name: text('session_name') } as const;
/** Where a pane's cursor is and what runs in it: a shell whose cursor moved right shows its prompt. */
const PROMPT_ROW = { id: text('pane_id'), cursorX: int('cursor_x'), command: text('pane_current_command') } as const;

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
  /** Kill an existing session of that name, once the new one is complete (the UI asked). */
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
  /** The windows built and the layouts they were given (for LayoutKeeper). */
  readonly windows: readonly { readonly id: WindowId; readonly layout: string }[];
  /** What could not be restored as saved (a folder that is gone, a layout tmux refused). */
  readonly warnings: readonly string[];
}

/** Thrown when the signal aborts; the partial session is already gone. */
export class RestoreCancelled extends Error {
  constructor() {
    super('Restore cancelled; the partly restored session was removed.');
    this.name = 'RestoreCancelled';
  }
}

interface PlannedPane {
  readonly window: SnapshotWindow;
  readonly pane: SnapshotPane;
  readonly plan?: PlannedProgram;
}

/** The programs a restore of `snapshot` would start under this policy, in pane order. */
export function planPrograms(snapshot: Snapshot, choice: ProgramChoice): PlannedProgram[] {
  return planPanes(snapshot, choice).flatMap((planned) => (planned.plan ? [planned.plan] : []));
}

function planPanes(snapshot: Snapshot, choice: ProgramChoice): PlannedPane[] {
  const safe = new Set(choice.safePrograms);
  return snapshot.session.windows.flatMap((window) =>
    window.panes.map((pane): PlannedPane => {
      const program = pane.program;
      if (!program || choice.policy === 'none') return { window, pane };
      const names = programNames(program);
      const base = { window: window.name, paneIndex: pane.index, cwd: pane.cwd };
      const resumeName = names.find((name) => Object.prototype.hasOwnProperty.call(choice.restoreCommands, name));
      // A resume command is how an agent comes back with its conversation: it is what the user
      // would type, so it counts under `safe`; still not on the safe list, so it is asked about.
      if (resumeName !== undefined) return { window, pane, plan: { ...base, command: choice.restoreCommands[resumeName], safe: names.some((name) => safe.has(name)) } };
      if (names.some((name) => safe.has(name))) return { window, pane, plan: { ...base, command: commandLineOf(program.argv), safe: true } };
      if (choice.policy === 'all') return { window, pane, plan: { ...base, command: commandLineOf(program.argv), safe: false } };
      return { window, pane };
    }),
  );
}

/**
 * Recreates the session: windows at their indexes and with their names, panes in their folders,
 * the saved layout string applied (tmux scales it when a client of another size attaches), the
 * active window and pane, zoom, titles; scrollback printed into each pane before its shell starts;
 * programs typed into their shells per policy. Built under the target name, or under a temporary
 * one when replacing, so a failure or cancel never costs the user an existing session.
 */
export async function restoreSnapshot(run: Runner, snapshot: Snapshot, options: RestoreOptions): Promise<RestoreResult> {
  const name = options.name ?? snapshot.session.name;
  assertSessionName(name);
  for (const window of snapshot.session.windows) assertWindowName(window.name);
  if (!options.replace && (await sessionExists(run, name))) {
    throw new InvalidInputError(`A session named "${name}" already exists. Attach to it, restore under another name, or replace it.`);
  }
  const planned = planPanes(snapshot, options);
  const unsafe = planned.flatMap((p) => (p.plan && !p.plan.safe ? [p.plan] : []));
  const runUnsafe = unsafe.length > 0 && options.approve ? await options.approve(unsafe) : false;
  const buildName = options.replace ? `${name}-restoring-${process.pid}-${Date.now() % 100000}` : name;

  const folder = scrollbackFolder(options.tempDir);
  const warnings: string[] = [];
  const totalPanes = planned.length;
  let built = 0;
  let sessionId: SessionId | undefined;
  const check = () => {
    if (options.signal?.aborted) throw new RestoreCancelled();
  };
  const progress = (window: SnapshotWindow, p: number) => {
    built++;
    options.onProgress?.(`${window.name}: pane ${p + 1} of ${window.panes.length}`, built / (totalPanes + 1));
  };

  try {
    check();
    // Commands that do not wait for each other's answers are asked for together: over control
    // mode they are pipelined, without it they share one tmux process (OneShotQueue). Every
    // window's panes are split in order within it, windows side by side.
    const windows = snapshot.session.windows;
    const firstWindows: { window: SnapshotWindow; ids: PaneId[]; windowId: WindowId }[] = [];
    const [first, ...others] = windows;
    {
      const cwd = existingFolder(first.panes[0].cwd, warnings);
      const command = paneCommand(folder, '0-0', first.panes[0].scrollback);
      const size = layoutSize(first.layout);
      const argv = ['new-session', '-d', '-P', '-F', formatString(CREATED_ROW), '-s', escapeFormat(buildName), '-c', escapeFormat(cwd)];
      if (!first.automaticRename) argv.push('-n', escapeFormat(first.name));
      if (size) argv.push('-x', String(size.width), '-y', String(size.height));
      if (command) argv.push('--', command);
      const [created] = parseRows(CREATED_ROW, await run(argv));
      sessionId = created.sessionId as SessionId;
      const windowId = created.windowId as WindowId;
      // The first window lands at base-index; the saved one may have been elsewhere.
      if (created.windowIndex !== first.index) await run(['move-window', '-s', windowId, '-t', `${sessionId}:${first.index}`]);
      firstWindows.push({ window: first, ids: [created.paneId as PaneId], windowId });
      progress(first, 0);
    }
    check();
    const created = await Promise.all(others.map((window, i) => {
      const w = i + 1;
      const cwd = existingFolder(window.panes[0].cwd, warnings);
      const command = paneCommand(folder, `${w}-0`, window.panes[0].scrollback);
      const argv = ['new-window', '-d', '-P', '-F', formatString(CREATED_ROW), '-t', `${sessionId}:${window.index}`, '-c', escapeFormat(cwd)];
      if (!window.automaticRename) argv.push('-n', escapeFormat(window.name));
      if (command) argv.push('--', command);
      return run(argv).then((lines) => {
        const [row] = parseRows(CREATED_ROW, lines);
        progress(window, 0);
        return { window, ids: [row.paneId as PaneId], windowId: row.windowId as WindowId };
      });
    }));
    const panesByWindow = [...firstWindows, ...created];
    await Promise.all(panesByWindow.map(async ({ window, ids, windowId }) => {
      const w = windows.indexOf(window);
      for (const [p, pane] of window.panes.entries()) {
        if (p === 0) continue;
        check();
        const cwd = existingFolder(pane.cwd, warnings);
        const command = paneCommand(folder, `${w}-${p}`, pane.scrollback);
        // Splitting the newest pane appends after it, so tmux numbers the panes in saved order.
        const argv = ['split-window', '-d', '-P', '-F', '#{pane_id}', '-t', ids[ids.length - 1], '-c', escapeFormat(cwd)];
        if (command) argv.push('--', command);
        const [paneId] = await run(argv);
        ids.push(paneId as PaneId);
        // Evening out after each split leaves room for the next: the saved layout comes after.
        await run(['select-layout', '-t', windowId, 'tiled']);
        progress(window, p);
      }
    }));

    check();
    const finishing: Promise<unknown>[] = [];
    for (const { window, ids, windowId } of panesByWindow) {
      finishing.push(run(['select-layout', '-t', windowId, window.layout]).catch((error: Error) => {
        warnings.push(`window ${window.index} (${window.name}): tmux refused the saved layout (${error.message.trim()}); panes are tiled instead`);
      }));
      for (const [p, pane] of window.panes.entries()) {
        if (pane.title && pane.title !== snapshot.host) finishing.push(run(['select-pane', '-t', ids[p], '-T', escapeFormat(pane.title)]));
      }
      const active = window.panes.findIndex((pane) => pane.active);
      if (active >= 0) finishing.push(run(['select-pane', '-t', ids[active]]));
      if (window.zoomed && window.panes.length > 1) finishing.push(run(['resize-pane', '-Z', '-t', ids[Math.max(0, active)]]));
    }
    const activeWindow = panesByWindow.find(({ window }) => window.active);
    if (activeWindow) finishing.push(run(['select-window', '-t', activeWindow.windowId]));
    await Promise.all(finishing);

    check();
    const started: string[] = [];
    const skipped: string[] = [];
    const toStart: { pane: PaneId; command: string }[] = [];
    for (const { window, ids } of panesByWindow) {
      for (const [p, pane] of window.panes.entries()) {
        const plan = planned.find((x) => x.pane === pane)?.plan;
        if (!pane.program) continue;
        const label = `${window.name}.${pane.index}: ${plan?.command ?? commandLineOf(pane.program.argv)}`;
        if (plan && (plan.safe || runUnsafe)) {
          toStart.push({ pane: ids[p], command: plan.command });
          started.push(label);
        } else {
          skipped.push(label);
        }
      }
    }
    await waitForShells(run, sessionId!, folder, toStart.map((s) => s.pane));
    await Promise.all(toStart.flatMap(({ pane, command }) => [run(['send-keys', '-t', pane, '-l', '--', command]), run(['send-keys', '-t', pane, 'Enter'])]));

    if (options.replace && buildName !== name) await swapIn(run, sessionId!, name);
    options.onProgress?.('done', 1);
    const builtWindows = panesByWindow.map(({ window, windowId }) => ({ id: windowId, layout: window.layout }));
    return { sessionId: sessionId!, name, programsStarted: started, programsSkipped: skipped, windows: builtWindows, warnings };
  } catch (error) {
    if (sessionId) await run(['kill-session', '-t', sessionId]).catch(() => undefined);
    fs.rmSync(folder, { recursive: true, force: true });
    throw options.signal?.aborted ? new RestoreCancelled() : error;
  }
}

/**
 * Gives the finished session the name of the one it replaces. The old one is renamed aside first
 * and killed last: killing it may end the control connection (a client attached to a destroyed
 * session is detached), and by then nothing is left to do.
 */
async function swapIn(run: Runner, sessionId: SessionId, name: string): Promise<void> {
  const sessions = parseRows(SESSION_ROW, await run(['list-sessions', '-F', formatString(SESSION_ROW)]));
  const existing = sessions.find((session) => session.name === name)?.id;
  if (existing) await run(['rename-session', '-t', existing, '--', `${escapeFormat(name)}-replaced-${process.pid}`]);
  await run(['rename-session', '-t', sessionId, '--', escapeFormat(name)]);
  if (existing) await run(['kill-session', '-t', existing]).catch(() => undefined);
}

/** A folder of our own for this restore's scrollback files, with a path any shell can quote. */
function scrollbackFolder(tempDir: string): string {
  let base = tempDir;
  if (!/^[A-Za-z0-9_@%+=:,./ -]+$/.test(base)) base = os.tmpdir();
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  removeOldScrollbackFolders(base);
  return fs.mkdtempSync(path.join(base, 'restore-'));
}

/**
 * Folders of earlier restores: empty once their panes replayed, or left by a crash. A folder
 * younger than a minute may belong to a restore running beside this one (another window).
 */
function removeOldScrollbackFolders(base: string): void {
  const minuteAgo = Date.now() - 60_000;
  const hourAgo = Date.now() - 3600_000;
  for (const name of fs.readdirSync(base)) {
    if (!name.startsWith('restore-')) continue;
    const folder = path.join(base, name);
    try {
      const stat = fs.statSync(folder);
      if ((stat.mtimeMs < minuteAgo && fs.readdirSync(folder).length === 0) || stat.mtimeMs < hourAgo) fs.rmSync(folder, { recursive: true, force: true });
    } catch {
      // Another restore is cleaning up too.
    }
  }
}

/**
 * The pane's first command when it has scrollback: print it, delete it, then become the login
 * shell tmux would have started (tmux sets SHELL to its default-shell in every pane). The same
 * text is valid in sh, bash, zsh and fish.
 */
function paneCommand(folder: string, key: string, scrollback: SnapshotPane['scrollback']): string | undefined {
  if (!scrollback || scrollback.text.length === 0) return undefined;
  const file = path.join(folder, `${key}.txt`);
  // Reset colours at the end: the saved text may stop inside a coloured run.
  fs.writeFileSync(file, `${scrollback.text}\u001b[0m\n`, { mode: 0o600 });
  const quoted = shellQuote(file);
  return `cat ${quoted}; rm -f ${quoted}; exec "$SHELL" -l`;
}

function existingFolder(cwd: string, warnings: string[]): string {
  try {
    if (fs.statSync(cwd).isDirectory()) return cwd;
  } catch {
    // Gone since the save.
  }
  warnings.push(`the folder ${cwd} no longer exists; the pane starts in your home folder`);
  return os.homedir();
}

/**
 * Programs are typed only once their pane's shell shows its prompt: typed earlier, the terminal
 * echoes them into the replayed scrollback, above the prompt. Waits at most a few seconds (a
 * prompt may be empty), then types anyway.
 */
async function waitForShells(run: Runner, sessionId: SessionId, folder: string, panes: readonly PaneId[], timeoutMs = 5000): Promise<void> {
  // With nothing to type, the panes finish their replay on their own and delete their files.
  if (panes.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  const pending = () => fs.existsSync(folder) && fs.readdirSync(folder).length > 0;
  while (pending() && Date.now() < deadline) await sleep(20);
  fs.rmSync(folder, { recursive: true, force: true });
  const [shell] = await run(['show-options', '-gv', 'default-shell']).catch(() => ['']);
  const shellName = path.basename(shell ?? '');
  const waiting = new Set<string>(panes);
  while (waiting.size > 0 && Date.now() < deadline) {
    // The replay ends with a new line: a cursor that moved right is the shell's prompt, printed
    // once its line editor has the terminal.
    for (const pane of parseRows(PROMPT_ROW, await run(['list-panes', '-s', '-t', sessionId, '-F', formatString(PROMPT_ROW)]))) {
      if ((!shellName || pane.command === shellName) && pane.cursorX > 0) waiting.delete(pane.id);
    }
    if (waiting.size > 0) await sleep(20);
  }
}
