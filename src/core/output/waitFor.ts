import { performance } from 'node:perf_hooks';
import { Runner } from '../../tmux/commands';
import { InvalidInputError, TargetNotFoundError } from '../../tmux/errors';
import { PaneId } from '../../tmux/model';
import { ServerAddress } from '../../tmux/server';
import { OutputOpener, OutputSubscription } from './outputHub';
import { openPaneOutput, PaneExitedError, PaneOutputEnd, PaneOutputOptions } from './paneOutput';
import { PlainTextDecoder, RecentText } from './plainText';

export interface WaitForOptions {
  /**
   * Resolves `matched` when this matches the pane's output since the call, as plain text (escape
   * sequences removed, `\r\n` as `\n`; use the `m` flag for `^` and `$` at line ends). The text is
   * what the pane prints, and a terminal prints what is typed into it: the echo of a command typed
   * after the call is output too, so a pattern meant for a command's result should not also match
   * the command line (`hi-42` for `echo hi-$((40+2))`).
   */
  readonly regex?: RegExp;
  /** Resolves `timeout` after this long, counted from the call. */
  readonly timeoutMs: number;
  /** Resolves `quiet` once the pane has printed nothing for this long (counted from the call on). */
  readonly quietMs?: number;
  /**
   * Wait for the pane's program to exit: resolves `exited` when the pane dies or is gone. A pane that
   * exits ends every wait as `exited`, since nothing more can appear; this says it is what you want.
   */
  readonly untilExit?: boolean;
  /** Resolves `cancelled` when it aborts. */
  readonly signal?: AbortSignal;
  /** Passed on to openPaneOutput (where the FIFO goes, how often a kept pane is looked at). */
  readonly output?: Pick<PaneOutputOptions, 'tempRoot' | 'deadCheckMs' | 'connectTimeoutMs'>;
  /**
   * Opens the output: a PaneOutputHub's open, to share the pane's one pipe with other readers of
   * this process (a Follow view, another wait). By default this wait opens a pipe of its own.
   */
  readonly open?: OutputOpener;
}

export type WaitOutcome = 'matched' | 'timeout' | 'quiet' | 'exited' | 'cancelled';

export interface WaitResult {
  readonly kind: WaitOutcome;
  /** For `matched`: the text the pattern matched. */
  readonly match?: string;
  /** The last lines of output seen since the call (at most LAST_LINES), as plain text. */
  readonly lastLines: string[];
  /** From the call until the outcome was known (stopping the stream comes after). */
  readonly elapsedMs: number;
}

/** The pane's pipe was closed or taken over by someone else while we waited: we cannot tell what it prints. */
export class OutputInterruptedError extends Error {
  constructor(readonly paneId: string) {
    super(`Stopped seeing the output of pane ${paneId}: another pipe-pane closed or replaced ours while waiting.`);
    this.name = 'OutputInterruptedError';
  }
}

/**
 * How much recent output a pattern is matched against. A match may be split over any number of
 * chunks, but not be longer than this; it keeps both memory and the cost of each test bounded.
 */
export const MATCH_WINDOW_CHARS = 64 * 1024;
export const LAST_LINES = 20;

type Settled = { readonly kind: WaitOutcome; readonly match?: string; readonly at: number } | { readonly error: Error };

/**
 * Waits until a pane's output, from the call on, matches `regex`, goes quiet, or its program exits,
 * or until `timeoutMs` or `signal`; whichever comes first. Output already on the screen never
 * matches: the stream is the first thing started, and the command that opens it is handed to `run`
 * before this returns, so keys the caller sends through the same `run` afterwards are seen (see
 * openPaneOutput). The stream is always stopped, also on failure, before the promise settles.
 *
 * A pane that is dead or gone at the call resolves `exited` at once: tmux cannot tell a pane whose
 * program has just exited from one that never was.
 */
