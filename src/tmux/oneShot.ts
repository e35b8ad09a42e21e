import { classifyFailure, NoServerError, TmuxError, TmuxNotInstalledError, TmuxTimeoutError } from './errors';
import { CommandObserver, runTmuxList } from './exec';
import { ServerAddress } from './server';

interface Queued {
  readonly argv: readonly string[];
  readonly resolve: (lines: string[]) => void;
  readonly reject: (error: Error) => void;
}

/** Commands sent together at most; a capture of 2,000 lines each keeps one process short. */
const MAX_BATCH = 64;
/**
 * Bytes of arguments sent together at most. A tmux client sends its whole command line in one
 * message, and the server refuses one over 16 KB ("command too long"); a command that long on
 * its own still goes, alone, and gets tmux's own answer.
 */
const MAX_BATCH_BYTES = 12 * 1024;
/** What the marker command after each command adds to the line. */
const MARKER_BYTES = 64;

/**
 * Runs tmux commands as short tmux processes, one process at a time, in the order asked: separate
 * processes would race, and a user's keys must arrive in the order they were sent. Commands asked
 * for while a process runs go together in the next one, as one command list with a marker line
 * after each, so a burst (a capture of every pane) costs a few processes, not one per command.
 *
 * tmux stops a command list at its first failing command: the commands before it have their
 * output, it gets its error, and the ones after it go again in the next process.
 */
export class OneShotQueue {
  private readonly queue: Queued[] = [];
  private running = false;
  /** Processes started, for the stats. */
  processes = 0;

  constructor(
    private readonly address: ServerAddress,
    private readonly observe?: CommandObserver,
  ) {}

  run(argv: readonly string[]): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      this.queue.push({ argv, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) await this.runBatch(this.queue.splice(0, this.nextBatchSize()));
    } finally {
      this.running = false;
    }
  }

  /** How many queued commands fit in one tmux process, by count and by bytes (at least one). */
  private nextBatchSize(): number {
    let bytes = 0;
    let count = 0;
    for (const item of this.queue) {
      const size = item.argv.reduce((total, arg) => total + Buffer.byteLength(arg) + 1, 0) + MARKER_BYTES;
      if (count > 0 && (count === MAX_BATCH || bytes + size > MAX_BATCH_BYTES)) break;
      bytes += size;
      count++;
    }
    return count;
  }

  private async runBatch(batch: Queued[]): Promise<void> {
    const marker = `tsm-end-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const list = batch.length === 1 ? [batch[0].argv] : batch.flatMap((item) => [item.argv, ['display-message', '-p', marker]]);
    this.processes++;
    let result;
    try {
      result = await runTmuxList(this.address, list, { timeoutMs: 10_000 + 250 * batch.length }, this.observe);
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
      return;
    }
    const lines = splitLines(result.stdout);
    if (batch.length === 1) {
      if (result.error) batch[0].reject(result.error);
      else batch[0].resolve(lines);
      return;
    }
    // Each marker closes one command's output.
    let done = 0;
    let start = 0;
    for (let i = 0; i < lines.length && done < batch.length; i++) {
      if (lines[i] !== marker) continue;
      batch[done++].resolve(lines.slice(start, i));
      start = i + 1;
    }
    if (!result.error) return;
    const failed = batch[done];
    const rest = batch.slice(done + 1);
    if (!failed) return;
    if (isWholeProcessFailure(result.error)) {
      for (const item of [failed, ...rest]) item.reject(result.error);
      return;
    }
    // The error is the failing command's own: it names that command, not the whole list.
    failed.reject(classifyFailure({ argv: failed.argv, exitCode: result.error.exitCode, stderr: result.error.stderr }));
    this.queue.unshift(...rest);
  }
}

/** Failures of the process rather than of one command: every command of the list shares them. */
function isWholeProcessFailure(error: TmuxError): boolean {
  return error instanceof NoServerError || error instanceof TmuxTimeoutError || error instanceof TmuxNotInstalledError;
}

export function splitLines(stdout: string): string[] {
  if (stdout === '') return [];
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
