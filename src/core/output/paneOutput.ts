import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Runner } from '../../tmux/commands';
import { InvalidInputError, NoServerError, TmuxCommandError, TmuxError } from '../../tmux/errors';
import { PaneId } from '../../tmux/model';
import { commandLine, escapeFormat } from '../../tmux/quote';
import { describeServer, ServerAddress } from '../../tmux/server';

/**
 * The new output of one pane, in any session, attached or not, as it arrives.
 *
 * Without a control-mode client (on tmux through 3.7c one can crash the server, see service.ts)
 * tmux has exactly one way to hand out a pane's output: `pipe-pane`, which forks `sh -c COMMAND`
 * with a socket as its standard input and copies everything the pane prints into it from then on
 * (cmd-pipe-pane.c). Our command copies that socket into a FIFO that we read.
 *
 * Why a FIFO and not `cat >> file` tailed: nothing grows on disk, and what is in flight is bounded
 * by the kernel's pipe buffer; end of file on the FIFO also tells us at once, without polling, that
 * the writer is gone (the pipe was closed, or the pane was destroyed).
 *
 * Backpressure: tmux writes to its end with a non-blocking bufferevent, so a slow or stopped reader
 * never blocks the server; what we have not read yet piles up in tmux's memory instead. We therefore
 * read without pause (a listener must not block the event loop), and stopping closes tmux's end
 * first, which frees that buffer.
 */

export type PaneOutputEnd =
  /** stop() was called. */
  | { readonly kind: 'stopped' }
  /** The pane's program exited and the pane stays, dead (remain-on-exit). */
  | { readonly kind: 'paneExited' }
  /** The pane, or its whole server, is gone: its program exited, or it was killed. */
  | { readonly kind: 'paneGone' }
  /** Someone else closed our pipe, or replaced it with theirs (`pipe-pane` on the same pane). */
  | { readonly kind: 'pipeClosed' }
  | { readonly kind: 'error'; readonly error: Error };

export interface PaneOutputOptions {
  /** Gets the pane's output as decoded UTF-8, chunk by chunk, escape sequences included. */
  readonly onText: (text: string) => void;
  /** Called once, when the stream has ended and everything it used is released. */
  readonly onEnd?: (end: PaneOutputEnd) => void;
  /** Where the private folder for the FIFO is made; the system's temporary folder by default. */
  readonly tempRoot?: string;
  /**
   * How often to look whether a pane kept after its exit (remain-on-exit) has died; see
   * watchRemainOnExit for why this is the one case that looks instead of being told.
   */
  readonly deadCheckMs?: number;
  /** How long the FIFO's writer, started by tmux, gets to connect before we give up. */
  readonly connectTimeoutMs?: number;
}

/** The pane already has a pipe (tmux allows one per pane), most likely the user's own logging. */
export class PanePipeBusyError extends Error {
  constructor(readonly paneId: string) {
    super(
      `Pane ${paneId} already has a pipe-pane running (tmux allows only one per pane), probably your own logging. ` +
        `Its output cannot be followed while that pipe is open; close it with "tmux pipe-pane -t ${paneId}" first.`,
    );
    this.name = 'PanePipeBusyError';
  }
}

/** The pane's program has already exited (the pane is kept dead by remain-on-exit). */
export class PaneExitedError extends Error {
  constructor(readonly paneId: string) {
    super(`The program in pane ${paneId} has already exited: a dead pane prints nothing more.`);
    this.name = 'PaneExitedError';
  }
}

/** tmux took the pipe, but the copying process it started never reached our FIFO. */
export class PaneOutputConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaneOutputConnectError';
  }
}

const DEFAULT_DEAD_CHECK_MS = 500;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** How long stop() waits for the writer to see its input closed and exit before it is signalled. */
const WRITER_EXIT_WAIT_MS = 2000;
/** The writer's first line, "PID REMAIN-ON-EXIT", is short. Anything longer is not our writer. */
const MAX_HEADER_BYTES = 64;