export async function waitForOutput(run: Runner, address: ServerAddress, paneId: PaneId, options: WaitForOptions): Promise<WaitResult> {
  const started = performance.now();
  assertDuration('timeoutMs', options.timeoutMs);
  if (options.quietMs !== undefined) assertDuration('quietMs', options.quietMs);
  const recent = new RecentText(MATCH_WINDOW_CHARS);
  const plain = new PlainTextDecoder();
  const pattern = options.regex && withoutState(options.regex);
  const result = (kind: WaitOutcome, at: number, match?: string): WaitResult => ({
    kind,
    ...(match === undefined ? {} : { match }),
    lastLines: recent.lastLines(LAST_LINES),
    // A tenth of a millisecond: a match comes a few milliseconds after the print, whole ones would hide it.
    elapsedMs: Math.round((at - started) * 10) / 10,
  });
  if (options.signal?.aborted) return result('cancelled', started);

  let settled: Settled | undefined;
  let settle!: (outcome: Settled) => void;
  const outcome = new Promise<Settled>((resolve) => (settle = resolve));
  const finish = (how: { kind: WaitOutcome; match?: string } | { error: Error }): void => {
    if (settled) return;
    settled = 'error' in how ? how : { ...how, at: performance.now() };
    settle(settled);
  };

  let lastOutputAt = started;
  const take = (text: string): void => {
    if (settled || text === '') return;
    recent.append(text);
    if (!pattern) return;
    const found = pattern.exec(recent.toString());
    if (found) finish({ kind: 'matched', match: found[0] });
  };
  const onText = (text: string): void => {
    lastOutputAt = performance.now();
    take(plain.push(text));
  };
  const onEnd = (end: PaneOutputEnd): void => {
    take(plain.flush());
    if (end.kind === 'paneExited' || end.kind === 'paneGone') finish({ kind: 'exited' });
    else if (end.kind === 'pipeClosed') finish({ error: new OutputInterruptedError(paneId) });
    else if (end.kind === 'error') finish({ error: end.error });
  };

  const timeout = setTimeout(() => finish({ kind: 'timeout' }), options.timeoutMs);
  const aborted = (): void => finish({ kind: 'cancelled' });
  options.signal?.addEventListener('abort', aborted, { once: true });
  let quiet: NodeJS.Timeout | undefined;
  let stream: OutputSubscription | undefined;
  const open: OutputOpener = options.open ?? ((pane, listener) => openPaneOutput(run, address, pane, { ...options.output, ...listener }));
  try {
    try {
      stream = await open(paneId, { onText, onEnd });
    } catch (error) {
      if (error instanceof PaneExitedError || error instanceof TargetNotFoundError) finish({ kind: 'exited' });
      else finish({ error: error as Error });
    }
    if (stream && options.quietMs !== undefined && !settled) {
      const quietMs = options.quietMs;
      lastOutputAt = Math.max(lastOutputAt, performance.now());
      // One timer, moved on when it fires, rather than one cleared and set again for every chunk.
      const checkQuiet = (): void => {
        const idle = performance.now() - lastOutputAt;
        if (idle >= quietMs) finish({ kind: 'quiet' });
        else quiet = setTimeout(checkQuiet, quietMs - idle);
      };
      quiet = setTimeout(checkQuiet, quietMs);
    }
    const end = await outcome;
    if ('error' in end) throw end.error;
    return result(end.kind, end.at, end.match);
  } finally {
    clearTimeout(timeout);
    clearTimeout(quiet);
    options.signal?.removeEventListener('abort', aborted);
    await stream?.stop();
  }
}

function assertDuration(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new InvalidInputError(`${name} must be a number of milliseconds, 0 or more; got ${value}.`);
}

/** A copy without `g` and `y`, whose lastIndex would make each test start where the last one ended. */
function withoutState(regex: RegExp): RegExp {
  return regex.global || regex.sticky ? new RegExp(regex.source, regex.flags.replace(/[gy]/g, '')) : regex;
}
