import { Snapshot, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, SnapshotKind } from '../../../src/core/snapshots/document';
import { Session } from '../../../src/tmux/model';

export interface FixtureOptions {
  readonly kind?: SnapshotKind;
  readonly label?: string;
  readonly savedAt?: Date;
  readonly windows?: number;
  /** Characters of scrollback in the first pane, to make a large file. */
  readonly scrollbackChars?: number;
  /** Varies the scrollback text, so two fixtures of the same size differ in every line. */
  readonly seed?: string;
  readonly cwd?: string;
}

/** Lines like a busy terminal's, `chars` long, different for each seed. */
export function scrollbackText(chars: number, seed: string): string {
  const line = (n: number) => `\u001b[32m${seed}\u001b[0m line ${n} ${'x'.repeat(n % 97)} — ünïcödé ✓`;
  const parts: string[] = [];
  let length = 0;
  for (let n = 0; length < chars; n++) {
    const next = line(n);
    parts.push(next);
    length += next.length + 1;
  }
  return parts.join('\n').slice(0, chars);
}

/** A valid snapshot of a session with one pane per window. */
export function makeSnapshot(sessionName: string, options: FixtureOptions = {}): Snapshot {
  const windows = Array.from({ length: options.windows ?? 1 }, (_, index) => ({
    index,
    name: `win${index}`,
    layout: 'b25d,120x40,0,0,0',
    active: index === 0,
    zoomed: false,
    panes: [
      {
        index: 0,
        cwd: options.cwd ?? '/tmp',
        title: 'host',
        active: true,
        program: null,
        shell: 'bash',
        scrollback: index === 0 && options.scrollbackChars ? { text: scrollbackText(options.scrollbackChars, options.seed ?? 'seed'), lines: 1 } : null,
      },
    ],
  }));
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    kind: options.kind ?? 'auto',
    ...(options.label !== undefined ? { label: options.label } : {}),
    savedAt: (options.savedAt ?? new Date()).toISOString(),
    tmuxVersion: '3.3a',
    host: 'test-host',
    session: { name: sessionName, windows },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A tmux session as the service's tree shows it: one window with one pane. */
export function fakeSession(name: string, window: { name?: string; command?: string; cwd?: string; activity?: number } = {}): Session {
  return {
    kind: 'session',
    id: '$1',
    name,
    attachedClients: 0,
    created: 0,
    activity: window.activity ?? 0,
    windows: [
      {
        kind: 'window',
        id: '@1',
        sessionId: '$1',
        index: 0,
        name: window.name ?? 'main',
        active: true,
        zoomed: false,
        layout: 'b25d,120x40,0,0,0',
        activity: window.activity ?? 0,
        panes: [
          {
            kind: 'pane',
            id: '%1',
            windowId: '@1',
            sessionId: '$1',
            index: 0,
            active: true,
            pid: 1,
            currentCommand: window.command ?? 'bash',
            currentPath: window.cwd ?? '/tmp',
            title: '',
            width: 120,
            height: 40,
            dead: false,
            inMode: false,
          },
        ],
      },
    ],
  };
}
