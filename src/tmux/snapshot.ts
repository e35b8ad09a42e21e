import { flag, formatString, int, optionalInt, parseRows, RecordOf, text } from './format';
import { Pane, PaneId, Session, SessionId, Tree, Window, WindowId } from './model';

/** The session user option (without its `@`) that Protect sets; any value but empty or `0` protects. */
export const PROTECTED_OPTION = 'tmux-session-manager-protected';

/**
 * The whole tree in one round trip: every pane row carries its window's and session's fields
 * (every session has a window and every window a pane), and the clients list tells real
 * attachments from control-mode ones.
 */
export const PANE_ROW = {
  sessionId: text('session_id'),
  sessionName: text('session_name'),
  sessionCreated: int('session_created'),
  sessionActivity: int('session_activity'),
  windowId: text('window_id'),
  windowIndex: int('window_index'),
  windowName: text('window_name'),
  windowActive: flag('window_active'),
  windowZoomed: flag('window_zoomed_flag'),
  windowLayout: text('window_layout'),
  windowActivity: int('window_activity'),
  paneId: text('pane_id'),
  paneIndex: int('pane_index'),
  paneActive: flag('pane_active'),
  panePid: int('pane_pid'),
  paneCurrentCommand: text('pane_current_command'),
  paneCurrentPath: text('pane_current_path'),
  paneTitle: text('pane_title'),
  paneWidth: int('pane_width'),
  paneHeight: int('pane_height'),
  paneDead: flag('pane_dead'),
  paneDeadStatus: optionalInt('pane_dead_status'),
  paneInMode: flag('pane_in_mode'),
  // For cleanup. Text, not a flag: anyone can set the user option to anything, and one odd value must not break the tree.
  sessionProtected: text(`@${PROTECTED_OPTION}`),
  sessionPath: text('session_path'),
  sessionLastAttached: optionalInt('session_last_attached'),
  paneDeadTime: optionalInt('pane_dead_time'),
} as const;

export const CLIENT_ROW = {
  name: text('client_name'),
  sessionId: text('session_id'),
  controlMode: flag('client_control_mode'),
} as const;

export type PaneRow = RecordOf<typeof PANE_ROW>;
export type ClientRow = RecordOf<typeof CLIENT_ROW>;

/** The commands of a snapshot, to send on one line. */
export function snapshotCommands(): string[][] {
  return [
    ['list-panes', '-a', '-F', formatString(PANE_ROW)],
    ['list-clients', '-F', formatString(CLIENT_ROW)],
  ];
}

/** Builds the tree from the replies to {@link snapshotCommands}. */
export function parseSnapshot(paneLines: readonly string[], clientLines: readonly string[], takenAt = Date.now()): Tree {
  const attached = new Map<string, number>();
  for (const client of parseRows(CLIENT_ROW, clientLines)) {
    if (client.controlMode || !client.sessionId) continue;
    attached.set(client.sessionId, (attached.get(client.sessionId) ?? 0) + 1);
  }
  return buildTree(parseRows(PANE_ROW, paneLines), attached, takenAt);
}

export function buildTree(rows: readonly PaneRow[], attached: ReadonlyMap<string, number>, takenAt: number): Tree {
  const sessions = new Map<string, { row: PaneRow; windows: Map<string, { row: PaneRow; panes: Pane[] }> }>();
  for (const row of rows) {
    let session = sessions.get(row.sessionId);
    if (!session) {
      session = { row, windows: new Map() };
      sessions.set(row.sessionId, session);
    }
    let window = session.windows.get(row.windowId);
    if (!window) {
      window = { row, panes: [] };
      session.windows.set(row.windowId, window);
    }
    window.panes.push({
      kind: 'pane',
      id: row.paneId as PaneId,
      windowId: row.windowId as WindowId,
      sessionId: row.sessionId as SessionId,
      index: row.paneIndex,
      active: row.paneActive,
      pid: row.panePid,
      currentCommand: row.paneCurrentCommand,
      currentPath: row.paneCurrentPath,
      title: row.paneTitle,
      width: row.paneWidth,
      height: row.paneHeight,
      dead: row.paneDead,
      deadStatus: row.paneDeadStatus,
      ...(row.paneDeadTime !== undefined ? { deadTime: row.paneDeadTime } : {}),
      inMode: row.paneInMode,
    });
  }
  const result: Session[] = [];
  for (const { row, windows } of sessions.values()) {
    const windowList: Window[] = [];
    for (const { row: w, panes } of windows.values()) {
      windowList.push({
        kind: 'window',
        id: w.windowId as WindowId,
        sessionId: w.sessionId as SessionId,
        index: w.windowIndex,
        name: w.windowName,
        active: w.windowActive,
        zoomed: w.windowZoomed,
        layout: w.windowLayout,
        activity: w.windowActivity,
        panes: panes.sort((a, b) => a.index - b.index),
      });
    }
    result.push({
      kind: 'session',
      id: row.sessionId as SessionId,
      name: row.sessionName,
      attachedClients: attached.get(row.sessionId) ?? 0,
      created: row.sessionCreated,
      activity: row.sessionActivity,
      ...(row.sessionLastAttached ? { lastAttached: row.sessionLastAttached } : {}),
      path: row.sessionPath,
      protected: row.sessionProtected !== '' && row.sessionProtected !== '0',
      windows: windowList.sort((a, b) => a.index - b.index),
    });
  }
  result.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { sessions: result, takenAt };
}

/**
 * The tree with one window replaced by a fresh reading of it (`list-panes -t @id` rows), or
 * removed when `rows` is empty. Returns undefined when the rows name a session the tree does not
 * have: only a whole snapshot can place it.
 */
export function withWindow(tree: Tree, windowId: string, rows: readonly PaneRow[], takenAt = Date.now()): Tree | undefined {
  const fresh = rows.length > 0 ? buildTree(rows, new Map(), takenAt).sessions[0] : undefined;
  if (fresh && !tree.sessions.some((s) => s.id === fresh.id)) return undefined;
  // A window moves between sessions with move-window: drop it everywhere, then place it.
  const sessions = tree.sessions.map((session): Session => {
    const others = session.windows.filter((w) => w.id !== windowId);
    if (!fresh || session.id !== fresh.id) return others.length === session.windows.length ? session : { ...session, windows: others };
    const windows = [...others, fresh.windows[0]].sort((a, b) => a.index - b.index);
    return { ...session, name: fresh.name, activity: fresh.activity, lastAttached: fresh.lastAttached, path: fresh.path, protected: fresh.protected, windows };
  });
  return { sessions, takenAt };
}
