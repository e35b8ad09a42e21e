/**
 * The tmux object model. Everything is keyed by tmux's own ids (`$1`, `@3`, `%7`), which stay the
 * same for an object's life; names and indexes change under us and are only shown.
 */

export type SessionId = `$${number}`;
export type WindowId = `@${number}`;
export type PaneId = `%${number}`;

export interface Pane {
  readonly kind: 'pane';
  readonly id: PaneId;
  readonly windowId: WindowId;
  readonly sessionId: SessionId;
  readonly index: number;
  readonly active: boolean;
  /** The process tmux started in the pane (usually a shell). */
  readonly pid: number;
  /** The pane's foreground program, as tmux reads it from the terminal. */
  readonly currentCommand: string;
  readonly currentPath: string;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  /** The program exited and the pane stays because of `remain-on-exit`. */
  readonly dead: boolean;
  readonly deadStatus?: number;
  /** When the program exited (seconds since the epoch), as tmux recorded it; tmux 3.2+ reports it for a pane kept by `remain-on-exit`. */
  readonly deadTime?: number;
  /** In copy mode or another mode. */
  readonly inMode: boolean;
}

export interface Window {
  readonly kind: 'window';
  readonly id: WindowId;
  readonly sessionId: SessionId;
  readonly index: number;
  readonly name: string;
  readonly active: boolean;
  readonly zoomed: boolean;
  readonly layout: string;
  /** Seconds since the epoch of the last output in any pane of the window. */
  readonly activity: number;
  readonly panes: readonly Pane[];
}

export interface Session {
  readonly kind: 'session';
  readonly id: SessionId;
  readonly name: string;
  /** Clients attached, not counting control-mode clients like ours. */
  readonly attachedClients: number;
  readonly created: number;
  readonly activity: number;
  /** When a client last attached (seconds since the epoch); absent when none ever did. */
  readonly lastAttached?: number;
  /** The folder the session was started in (`session_path`). */
  readonly path?: string;
  /** Marked with Protect: cleanup never touches it. Kept in tmux (a session user option), so it outlives the editor. */
  readonly protected?: boolean;
  readonly windows: readonly Window[];
}

export type TmuxObject = Session | Window | Pane;

/** The whole server at one instant. */
export interface Tree {
  readonly sessions: readonly Session[];
  /** When the snapshot was taken (ms since the epoch, our clock). */
  readonly takenAt: number;
}

export const EMPTY_TREE: Tree = { sessions: [], takenAt: 0 };

export function isSessionId(value: string): value is SessionId {
  return /^\$\d+$/.test(value);
}
export function isWindowId(value: string): value is WindowId {
  return /^@\d+$/.test(value);
}
export function isPaneId(value: string): value is PaneId {
  return /^%\d+$/.test(value);
}

/** Finds an object anywhere in the tree by its tmux id. */
export function findById(tree: Tree, id: string): TmuxObject | undefined {
  for (const session of tree.sessions) {
    if (session.id === id) return session;
    for (const window of session.windows) {
      if (window.id === id) return window;
      for (const pane of window.panes) if (pane.id === id) return pane;
    }
  }
  return undefined;
}

export function allPanes(tree: Tree): Pane[] {
  return tree.sessions.flatMap((session) => session.windows.flatMap((window) => window.panes));
}

export function countPanes(tree: Tree): number {
  return tree.sessions.reduce((sum, s) => sum + s.windows.reduce((n, w) => n + w.panes.length, 0), 0);
}
