import * as vscode from 'vscode';
import { OutputSubscription } from '../../core/output/outputHub';
import { PaneOutputEnd } from '../../core/output/paneOutput';
import { Pane } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { outputHub } from '../outputs';
import { targetPane } from '../pick';

/**
 * Text waiting for the terminal above this size is cut from its front: a pane can print far faster
 * than a terminal renders, and nothing else bounds what a follower holds.
 */
export const PENDING_LIMIT_CHARS = 2 * 1024 * 1024;
/** Writes to the terminal are batched this often: one IPC message per batch, not per chunk. */
const FLUSH_MS = 16;
/**
 * At most this much goes to the terminal per batch (2 MB/s, more than anyone reads). A pseudoterminal has no flow control:
 * what is fired waits in the workbench until the terminal has drawn it, unbounded, and a close of
 * the terminal queues behind it. Keeping the rest here, where PENDING_LIMIT_CHARS bounds it, keeps
 * memory bounded and the view answering while a pane floods.
 */
const FLUSH_LIMIT_CHARS = 32 * 1024;
const TAIL_CHARS = 4096;

const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

/**
 * Follows panes in read-only terminals: "Follow Pane Output".
 *
 * A pseudoterminal, not an output channel: the pane's output is terminal output, with colours,
 * cursor movement and carriage returns, and only a terminal shows that as the pane does. The text
 * comes from `pipe-pane` (core/output/paneOutput.ts), which works for every pane of every session,
 * attached or not; `%output` would reach only a control client, and only for its attached session.
 *
 * One terminal per pane: following a pane again shows its terminal. Closing the terminal stops the
 * stream, which closes the pipe in tmux and removes its FIFO.
 */
export class PaneFollowers implements vscode.Disposable {
  private readonly followers = new Map<string, PaneFollower>();

  /** Opens (or shows) the pane's follow terminal. */
  async follow(ctx: ExtensionContextServices, pane: Pane, label: string): Promise<PaneFollower> {
    const existing = this.followers.get(pane.id);
    if (existing && !existing.closed) {
      existing.terminal.show();
      return existing;
    }
    const service = ctx.service();
    const run = (argv: readonly string[]) => service.run(argv);
    // What the pane shows now, so the view does not open blank; then only what comes after.
    const screen = await run(['capture-pane', '-p', '-e', '-t', pane.id]);
    while (screen.length > 0 && screen[screen.length - 1].trim() === '') screen.pop();
    const follower = new PaneFollower(label, screen, (end) => this.ended(pane.id, follower, end, ctx));
    // The stream opens before the terminal: a pane that cannot be followed (a pipe of the user's,
    // a dead pane) is an error message, not an empty terminal.
    const stream = await outputHub(service).open(pane.id, { onText: (text) => follower.write(text), onEnd: (end) => follower.streamEnded(end) });
    follower.start(stream);
    this.followers.set(pane.id, follower);
    ctx.log.info(`following the output of pane ${pane.id} (${label})`);
    return follower;
  }

  /** Every follower still open, for tests and the health report. */
  get open(): PaneFollower[] {
    return [...this.followers.values()].filter((follower) => !follower.closed);
  }

  private ended(paneId: string, follower: PaneFollower, end: PaneOutputEnd, ctx: ExtensionContextServices): void {
    if (this.followers.get(paneId) === follower) this.followers.delete(paneId);
    ctx.log.info(`stopped following pane ${paneId}: ${end.kind === 'error' ? end.error.message : end.kind}`);
  }

  dispose(): void {
    for (const follower of this.followers.values()) follower.dispose();
    this.followers.clear();
  }
}

