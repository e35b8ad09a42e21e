import { ChildProcess, spawn } from 'node:child_process';
import { TextDecoder } from 'node:util';
import { Emitter } from './emitter';
import { classifyFailure, TmuxError, TmuxTimeoutError } from './errors';
import { Notification, parseNotification, unescapeOutput } from './notifications';
import { commandLine } from './quote';
import { ServerAddress, serverFlags, tmuxEnvironment } from './server';

/** The output of one command: its lines, without the `%begin`/`%end` guard lines. */
export type Reply = string[];

interface Pending {
  readonly argv: readonly string[];
  readonly blocks: number;
  readonly replies: Reply[];
  readonly resolve: (replies: Reply[]) => void;
  readonly reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
  /** Timed out: its reply will still arrive and must be consumed in order, then dropped. */
  abandoned: boolean;
  error?: TmuxError;
}

interface OpenBlock {
  readonly number: string;
  readonly ours: boolean;
  readonly lines: string[];
}

export interface ControlOptions {
  /** Session to attach to; tmux picks one when omitted. Never created: attach only. */
  readonly target?: string;
  /** Milliseconds a command may take before its promise rejects. */
  readonly commandTimeoutMs?: number;
  /** Client flags beyond `ignore-size`, for example `no-output` for a client that only waits. */
  readonly flags?: readonly string[];
  /** Sees every command line sent, for the log. */
  readonly onSend?: (line: string) => void;
}

export interface Closed {
  /** The `%exit` reason, the process's exit, or the protocol error that closed us. */
  readonly reason: string;
  /** True when we closed it ourselves. */
  readonly requested: boolean;
}

const NEWLINE = 0x0a;

/**
 * One control-mode client (`tmux -C`) over pipes. Commands are queued and their replies matched in
 * order; the `%begin` flags (1 for a command this client sent) tell our replies from blocks tmux
 * writes for itself. Anything else we cannot read means the stream is out of step: we close rather
 * than guess, and the owner reconnects.
 */
export class ControlClient {
  private readonly process: ChildProcess;
  private readonly queue: Pending[] = [];
  private block: OpenBlock | undefined;
  private pending = Buffer.alloc(0);
  private closedWith: Closed | undefined;
  private closeRequested = false;
  private readonly decoders = new Map<string, TextDecoder>();
  /** Settles {@link ready}'s wait for the attach; undefined once it has. */
  private attachSettled: ((error?: Error) => void) | undefined;

  private readonly notificationEmitter = new Emitter<Notification>();
  private readonly outputEmitter = new Emitter<{ paneId: string; text: string }>();
  private readonly closeEmitter = new Emitter<Closed>();
  /** Every notification except `%output`, which goes to {@link onOutput} already decoded. */
  readonly onNotification = this.notificationEmitter.event;
  /** Text a pane printed, decoded as UTF-8 per pane. Only for panes of the attached session. */
  readonly onOutput = this.outputEmitter.event;
  readonly onClose = this.closeEmitter.event;
  readonly ready: Promise<void>;