/**
 * Starts following `paneId`'s output. Resolves once our pipe is open and its writer connected;
 * everything the pane prints from the moment tmux runs our `pipe-pane` on is delivered, in order,
 * and nothing printed before.
 *
 * The command that opens the pipe is handed to `run` before this function returns its promise (the
 * work before it is synchronous: a folder, a script and one short `mkfifo` process, 3 to 5 ms
 * here), so a command the caller passes to the same `run`
 * afterwards, like the send-keys that starts what is to be watched, reaches tmux after it: the
 * service's run keeps the order of its commands.
 *
 * Throws PanePipeBusyError when the pane already has a pipe (we never replace one: the user's
 * logging would stop silently; `pipe-pane -o` is no way around it, since with a pipe open it closes
 * that pipe instead of opening ours), PaneExitedError for a dead pane, TargetNotFoundError for a
 * pane that does not exist, and InvalidInputError for something that is not a pane id.
 */
export function openPaneOutput(run: Runner, address: ServerAddress, paneId: PaneId, options: PaneOutputOptions): Promise<PaneOutputStream> {
  return PaneOutputStream.open(run, address, paneId, options);
}

/** One pane's output being followed. Made by openPaneOutput; end it with stop(). */
export class PaneOutputStream {
  /** Settles with how the stream ended, after everything it used is released. */
  readonly ended: Promise<PaneOutputEnd>;
  private settleEnded!: (end: PaneOutputEnd) => void;
  private socket: net.Socket | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  /** The writer's process id, from the first line it writes; until then, the bytes of that line. */
  private writerPid: number | undefined;
  /** The pane's remain-on-exit when the pipe opened, as tmux passed it to the writer. */
  private remainOnExit = 'off';
  private header = Buffer.alloc(0);
  private connected: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private eofSeen = false;
  /** Whether tmux took our pipe: only then is a pipe on the pane ours to close. */
  private pipeOpened = false;
  private readonly eof: Promise<void>;
  private markEof!: () => void;
  private deadCheck: NodeJS.Timeout | undefined;
  /** Set when open() hands the stream out: only then is its end reported. */
  private opened = false;
  /** Set once the stream is ending, by whatever ended it: no text is delivered after it. */
  private ending: Promise<void> | undefined;

  private constructor(
    private readonly run: Runner,
    private readonly address: ServerAddress,
    readonly paneId: PaneId,
    /** The private folder holding the FIFO and the writer's script; removed once the writer has the FIFO open. */
    readonly folder: string,
    private readonly options: PaneOutputOptions,
  ) {
    this.ended = new Promise((resolve) => (this.settleEnded = resolve));
    this.eof = new Promise((resolve) => (this.markEof = resolve));
  }

  /** See openPaneOutput. Synchronous up to the call of `run` that opens the pipe. */
  static async open(run: Runner, address: ServerAddress, paneId: PaneId, options: PaneOutputOptions): Promise<PaneOutputStream> {
    if (!/^%\d+$/.test(paneId)) throw new InvalidInputError(`${JSON.stringify(paneId)} is not a tmux pane id (those look like %12).`);
    // mkdtemp makes the folder 0700: no other user can reach the FIFO in it.
    const folder = fs.mkdtempSync(path.join(options.tempRoot ?? os.tmpdir(), 'tsm-'));
    const stream = new PaneOutputStream(run, address, paneId, folder, options);
    try {
      await stream.start();
    } catch (error) {
      await stream.abandon();
      throw error;
    }
    return stream;
  }

  /** Ends the stream: closes the pipe in tmux, waits for its writer to exit, removes the FIFO. Harmless twice. */
  stop(): Promise<void> {
    return this.finish(async () => {
      if (!this.eofSeen) await this.closePipe();
      return { kind: 'stopped' };
    });
  }

