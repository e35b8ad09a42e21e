import { Runner } from '../../tmux/commands';
import { PaneId } from '../../tmux/model';
import { ServerAddress } from '../../tmux/server';
import { openPaneOutput, PaneOutputEnd, PaneOutputOptions, PaneOutputStream } from './paneOutput';

/** What a reader of a pane's output gets: text as it arrives, and the end once. */
export interface OutputListener {
  readonly onText: (text: string) => void;
  readonly onEnd?: (end: PaneOutputEnd) => void;
}

/** One reader's share of a pane's output; stop() ends this share only. */
export interface OutputSubscription {
  stop(): Promise<void>;
}

/** Opens a pane's output for one reader: openPaneOutput itself, or a PaneOutputHub's open. */
export type OutputOpener = (paneId: PaneId, listener: OutputListener) => Promise<OutputSubscription>;

interface Shared {
  readonly listeners: Set<OutputListener>;
  readonly stream: Promise<PaneOutputStream>;
}

/**
 * Lets any number of readers in this process follow the same pane: tmux gives a pane one
 * pipe-pane at a time, so a Follow view and a Wait for Output (or a readiness probe) on the same
 * pane share one stream here. The pipe opens with the first reader and closes after the last.
 *
 * A reader that joins a stream already open gets what is read from then on; output the pane
 * printed just before, still on its way through the pipe, can reach it too (a few milliseconds'
 * worth), where a reader that opens the pipe sees nothing printed before the call.
 */
export class PaneOutputHub {
  private readonly shared = new Map<PaneId, Shared>();
  /** A pipe being closed: a new reader waits for it, or tmux would call the pane's pipe busy. */
  private readonly closing = new Map<PaneId, Promise<void>>();

  constructor(
    private readonly run: Runner,
    private readonly address: ServerAddress,
    private readonly options: Pick<PaneOutputOptions, 'tempRoot' | 'deadCheckMs' | 'connectTimeoutMs'> = {},
  ) {}

  /** Has the same contract as openPaneOutput, for one reader. */
  readonly open: OutputOpener = async (paneId, listener) => {
    const closing = this.closing.get(paneId);
    if (closing) await closing;
    let entry = this.shared.get(paneId);
    if (!entry) {
      const listeners = new Set<OutputListener>();
      const stream = openPaneOutput(this.run, this.address, paneId, {
        ...this.options,
        onText: (text) => listeners.forEach((reader) => reader.onText(text)),
        onEnd: (end) => {
          if (this.shared.get(paneId)?.listeners === listeners) this.shared.delete(paneId);
          const readers = [...listeners];
          listeners.clear();
          readers.forEach((reader) => reader.onEnd?.(end));
        },
      });
      entry = { listeners, stream };
      this.shared.set(paneId, entry);
      stream.catch(() => {
        if (this.shared.get(paneId) === entry) this.shared.delete(paneId);
      });
    }
    entry.listeners.add(listener);
    const current = entry;
    try {
      await current.stream;
    } catch (error) {
      current.listeners.delete(listener);
      throw error;
    }
    let stopped = false;
    return {
      stop: async () => {
        if (stopped || !current.listeners.has(listener)) return;
        stopped = true;
        current.listeners.delete(listener);
        listener.onEnd?.({ kind: 'stopped' });
        if (current.listeners.size > 0 || this.shared.get(paneId) !== current) return;
        this.shared.delete(paneId);
        const closed = current.stream.then((stream) => stream.stop()).finally(() => {
          if (this.closing.get(paneId) === closed) this.closing.delete(paneId);
        });
        this.closing.set(paneId, closed);
        await closed;
      },
    };
  };

  /** Panes with an open stream, and how many readers each has: for tests and the health report. */
  get readers(): ReadonlyMap<PaneId, number> {
    return new Map([...this.shared].map(([pane, entry]) => [pane, entry.listeners.size]));
  }

  /** Ends every stream (the extension is going away). */
  async dispose(): Promise<void> {
    const entries = [...this.shared.values()];
    this.shared.clear();
    await Promise.all(entries.map((entry) => entry.stream.then((stream) => stream.stop(), () => undefined)));
    await Promise.all([...this.closing.values()]);
  }
}
