import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Runner } from '../../tmux/commands';
import { InvalidInputError, TargetNotFoundError } from '../../tmux/errors';
import { PaneId } from '../../tmux/model';
import { escapeFormat } from '../../tmux/quote';
import { ServerAddress } from '../../tmux/server';
import { OutputOpener, OutputSubscription } from '../output/outputHub';
import { openPaneOutput, PaneExitedError } from '../output/paneOutput';
import { InputBoxReader, Screen, screenFromCapture } from './inputBox';

/**
 * Sending a prompt to a coding agent's terminal UI so that it arrives: pasted whole, submitted
 * once, and confirmed, or a failure that says why.
 *
 * How: the text goes into a tmux paste buffer of its own (loaded from a file in a private folder,
 * since a command line over 16 KB is refused by tmux) and is pasted with `paste-buffer -p -r`:
 * bracketed when the program asked for it, and byte for byte (`-r`: tmux's default turns every
 * line feed into a carriage return). Enter is pressed only once the paste has settled: the pane
 * printed nothing for `settleMs` after the paste (Codex takes fast input for a paste and an Enter
 * within 120 ms of one for a line break). Then the send is confirmed by the agent's own receipt
 * (a UserPromptSubmit hook) where there is one, otherwise by the input box letting go of the
 * text; Enter is pressed again when the box still holds it.
 *
 * Line endings: the text arrives as given. CRLF stays CRLF and a trailing line break stays, inside
 * the paste, where a program that asked for bracketed paste takes them as text; the Enter that
 * submits is a separate key after the paste. (A program that did not ask for bracketed paste would
 * take each line break as Enter; agent CLIs all ask for it.)
 *
 * Sends to one pane take turns; sends to different panes run at the same time.
 */

export type SendStatus = 'submitted' | 'queued' | 'failed';

export type SendFailure =
  /** The input box held text we did not type: nothing was sent. */
  | 'foreignDraft'
  /** No input box of the reader's shape could be seen in time. */
  | 'noInputBox'
  /** The program took no notice of the paste, however often it was pasted. */
  | 'pasteIgnored'
  /** The text is in the input box, but Enter did not submit it. */
  | 'notSubmitted'
  /** Neither receipt nor input box could confirm the submit in time. */
  | 'unconfirmed'
  | 'paneGone'
  | 'cancelled';

export interface SendResult {
  readonly status: SendStatus;
  /** For `failed`: what went wrong. */
  readonly reason?: SendFailure;
  /** One sentence for the user: what happened, and for a failure what to do. */
  readonly message: string;
  /** What confirmed it. */
  readonly verifiedBy?: 'receipt' | 'inputBox';
  /** From this send's turn on the pane until the outcome. */
  readonly elapsedMs: number;
  readonly pastes: number;
  readonly enters: number;
}

/**
 * Tells when the agent itself reports the prompt submitted (a UserPromptSubmit hook), or queued.
 * Called before anything is pasted, so no report can come too early to be seen; the signal aborts
 * when the send is over.
 */
export type ReceiptCheck = (sent: { readonly text: string; readonly signal: AbortSignal }) => Promise<'submitted' | 'queued'>;