  private async start(): Promise<void> {
    const fifo = path.join(this.folder, 'output');
    const script = path.join(this.folder, 'w');
    // Synchronous, so that the pipe is asked for before open() returns (see openPaneOutput); Node
    // has no mkfifo of its own.
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' });
    fs.writeFileSync(script, writerScript(fifo), { mode: 0o600 });
    // O_NONBLOCK: a plain open of a FIFO waits for a writer (and Node's asynchronous open would do
    // that on one of libuv's four pool threads, stalling every file operation of the process).
    // Non-blocking, it returns at once, and net.Socket reads it through epoll/kqueue like a pipe.
    // With no writer yet there is no end of file either: the kernel reports a hang-up only after a
    // writer has come and gone.
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const socket = new net.Socket({ fd, readable: true, writable: false });
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.writerGone());
    socket.on('close', () => this.writerGone());
    socket.on('error', (error) => this.failed(error));
    const connected = new Promise<void>((resolve, reject) => (this.connected = { resolve, reject }));
    // Settled by the socket's events whether or not start() is still waiting for it.
    connected.catch(() => undefined);

    const answer = await this.run(openPipeArgs(this.paneId, script)).catch((error: unknown) => {
      throw error instanceof TmuxCommandError && /pane has exited/.test(error.stderr) ? new PaneExitedError(this.paneId) : error;
    });
    // The open prints nothing; a refusal prints whether the pane is dead (see openPipeArgs).
    if (answer.length > 0) throw answer[0] === '1' ? new PaneExitedError(this.paneId) : new PanePipeBusyError(this.paneId);
    this.pipeOpened = true;

    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new PaneOutputConnectError(
              `tmux (${describeServer(this.address)}) opened a pipe on ${this.paneId}, but its writer did not reach ${fifo} within ${timeoutMs} ms. ` +
                'Does the tmux server run on this machine, as this user, and see the same temporary folder?',
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([connected, timedOut]);
    } finally {
      clearTimeout(timer);
    }
    // The writer has the FIFO open: from here on nothing of ours needs to be on disk, so nothing is
    // left there even if this process dies.
    await fs.promises.rm(this.folder, { recursive: true, force: true });
    if (this.remainOnExit !== 'off') this.watchRemainOnExit();
    this.opened = true;
  }

  /** After a failed start: closes the pipe if it was ours (a refused open leaves the user's alone), releases the rest. */
  private async abandon(): Promise<void> {
    await this.finish(async () => {
      if (this.pipeOpened) await this.closePipe();
      return { kind: 'stopped' };
    });
  }

  private received(chunk: Buffer): void {
    if (this.writerPid === undefined) {
      chunk = this.readHeader(chunk);
      if (this.writerPid === undefined || chunk.length === 0) return;
    }
    if (this.ending) return;
    const text = this.decoder.decode(chunk, { stream: true });
    if (text.length > 0) this.deliver(text);
  }

  /** Takes the writer's "PID REMAIN-ON-EXIT\n" off the front of the stream; returns what follows it. */
  private readHeader(chunk: Buffer): Buffer {
    this.header = Buffer.concat([this.header, chunk]);
    const newline = this.header.indexOf(0x0a);
    if (newline < 0) {
      if (this.header.length > MAX_HEADER_BYTES) this.failed(new PaneOutputConnectError(`the writer of ${this.paneId}'s pipe did not start with its process id`));
      return Buffer.alloc(0);
    }
    const [pidText, remainOnExit = 'off'] = this.header.subarray(0, newline).toString('latin1').split(' ');
    const pid = Number(pidText);
    this.remainOnExit = remainOnExit;
    if (!/^\d+$/.test(pidText) || !Number.isSafeInteger(pid) || pid <= 0) {
      this.failed(new PaneOutputConnectError(`the writer of ${this.paneId}'s pipe did not start with its process id`));
      return Buffer.alloc(0);
    }
    this.writerPid = pid;
    const rest = this.header.subarray(newline + 1);
    this.header = Buffer.alloc(0);
    this.connected?.resolve();
    return rest;
  }

  private deliver(text: string): void {
    try {
      this.options.onText(text);
    } catch {
      // A listener's failure is its own: thrown from a socket event, it would take the whole
      // process down, and the stream can go on without it.
    }
  }

  /** End of file: whoever writes into the FIFO has exited. Find out why, then end. */
  private writerGone(): void {
    if (this.eofSeen) return;
    this.eofSeen = true;
    this.markEof();
    this.connected?.reject(new PaneOutputConnectError(`the writer of ${this.paneId}'s pipe exited before it connected`));
    const tail = this.decoder.decode();
    if (tail.length > 0 && !this.ending) this.deliver(tail);
    void this.finish(() => this.whyEnded());
  }

  private failed(error: Error): void {
    this.connected?.reject(error);
    void this.finish(async () => {
      if (!this.eofSeen) await this.closePipe();
      return { kind: 'error', error };
    });
  }

  private async whyEnded(): Promise<PaneOutputEnd> {
    try {
      const state = await this.paneState();
      if (state === 'gone') return { kind: 'paneGone' };
      if (state === 'dead') return { kind: 'paneExited' };
      return { kind: 'pipeClosed' };
    } catch (error) {
      return error instanceof NoServerError ? { kind: 'paneGone' } : { kind: 'error', error: error as Error };
    }
  }

  private async paneState(): Promise<'gone' | 'dead' | 'alive'> {
    // display-message does not fail for a pane that is not there (its target may be missing), it
    // prints empty formats: an empty id is how it says "gone".
    const [line = ''] = await this.run(['display-message', '-p', '-t', this.paneId, '#{pane_id} #{pane_dead}']);
    const [id, dead] = line.split(' ');
    if (id !== this.paneId) return 'gone';
    return dead === '1' ? 'dead' : 'alive';
  }

  /**
   * A pane kept after its program exits (remain-on-exit) keeps its pipe too: tmux closes a pipe only
   * when it destroys the pane (server-fn.c, server_destroy_pane), so our FIFO sees no end of file.
   * Of tmux's own ways to be told, the pane-died hook would have to be set on the pane, where it
   * would hide the global pane-died hooks (the service's among them) for that pane. So for such a
   * pane alone we look at `#{pane_dead}` every deadCheckMs.
   */
  private watchRemainOnExit(): void {
    const every = this.options.deadCheckMs ?? DEFAULT_DEAD_CHECK_MS;
    const check = async (): Promise<void> => {
      this.deadCheck = undefined;
      if (this.ending) return;
      let state: 'gone' | 'dead' | 'alive';
      try {
        state = await this.paneState();
      } catch (error) {
        state = error instanceof NoServerError ? 'gone' : 'alive';
      }
      if (this.ending) return;
      if (state === 'alive') {
        this.deadCheck = setTimeout(() => void check(), every);
        return;
      }
      // tmux refuses pipe-pane on a dead pane, even to close a pipe, so we end the writer ourselves.
      // At once: it copies whatever tmux gives it as soon as it comes, and tmux declares a pane dead
      // only once it has handed the pipe all of the pane's output (window_pane_destroy_ready), so by
      // the time our look has come back there is nothing left in the writer's hands.
      void this.finish(async () => {
        await this.endWriter(0);
        return { kind: state === 'gone' ? 'paneGone' : 'paneExited' };
      });
    };
    this.deadCheck = setTimeout(() => void check(), every);
  }

  /** Closes our pipe in tmux, then waits for the writer to drain what is left and exit. */
  private async closePipe(): Promise<void> {
    // A gone pane or server has closed the pipe itself; a dead pane refuses the command (see
    // watchRemainOnExit), and endWriter then ends the writer itself.
    await this.run(['pipe-pane', '-t', this.paneId]).catch((error: unknown) => {
      if (!(error instanceof TmuxError)) throw error;
    });
    await this.endWriter(WRITER_EXIT_WAIT_MS);
  }

  /**
   * Waits up to `graceMs` for end of file, which comes once the writer has exited, then signals it.
   * The process id is surely still the writer's while there is no end of file: the writer holds the
   * FIFO open, so it is alive and its id cannot have been reused.
   */
  private async endWriter(graceMs: number): Promise<void> {
    // A writer that never connected has nothing to wait for: once the folder is removed (finish) it
    // can no longer open the FIFO, and if it did just before, its first write fails once we close.
    if (this.eofSeen || this.writerPid === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = (ms: number) => new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const exited = graceMs > 0 && (await Promise.race([this.eof.then(() => true), timeout(graceMs)]));
    clearTimeout(timer);
    if (exited || this.eofSeen) return;
    try {
      process.kill(this.writerPid, 'SIGTERM');
    } catch {
      // Exited meanwhile.
    }
    await Promise.race([this.eof, timeout(WRITER_EXIT_WAIT_MS)]);
    clearTimeout(timer);
  }

  /** Ends the stream once, whoever asks first: runs `how`, releases the folder and the FIFO, reports. */
  private finish(how: () => Promise<PaneOutputEnd>): Promise<void> {
    if (this.ending) return this.ending;
    this.ending = (async () => {
      clearTimeout(this.deadCheck);
      let end: PaneOutputEnd;
      try {
        end = await how();
      } catch (error) {
        end = { kind: 'error', error: error as Error };
      }
      await fs.promises.rm(this.folder, { recursive: true, force: true }).catch(() => undefined);
      this.socket?.destroy();
      if (this.opened) {
        try {
          this.options.onEnd?.(end);
        } catch {
          // As for onText.
        }
      }
      this.settleEnded(end);
    })();
    return this.ending;
  }
}