/** One follow terminal: a pseudoterminal fed by one pane's output stream. */
export class PaneFollower implements vscode.Disposable {
  readonly terminal: vscode.Terminal;
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private stream: OutputSubscription | undefined;
  private pending = '';
  private flushTimer: NodeJS.Timeout | undefined;
  private opened = false;
  /** Characters received from the pane, and how many of them were cut because the terminal lagged. */
  received = 0;
  skipped = 0;
  /** The most characters ever waiting for the terminal: what the view held at its fullest. */
  maxPending = 0;
  closed = false;
  /** The last few KB shown, so a test (or a bug report) can tell what the view shows. */
  tail = '';

  constructor(
    readonly label: string,
    screen: string[],
    private readonly onEnd: (end: PaneOutputEnd) => void,
  ) {
    const header = `${DIM}Following ${label}: read-only, new output appears as the pane prints it. Close this terminal to stop.${RESET}\r\n`;
    this.pending = header + (screen.length ? screen.join('\r\n') + '\r\n' : '') + `${DIM}── live from here ──${RESET}\r\n`;
    const pty: vscode.Pseudoterminal = {
      onDidWrite: this.writeEmitter.event,
      open: () => {
        this.opened = true;
        this.flush();
      },
      close: () => void this.close(),
      // Read-only: keys typed here must not look as if they reached the pane.
      handleInput: () => undefined,
    };
    this.terminal = vscode.window.createTerminal({ name: `follow: ${label}`, pty, iconPath: new vscode.ThemeIcon('output') });
    this.terminal.show();
  }

  start(stream: OutputSubscription): void {
    this.stream = stream;
    if (this.closed) void stream.stop();
  }

  write(text: string): void {
    this.received += text.length;
    this.pending += text;
    if (this.pending.length > PENDING_LIMIT_CHARS) {
      const cut = this.pending.length - PENDING_LIMIT_CHARS / 2;
      this.skipped += cut;
      this.pending = `${DIM}… ${Math.round(cut / 1024)} KB skipped: the pane printed faster than this view could show …${RESET}\r\n` + this.pending.slice(cut);
    }
    this.maxPending = Math.max(this.maxPending, this.pending.length);
    if (this.opened && !this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  streamEnded(end: PaneOutputEnd): void {
    const why: Record<PaneOutputEnd['kind'], string | undefined> = {
      stopped: undefined,
      paneExited: "The pane's program exited.",
      paneGone: 'The pane is gone (closed, or its tmux server stopped).',
      pipeClosed: 'Another pipe-pane closed or replaced this view\u2019s pipe; following stopped.',
      error: end.kind === 'error' ? `Following stopped: ${end.error.message}` : undefined,
    };
    const message = why[end.kind];
    if (message) this.write(`\r\n${DIM}── ${message} ──${RESET}\r\n`);
    this.onEnd(end);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.pending) return;
    const text = this.pending.slice(0, FLUSH_LIMIT_CHARS);
    this.pending = this.pending.slice(text.length);
    this.tail = (this.tail + text).slice(-TAIL_CHARS);
    this.writeEmitter.fire(text);
    if (this.pending) this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Stops the stream (the terminal was closed, or the extension is going away). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.pending = '';
    await this.stream?.stop();
  }

  dispose(): void {
    void this.close();
    this.terminal.dispose();
    this.writeEmitter.dispose();
  }
}

/** "Follow Pane Output": the clicked pane, the active pane of a clicked window or session, or a pick. */
export async function followPane(ctx: ExtensionContextServices, followers: PaneFollowers, node?: unknown): Promise<PaneFollower> {
  const service = ctx.service();
  const pane = await targetPane(service, node, 'Follow the output of which pane?');
  return followers.follow(ctx, pane, paneLabel(ctx, pane));
}

/** `session:window.pane program`, as tmux users name a pane. */
export function paneLabel(ctx: ExtensionContextServices, pane: Pane): string {
  const session = ctx.service().tree.sessions.find((s) => s.id === pane.sessionId);
  const window = session?.windows.find((w) => w.id === pane.windowId);
  return `${session?.name ?? pane.sessionId}:${window?.index ?? '?'}.${pane.index} ${pane.currentCommand}`;
}