export interface SendPromptOptions {
  readonly run: Runner;
  readonly address: ServerAddress;
  readonly paneId: PaneId;
  readonly text: string;
  /** Reads the agent's input box off the screen; without it only a receipt can confirm. */
  readonly inputBox?: InputBoxReader;
  readonly receipt?: ReceiptCheck;
  /** Opens the pane's output (a PaneOutputHub's open, to share the pane's one pipe). */
  readonly open?: OutputOpener;
  /** Where the private folder for the text file is made; the system's temporary folder by default. */
  readonly tempRoot?: string;
  /** The whole send, from its turn on the pane; 3000 ms by default. */
  readonly timeoutMs?: number;
  /** How long the pane must print nothing after the paste before Enter; 150 ms by default. */
  readonly settleMs?: number;
  readonly signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_SETTLE_MS = 150;
/** How long Enter waits for the box to show the end of a long paste (a starved program still reading it). */
const TAIL_WAIT_CAP_MS = 1500;

/**
 * Whether the box shows the text's end: its last line with content, spaces ignored (readers join
 * and trim wrapped lines their own way). Only a wait depends on it; a reader that never shows the
 * end costs TAIL_WAIT_CAP_MS, nothing else.
 */
function showsEnd(draft: string, text: string): boolean {
  const squeeze = (value: string) => value.replace(/\s+/g, '');
  const lines = text.split(/\r?\n|\r/).filter((line) => line.trim() !== '');
  const last = squeeze(lines[lines.length - 1] ?? '').slice(-40);
  return last === '' || squeeze(draft).endsWith(last);
}

/** A program that keeps printing (a spinner) is never quiet: Enter goes this long after the paste. */
const SETTLE_CAP_MS = 600;
/** A program that printed nothing this long after a paste, with its box still empty, dropped it. */
const IGNORED_AFTER_MS = 450;
/** After Enter, the screen is read once it has been quiet this long, or this often while it is not. */
const VERIFY_QUIET_MS = 25;
const VERIFY_CAP_MS = 150;
/** The box still holds the text this long after Enter, with the screen quiet: press Enter again. */
const ENTER_AGAIN_AFTER_MS = 600;
const MAX_ENTERS = 3;
/** Without an input box reader: Enter again when no receipt came this long after Enter. */
const RECEIPT_ENTER_AGAIN_MS = 1000;
/** While waiting for the input box to appear, the screen is read again at least this often. */
const LOOK_AGAIN_MS = 150;

/** The send currently running (or last queued) on each pane, so that sends to one pane take turns. */
const turns = new Map<string, Promise<unknown>>();
let buffers = 0;

export function sendPrompt(options: SendPromptOptions): Promise<SendResult> {
  assertPrompt(options.text);
  if (!options.inputBox && !options.receipt) {
    throw new InvalidInputError('Sending a prompt needs a way to confirm it: an input box reader for the agent kind, or a receipt check.');
  }
  const key = `${options.address.socketPath ?? options.address.socketName ?? ''}\u0000${options.paneId}`;
  const before = turns.get(key) ?? Promise.resolve();
  const mine = before.then(
    () => new PromptSend(options).send(),
    () => new PromptSend(options).send(),
  );
  const settled = mine.then(
    () => undefined,
    () => undefined,
  );
  turns.set(key, settled);
  void settled.then(() => {
    if (turns.get(key) === settled) turns.delete(key);
  });
  return mine;
}

/** Refuses text that cannot arrive as written: empty, or with control characters that are keys, not text. */
export function assertPrompt(text: string): void {
  if (text.trim() === '') throw new InvalidInputError('The prompt is empty. Type something to send.');
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, '0');
    throw new InvalidInputError(
      `The prompt contains the control character U+00${code.toUpperCase()} at position ${control.index}, which a terminal takes as a key (Escape could end the paste early). Remove it; tabs and line breaks are fine.`,
    );
  }
}

class PromptSend {
  private readonly started = performance.now();
  private readonly deadline: number;
  private readonly settleMs: number;
  private readonly done = new AbortController();
  private output: PaneWatch | undefined;
  private pastes = 0;
  private enters = 0;

  constructor(private readonly options: SendPromptOptions) {
    this.deadline = this.started + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  }