/**
 * One command that opens our pipe only if the pane is alive and has none, decided inside tmux so
 * that nobody's pipe can be opened between the look and the open. It prints nothing when it opened
 * the pipe, and the pane's `pane_dead` (1 dead, 0 busy) when it did not. if-shell -F runs the chosen
 * branch at once, in the same command queue, and does not expand formats in it (tmux 3.2 and 3.3
 * alike). tmux expands pipe-pane's command, so the writer gets the pane's remain-on-exit as read at
 * that very moment, and passes it on in its first line.
 *
 * Kept short: the service's one-shot runner sends up to 64 queued commands as one tmux client
 * command, which tmux refuses as a whole past 16 KB (client.c, MAX_IMSGSIZE), so 64 of these and the
 * runner's markers must fit: about 160 bytes with the FIFO under /tmp, at most about 200. That is
 * why the writer's commands are in a script file and not here.
 */
function openPipeArgs(paneId: string, script: string): string[] {
  const refuse = commandLine(['display-message', '-p', '-t', paneId, '#{pane_dead}']);
  const open = commandLine(['pipe-pane', '-O', '-t', paneId, `r=#{remain-on-exit} . ${tmuxCommandText(shellQuote(script))}`]);
  return ['if-shell', '-F', '-t', paneId, '#{?pane_dead,1,#{pane_pipe}}', refuse, open];
}

/**
 * What the pipe's writer runs: tmux starts `sh -c COMMAND` (always /bin/sh, whatever the user's
 * shell) with the pane's output on its standard input, and our command has that shell read this
 * script, with `r` set to the pane's remain-on-exit. It opens the FIFO for writing without ever
 * waiting: first read-write, which never waits for a reader, so that the write-only open finds one
 * at once; then it drops the read end. (A plain write-only open waits for a reader, forever if ours
 * has just closed.) It says who it is and the remain-on-exit it was given, and becomes `cat`, which
 * copies the pane's output until tmux closes its end. If we have gone away, cat's next write fails,
 * it exits, and tmux closes the pipe.
 */
export function writerScript(fifo: string): string {
  const target = shellQuote(fifo);
  return [`exec 3<>${target} >${target} 3<&- || exit 1`, 'echo $$ "$r"', 'exec cat', ''].join('\n');
}

/** Single quotes for sh: everything inside is literal, and a `'` is closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * tmux expands pipe-pane's command as a format after running it through strftime
 * (format_expand_time), so a `%` or `#` in the temporary folder's path is escaped for both.
 */
function tmuxCommandText(command: string): string {
  return escapeFormat(command.replace(/%/g, '%%'));
}