  constructor(readonly address: ServerAddress, private readonly options: ControlOptions = {}) {
    // -u: we read tmux's output as UTF-8 whatever the locale; without it, a client started with no
    // UTF-8 LANG (common for editors launched from a desktop or in containers) gets "_" for every
    // non-ASCII character in names and paths.
    // -f ignore-size: our client never shrinks or grows the user's windows (tmux 3.2+).
    const flags = ['ignore-size', ...(options.flags ?? [])].join(',');
    const args = [...serverFlags(address), '-u', '-C', 'attach-session', '-f', flags];
    if (options.target) args.push('-t', options.target);
    this.process = spawn(address.tmuxPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: tmuxEnvironment() });
    let stderr = '';
    this.process.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    this.process.stdout!.on('data', (chunk: Buffer) => this.receive(chunk));
    this.process.stdin!.on('error', () => {
      // The process is gone; its exit handler reports why.
    });
    this.process.on('error', (error) => this.finish(String(error.message)));
    this.process.on('exit', (code, signal) => {
      this.finish(stderr.trim() || (signal ? `tmux ended by ${signal}` : `tmux exited with code ${code}`));
    });
    // Ready means attached. tmux reads our stdin apart from the attach command it got on the
    // socket, and may run lines we send first before the attach: a first command then answers
    // for a client with no session, and a `wait-for` sent next (the change listener's) would hold
    // the attach behind it in the client's queue indefinitely. tmux tells a control client it
    // is attached with %session-changed; a first command after that proves the pipe works.
    const timeoutMs = options.commandTimeoutMs ?? 10_000;
    const attached = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TmuxTimeoutError(`tmux did not attach the control client within ${timeoutMs} ms`, { argv: args, stderr: '' })), timeoutMs);
      this.attachSettled = (error) => {
        clearTimeout(timer);
        this.attachSettled = undefined;
        if (error) reject(error);
        else resolve();
      };
    });
    this.ready = attached.then(() => this.command(['display-message', '-p', 'ready'])).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  get closed(): Closed | undefined {
    return this.closedWith;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /**
   * Runs one command; resolves with its output lines or rejects with a typed error. `timeoutMs`
   * 0 waits for ever (for `wait-for`, which blocks until a signal by design).
   */
  async command(argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<Reply> {
    const [reply] = await this.send(commandLine(argv), 1, argv, options.timeoutMs);
    return reply;
  }

  /**
   * Sends several commands on one line. tmux parses a line into one command list and runs it
   * without letting other clients' commands in between, which is what makes a snapshot atomic;
   * each command still answers with its own block.
   */
  async commands(list: readonly (readonly string[])[]): Promise<Reply[]> {
    const line = list.map((argv) => commandLine(argv)).join(' ; ');
    return this.send(line, list.length, list.flat());
  }

  private send(line: string, blocks: number, argv: readonly string[], timeoutMs = this.options.commandTimeoutMs ?? 10_000): Promise<Reply[]> {
    if (this.closedWith) {
      return Promise.reject(classifyFailure({ argv, stderr: `control connection closed: ${this.closedWith.reason}` }));
    }
    if (line.includes('\n')) throw new Error('a control-mode command must be one line');
    return new Promise<Reply[]>((resolve, reject) => {
      const pending: Pending = { argv, blocks, replies: [], resolve, reject, abandoned: false };
      if (timeoutMs > 0) {
        pending.timer = setTimeout(() => {
          pending.abandoned = true;
          reject(new TmuxTimeoutError(`tmux did not answer "${line.slice(0, 200)}" within ${timeoutMs} ms`, { argv, stderr: '' }));
        }, timeoutMs);
      }
      this.queue.push(pending);
      this.options.onSend?.(line);
      this.process.stdin!.write(line + '\n');
    });
  }

  /** Detaches cleanly (an empty line ends a control client) and, failing that, kills the process. */
  close(): void {
    if (this.closedWith) return;
    this.closeRequested = true;
    try {
      this.process.stdin!.end('\n');
    } catch {
      // Already gone.
    }
    const killTimer = setTimeout(() => this.process.kill('SIGKILL'), 2000);
    killTimer.unref();
    this.process.once('exit', () => clearTimeout(killTimer));
  }

  private receive(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (let newline = data.indexOf(NEWLINE, start); newline >= 0; newline = data.indexOf(NEWLINE, start)) {
      this.line(data.subarray(start, newline));
      start = newline + 1;
      if (this.closedWith) return;
    }
    this.pending = Buffer.from(data.subarray(start));
    data = Buffer.alloc(0);
  }

  private line(bytes: Buffer): void {
    if (this.block) {
      const text = bytes.toString('utf8');
      if (isGuard(text, '%end', this.block.number) || isGuard(text, '%error', this.block.number)) {
        this.endBlock(text.startsWith('%error'));
      } else {
        this.block.lines.push(text);
      }
      return;
    }
    if (bytes[0] !== 0x25 /* % */) {
      this.protocolError(`unexpected line outside a reply: ${bytes.toString('utf8').slice(0, 200)}`);
      return;
    }
    if (startsWith(bytes, '%output ')) {
      this.output(bytes);
      return;
    }
    const text = bytes.toString('utf8');
    if (text.startsWith('%begin ')) {
      const [, , number, flags] = text.split(' ');
      this.block = { number, ours: (Number(flags) & 1) === 1, lines: [] };
      return;
    }
    const notification = parseNotification(text);
    if (notification.type === 'exit') {
      this.finish(notification.reason || 'tmux closed the control connection');
      return;
    }
    if (notification.type === 'session-changed') this.attachSettled?.();
    this.notificationEmitter.fire(notification);
  }

  private endBlock(failed: boolean): void {
    const block = this.block!;
    this.block = undefined;
    if (!block.ours) {
      // The only block of tmux's own that can fail is the attach: keep its reason.
      if (failed) this.attachSettled?.(classifyFailure({ argv: ['attach-session'], stderr: block.lines.join('\n') }));
      return;
    }
    const pending = this.queue[0];
    if (!pending) {
      this.protocolError('a reply arrived for no command');
      return;
    }
    if (failed && !pending.error) {
      pending.error = classifyFailure({ argv: pending.argv, stderr: block.lines.join('\n') });
    }
    pending.replies.push(block.lines);
    if (pending.replies.length < pending.blocks) return;
    this.queue.shift();
    clearTimeout(pending.timer);
    if (pending.abandoned) return;
    if (pending.error) pending.reject(pending.error);
    else pending.resolve(pending.replies);
  }

  private output(bytes: Buffer): void {
    const idEnd = bytes.indexOf(0x20, 8);
    if (idEnd < 0) {
      this.protocolError('malformed %output line');
      return;
    }
    const paneId = bytes.subarray(8, idEnd).toString('latin1');
    let decoder = this.decoders.get(paneId);
    if (!decoder) {
      decoder = new TextDecoder('utf-8');
      this.decoders.set(paneId, decoder);
    }
    const text = decoder.decode(unescapeOutput(bytes, idEnd + 1), { stream: true });
    if (text) this.outputEmitter.fire({ paneId, text });
  }

  private protocolError(reason: string): void {
    this.finish(`control-mode protocol error: ${reason}`);
    this.process.kill('SIGKILL');
  }

  private finish(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = { reason, requested: this.closeRequested };
    this.attachSettled?.(classifyFailure({ argv: ['attach-session'], stderr: reason }));
    for (const pending of this.queue.splice(0)) {
      clearTimeout(pending.timer);
      if (!pending.abandoned) pending.reject(classifyFailure({ argv: pending.argv, stderr: reason }));
    }
    if (this.process.exitCode === null && !this.process.killed) {
      this.process.stdin!.destroy();
    }
    this.closeEmitter.fire(this.closedWith);
    this.notificationEmitter.dispose();
    this.outputEmitter.dispose();
    this.closeEmitter.dispose();
  }
}

function isGuard(text: string, word: string, number: string): boolean {
  if (!text.startsWith(word + ' ')) return false;
  return text.split(' ')[2] === number;
}

function startsWith(bytes: Buffer, prefix: string): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix.charCodeAt(i)) return false;
  return true;
}