  async send(): Promise<SendResult> {
    const { options } = this;
    const cancelled = (): void => this.done.abort();
    options.signal?.addEventListener('abort', cancelled, { once: true });
    try {
      const opening = PaneWatch.open(options.open ?? ((pane, listener) => openPaneOutput(options.run, options.address, pane, { ...listener, tempRoot: options.tempRoot })), options.paneId);
      // The first look at the screen goes to tmux right behind the command that opens the pipe
      // (often in the same tmux process), so nothing printed in between is missed.
      const firstLook = options.inputBox ? this.capture() : Promise.resolve(undefined);
      const [output, screen] = await Promise.allSettled([opening, firstLook]);
      // Kept even when the look failed, so that `finally` closes what was opened.
      if (output.status === 'fulfilled') this.output = output.value;
      if (output.status === 'rejected') throw output.reason;
      if (screen.status === 'rejected') throw screen.reason;
      return await this.deliver(screen.value);
    } catch (error) {
      if (error instanceof PaneExitedError || error instanceof TargetNotFoundError) return this.fail('paneGone', `Pane ${options.paneId} is gone or its program has exited; nothing was sent.`);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', cancelled);
      this.done.abort();
      await this.output?.stop();
    }
  }

  private async deliver(firstScreen: Screen | undefined): Promise<SendResult> {
    const { options } = this;
    const reader = options.inputBox;
    let busyBefore = false;
    let queuedBefore = 0;
    if (reader) {
      const ready = await this.waitForEmptyBox(reader, firstScreen);
      if ('status' in ready) return ready;
      busyBefore = reader.isBusy?.(ready.screen) ?? false;
      queuedBefore = this.countQueued(reader, ready.screen);
    }
    if (this.done.signal.aborted) return this.cancelledResult();

    // A receipt check that fails says nothing: the input box (if any) still decides.
    let receipt: Promise<'submitted' | 'queued'> | undefined;
    if (options.receipt) {
      const silent = new Promise<never>(() => undefined);
      receipt = options.receipt({ text: options.text, signal: this.done.signal }).catch(() => silent);
    }

    const landed = await this.pasteUntilLanded(reader);
    if (landed) return landed;

    const output = this.output!;
    let boxSeen = true;
    for (;;) {
      let seenChunks = output.chunks;
      await this.pressEnter();
      const enteredAt = performance.now();
      for (;;) {
        if (this.done.signal.aborted) return this.cancelledResult();
        if (output.gone) return this.fail('paneGone', `Pane ${options.paneId} closed while the prompt was being sent.`);
        const remaining = this.deadline - performance.now();
        if (remaining <= 0) {
          // One last look: the box may have let go while we waited for the screen to settle.
          if (!reader) return this.timedOut(reader, boxSeen);
          const screen = await this.capture();
          const last = reader.readDraft(screen);
          if (last === '') return this.succeed(this.countQueued(reader, screen) > queuedBefore || busyBefore ? 'queued' : 'submitted', 'inputBox');
          return this.timedOut(reader, last !== undefined);
        }
        // Look again once the screen has changed and gone quiet, or every VERIFY_CAP_MS.
        const look = (async () => {
          if (output.chunks === seenChunks) await output.changed(Math.min(VERIFY_CAP_MS, remaining));
          await output.quiet(VERIFY_QUIET_MS, Math.min(VERIFY_CAP_MS, remaining));
          return undefined;
        })();
        const seen = await (receipt ? Promise.race([receipt, look]) : look);
        if (seen) return this.succeed(seen, 'receipt');
        seenChunks = output.chunks;
        const since = performance.now() - enteredAt;
        if (!reader) {
          if (since >= RECEIPT_ENTER_AGAIN_MS && this.enters < MAX_ENTERS) break;
          continue;
        }
        const screen = await this.capture();
        const draft = reader.readDraft(screen);
        boxSeen = draft !== undefined;
        if (draft === '') {
          const queued = this.countQueued(reader, screen) > queuedBefore || busyBefore;
          if (!receipt || queued) return this.succeed(queued ? 'queued' : 'submitted', 'inputBox');
          // The box let go of the text; the receipt gets until the deadline to say so too.
          const confirmed = await Promise.race([receipt, delay(this.deadline - performance.now(), this.done.signal).then(() => undefined)]);
          return this.succeed(confirmed ?? 'submitted', confirmed ? 'receipt' : 'inputBox');
        }
        if (draft !== undefined && since >= ENTER_AGAIN_AFTER_MS && this.enters < MAX_ENTERS && (output.quietFor() >= this.settleMs || output.unavailable)) break;
      }
    }
  }

