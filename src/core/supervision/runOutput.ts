import { OutputOpener, OutputSubscription } from '../output/outputHub';
import { PlainTextDecoder, RecentText } from '../output/plainText';
import { MATCH_WINDOW_CHARS } from '../output/waitFor';
import { PaneId } from '../../tmux/model';
import { OutputWatcher, ProbeOutcome } from './probes';
import { UnitSpec } from './types';

interface Tap {
  readonly recent: RecentText;
  readonly decoder: PlainTextDecoder;
  readonly listeners: Set<() => void>;
  subscription: OutputSubscription | undefined;
  ended: boolean;
}

/**
 * What each unit with an output probe printed in its current run, from its first byte: the tmux
 * driver opens the reader in `beforeRun`, while the program still waits at its gate, so a line
 * printed at once is not missed (a reader opened after the start could miss it). Readers go
 * through the shared PaneOutputHub, since tmux gives a pane one pipe.
 */
export class RunOutputTaps {
  private readonly taps = new Map<string, Tap>();

  constructor(private readonly open: OutputOpener) {}

  /** For TmuxDriverOptions.beforeRun: opens the pane's reader when one of the unit's probes reads output. */
  readonly beforeRun = async (unit: UnitSpec, paneId: string): Promise<void> => {
    await this.close(paneId);
    if (unit.ready?.check.kind !== 'output' && unit.health?.check.kind !== 'output') return;
    const tap: Tap = { recent: new RecentText(MATCH_WINDOW_CHARS), decoder: new PlainTextDecoder(), listeners: new Set(), subscription: undefined, ended: false };
    this.taps.set(paneId, tap);
    const notify = (): void => tap.listeners.forEach((listener) => listener());
    tap.subscription = await this.open(paneId as PaneId, {
      onText: (text) => {
        tap.recent.append(tap.decoder.push(text));
        notify();
      },
      onEnd: () => {
        tap.recent.append(tap.decoder.flush());
        tap.ended = true;
        notify();
      },
    });
  };

  /** For realProbes: waits for the pattern in the run's output so far and from now on. */
  readonly watcher: OutputWatcher = (handle, regex, timeoutMs, signal) => {
    const tap = this.taps.get(handle);
    if (!tap) return Promise.resolve({ ok: false, message: `the output of pane ${handle} is not being read (it was started before this window watched it)` });
    return new Promise<ProbeOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: ProbeOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        tap.listeners.delete(look);
        signal.removeEventListener('abort', aborted);
        resolve(outcome);
      };
      const last = (): string => {
        const line = tap.recent.lastLines(1)[0];
        return line ? ` (last line: ${JSON.stringify(line)})` : '';
      };
      const look = (): void => {
        const match = regex.exec(tap.recent.toString());
        if (match) finish({ ok: true, message: `printed ${JSON.stringify(match[0])}` });
        else if (tap.ended) finish({ ok: false, message: `the program exited before printing a match for /${regex.source}/${last()}` });
      };
      const aborted = (): void => finish({ ok: false, message: `stopped waiting for /${regex.source}/` });
      const timer = setTimeout(() => finish({ ok: false, message: `nothing printed matched /${regex.source}/ within ${timeoutMs} ms${last()}` }), timeoutMs);
      tap.listeners.add(look);
      signal.addEventListener('abort', aborted, { once: true });
      look();
    });
  };

  /** The run in this pane ended or its output is no longer needed. */
  async close(paneId: string): Promise<void> {
    const tap = this.taps.get(paneId);
    if (!tap) return;
    this.taps.delete(paneId);
    await tap.subscription?.stop().catch(() => undefined);
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.taps.keys()].map((paneId) => this.close(paneId)));
  }
}