  /**
   * Waits until the input box can be read and is empty; a draft there that we did not type is
   * refused at once. Keys the reader asks for (a vim NORMAL mode) are pressed on the way.
   */
  private async waitForEmptyBox(reader: InputBoxReader, firstScreen: Screen | undefined): Promise<{ screen: Screen } | SendResult> {
    let keysPressed = 0;
    let next = firstScreen;
    for (;;) {
      const screen = next ?? (await this.capture());
      next = undefined;
      const draft = reader.readDraft(screen);
      if (draft !== undefined && draft !== '') {
        const preview = draft.length > 60 ? `${draft.slice(0, 57)}…` : draft;
        return this.fail(
          'foreignDraft',
          `The input box of pane ${this.options.paneId} already holds a draft that was not sent from here ("${preview.replace(/\n/g, '⏎')}"). Nothing was sent: submit or clear that draft first, then send again.`,
        );
      }
      if (draft === '') {
        const keys = reader.keysBeforeTyping?.(screen) ?? [];
        if (keys.length === 0) return { screen };
        if (keysPressed >= 2) return this.fail('noInputBox', `The ${reader.kind} input box in pane ${this.options.paneId} does not take typing (pressed ${keys.join(' ')} twice); nothing was sent.`);
        keysPressed++;
        const printed = this.output!.chunks;
        await this.options.run(['send-keys', '-t', this.options.paneId, '--', ...keys]);
        // Read the screen again only after it answered the keys: pressing `i` twice would type one.
        if (this.output!.chunks === printed) await this.output!.changed(Math.min(this.output!.unavailable ? 300 : 1000, Math.max(0, this.deadline - performance.now())));
        await this.output!.quiet(VERIFY_QUIET_MS, VERIFY_CAP_MS);
        continue;
      }
      const remaining = this.deadline - performance.now();
      if (remaining <= 0) {
        return this.fail('noInputBox', `No ${reader.kind} input box could be seen in pane ${this.options.paneId} within ${Math.round(this.elapsed())} ms (is the agent still starting, or showing a dialog?); nothing was sent.`);
      }
      if (this.done.signal.aborted) return this.cancelledResult();
      await this.output!.changed(Math.min(LOOK_AGAIN_MS, remaining));
    }
  }

  /** Pastes until the text shows in the input box; a result only when that failed. */
  private async pasteUntilLanded(reader: InputBoxReader | undefined): Promise<SendResult | undefined> {
    for (;;) {
      const output = this.output!;
      const printedBefore = output.chunks;
      const pastedAt = await this.paste();
      // Settled: nothing printed for settleMs since the paste (its redraw included), or a program
      // that never stops printing has had SETTLE_CAP_MS.
      await output.quiet(this.settleMs, SETTLE_CAP_MS, pastedAt);
      if (!reader) return undefined;
      let draft = reader.readDraft(await this.capture());
      let late = false;
      if (draft === '' && (output.chunks === printedBefore || output.unavailable)) {
        // Nothing printed yet (or we cannot see): give a slow program its time before calling the paste dropped.
        await output.changed(Math.max(0, pastedAt + IGNORED_AFTER_MS - performance.now()));
        if (output.chunks !== printedBefore || output.unavailable) {
          // It printed (a late echo of the paste, or it came ready and redrew): read it once that is over.
          await output.quiet(VERIFY_QUIET_MS, SETTLE_CAP_MS);
          draft = reader.readDraft(await this.capture());
          late = true;
        }
      }
      if (draft !== undefined && draft !== '') {
        // A paste that showed late gets its settling time from when it showed.
        if (late) await output.quiet(this.settleMs, SETTLE_CAP_MS);
        // The whole paste must be in before Enter: a program starved of CPU may still be reading
        // it, and an Enter it reads together with the paste's end counts as a line break (Codex's
        // rule), which would add one to the message. Its box shows the text's last line once in.
        const cap = performance.now() + TAIL_WAIT_CAP_MS;
        while (!showsEnd(draft, this.options.text) && performance.now() < cap && !this.done.signal.aborted) {
          await output.quiet(VERIFY_QUIET_MS, Math.max(0, Math.min(VERIFY_CAP_MS, cap - performance.now())));
          draft = reader.readDraft(await this.capture()) ?? draft;
          if (showsEnd(draft, this.options.text)) await output.quiet(this.settleMs, SETTLE_CAP_MS);
        }
        return undefined;
      }
      if (draft === undefined) {
        return this.fail('noInputBox', `The ${reader.kind} input box of pane ${this.options.paneId} went out of sight after the paste (a dialog?); the text may be in the pane. Look at it before sending again.`);
      }
      // Another paste needs its settling time and an Enter before the deadline.
      if (this.deadline - performance.now() < this.settleMs + VERIFY_CAP_MS) {
        return this.fail('pasteIgnored', `The program in pane ${this.options.paneId} ignored the paste ${this.pastes} times (still starting?); nothing was sent. Try again when it is ready.`);
      }
      if (this.done.signal.aborted) return this.cancelledResult();
    }
  }

  /** Loads the text into a buffer of its own through a private file, and pastes it. Resolves when tmux has pasted. */
  private async paste(): Promise<number> {
    const { run, paneId, tempRoot, text } = this.options;
    const name = `tsm-prompt-${process.pid}-${++buffers}-${randomBytes(4).toString('hex')}`;
    // mkdtemp makes the folder 0700: nobody else can read the prompt or swap the file.
    const folder = fs.mkdtempSync(path.join(tempRoot ?? os.tmpdir(), 'tsm-prompt-'));
    const file = path.join(folder, 'prompt.txt');
    let loaded = false;
    try {
      fs.writeFileSync(file, text, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
      this.pastes++;
      // Both asked for at once, so the runner can send them in one tmux process, in this order.
      // load-buffer expands its path as a format: a `#` in the temporary folder's path stays text.
      const load = run(['load-buffer', '-b', name, escapeFormat(file)]).then(() => (loaded = true));
      const pasted = run(['paste-buffer', '-p', '-r', '-d', '-b', name, '-t', paneId]);
      await Promise.all([load, pasted]);
      loaded = false;
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
      // A paste that failed after the load leaves the buffer: it holds the prompt, so it goes.
      if (loaded) await run(['delete-buffer', '-b', name]).catch(() => undefined);
    }
    return performance.now();
  }

  private async pressEnter(): Promise<void> {
    this.enters++;
    await this.options.run(['send-keys', '-t', this.options.paneId, 'Enter']);
  }

  private async capture(): Promise<Screen> {
    return screenFromCapture(await this.options.run(['capture-pane', '-p', '-e', '-t', this.options.paneId]));
  }

  /** How many queued messages on the screen begin like our text. */
  private countQueued(reader: InputBoxReader, screen: Screen): number {
    const previews = reader.queued?.(screen) ?? [];
    const ours = squeeze(this.options.text.split(/\r?\n/).find((line) => line.trim() !== '') ?? '');
    return previews.filter((preview) => {
      const shown = squeeze(preview).replace(/…$/, '');
      return shown.length > 0 && (ours.startsWith(shown) || shown.startsWith(ours));
    }).length;
  }

  private timedOut(reader: InputBoxReader | undefined, boxSeen: boolean): SendResult {
    if (reader && !boxSeen) {
      return this.fail(
        'unconfirmed',
        `After Enter the ${reader.kind} input box of pane ${this.options.paneId} went out of sight (a dialog?), so whether the prompt was submitted is not known. Look at the pane before sending again.`,
      );
    }
    if (reader) {
      return this.fail(
        'notSubmitted',
        `The prompt is in the input box of pane ${this.options.paneId}, but ${this.enters} Enter${this.enters === 1 ? '' : 's'} did not submit it within ${Math.round(this.elapsed())} ms. Look at the pane: submit it there, or clear it before sending again.`,
      );
    }
    return this.fail('unconfirmed', `The agent in pane ${this.options.paneId} did not confirm the prompt within ${Math.round(this.elapsed())} ms. Look at the pane before sending again.`);
  }

  private succeed(status: 'submitted' | 'queued', verifiedBy: 'receipt' | 'inputBox'): SendResult {
    const message = status === 'queued' ? `Queued in pane ${this.options.paneId}: the agent is busy and takes it next.` : `Submitted to pane ${this.options.paneId}.`;
    return { status, message, verifiedBy, elapsedMs: this.elapsed(), pastes: this.pastes, enters: this.enters };
  }

  private fail(reason: SendFailure, message: string): SendResult {
    return { status: 'failed', reason, message, elapsedMs: this.elapsed(), pastes: this.pastes, enters: this.enters };
  }

  private cancelledResult(): SendResult {
    return this.fail('cancelled', `Sending to pane ${this.options.paneId} was cancelled${this.pastes > 0 ? '; the text may be in its input box' : '; nothing was sent'}.`);
  }

  private elapsed(): number {
    return Math.round((performance.now() - this.started) * 10) / 10;
  }
}

/**
 * Follows a pane's output for one send: when it last printed, and when it prints next. A pane
 * whose output cannot be followed (its one pipe is taken by the user's own pipe-pane) still gets
 * sends, on timers alone.
 */
class PaneWatch {
  lastOutputAt = performance.now();
  /** Output chunks seen so far. */
  chunks = 0;
  gone = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private subscription: OutputSubscription | undefined,
    readonly unavailable: boolean,
  ) {}

  static async open(open: OutputOpener, paneId: PaneId): Promise<PaneWatch> {
    let watch: PaneWatch | undefined;
    const onText = (): void => {
      if (!watch) return;
      watch.lastOutputAt = performance.now();
      watch.chunks++;
      watch.wake();
    };
    const onEnd = (end: { kind: string }): void => {
      if (watch && (end.kind === 'paneExited' || end.kind === 'paneGone')) {
        watch.gone = true;
        watch.wake();
      }
    };
    try {
      watch = new PaneWatch(undefined, false);
      watch.subscription = await open(paneId, { onText, onEnd });
      return watch;
    } catch (error) {
      if (error instanceof PaneExitedError || error instanceof TargetNotFoundError) throw error;
      // Most likely PanePipeBusyError: the user's own pipe-pane. Timers stand in for the output.
      return new PaneWatch(undefined, true);
    }
  }

  quietFor(): number {
    return performance.now() - this.lastOutputAt;
  }

  /**
   * Resolves once the pane has printed nothing for `quietMs` (counted from `since` at the
   * earliest), or `capMs` after the call, whichever is first.
   */
  quiet(quietMs: number, capMs: number, since = 0): Promise<void> {
    const cap = performance.now() + capMs;
    return new Promise((resolve) => {
      const check = (): void => {
        const now = performance.now();
        const quietAt = Math.max(this.lastOutputAt, since) + quietMs;
        if (now >= quietAt || now >= cap || this.gone) return resolve();
        // One timer, moved on when it fires, rather than one per chunk of output.
        setTimeout(check, Math.min(quietAt, cap) - now);
      };
      check();
    });
  }

  /** Resolves on the pane's next output, or after `timeoutMs`. */
  changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  async stop(): Promise<void> {
    this.wake();
    await this.subscription?.stop();
  }
}

function squeeze(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
