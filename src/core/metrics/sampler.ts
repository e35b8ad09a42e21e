import { Disposable, Emitter } from '../../tmux/emitter';
import { Tree } from '../../tmux/model';
import { MetricsSample, sampleOnce, SampleOptions } from './sample';

export interface SamplerOptions {
  /** Seconds between samples; 0 turns sampling off whatever the demand. */
  readonly intervalSeconds: number;
  readonly sampleOptions?: SampleOptions;
  /** A sample that failed (ps missing, /proc unreadable): reported, and the next one is tried anyway. */
  readonly onError?: (error: unknown) => void;
  /** How to take one sample; tests and the bench may wrap it. */
  readonly sample?: (tree: Tree, previous: MetricsSample | undefined, options?: SampleOptions) => Promise<MetricsSample>;
}

/**
 * Samples every pane's processes at an interval, but only while someone wants the numbers: each
 * reason (the Sessions view visible, the metrics table open, limits configured) holds a demand, and
 * with none held no timer runs and nothing is read. Stopping forgets the last sample, so the first
 * one after a pause shows no CPU% rather than an average over the time nobody looked.
 */
export class MetricsSampler implements Disposable {
  private readonly sampleEmitter = new Emitter<MetricsSample>();
  /** Fires after each sample, with the panes of the tree at that moment. */
  readonly onDidSample = this.sampleEmitter.event;
  /** Samples taken since this sampler was made (tests and the health report read it). */
  samples = 0;
  private readonly demands = new Map<number, string>();
  private nextDemand = 0;
  private intervalSeconds: number;
  private timer: NodeJS.Timeout | undefined;
  /** The first sample of a run, taken on the next turn: a demand is often made while activating. */
  private firstSample: NodeJS.Timeout | undefined;
  private inFlight = false;
  private disposed = false;
  private last: MetricsSample | undefined;

  constructor(
    private readonly tree: () => Tree,
    private readonly options: SamplerOptions,
  ) {
    this.intervalSeconds = validInterval(options.intervalSeconds);
  }

  /** The newest sample, while sampling runs. */
  get latest(): MetricsSample | undefined {
    return this.last;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Why sampling runs now (for the health report and the log); empty when it does not. */
  get reasons(): string[] {
    return [...new Set(this.demands.values())];
  }

  /** Holds sampling on for `reason` until the returned disposable is disposed. */
  demand(reason: string): Disposable {
    const key = this.nextDemand++;
    this.demands.set(key, reason);
    this.update();
    return {
      dispose: () => {
        if (this.demands.delete(key)) this.update();
      },
    };
  }

  setInterval(seconds: number): void {
    const next = validInterval(seconds);
    if (next === this.intervalSeconds) return;
    this.intervalSeconds = next;
    this.stop();
    this.update();
  }

  /** Takes a sample now (outside the schedule), e.g. when the table opens. */
  async sampleNow(): Promise<MetricsSample | undefined> {
    if (this.inFlight || this.disposed) return this.last;
    // No pane, nothing to show: the scan of every process would be for nothing (no server yet).
    if (this.tree().sessions.length === 0) return this.last;
    this.inFlight = true;
    try {
      const sample = await (this.options.sample ?? sampleOnce)(this.tree(), this.last, this.options.sampleOptions);
      this.samples++;
      // Demand may have ended while the sample ran: keep nothing then, so the next start is fresh.
      if (this.disposed || !this.running) return sample;
      this.last = sample;
      this.sampleEmitter.fire(sample);
      return sample;
    } catch (error) {
      this.options.onError?.(error);
      return undefined;
    } finally {
      this.inFlight = false;
    }
  }

  private update(): void {
    const wanted = !this.disposed && this.demands.size > 0 && this.intervalSeconds > 0;
    if (wanted && !this.timer) {
      this.timer = setInterval(() => void this.sampleNow(), this.intervalSeconds * 1000);
      this.firstSample = setTimeout(() => void this.sampleNow(), 0);
    } else if (!wanted) {
      this.stop();
    }
  }

  private stop(): void {
    clearTimeout(this.firstSample);
    this.firstSample = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.demands.clear();
    this.stop();
    this.sampleEmitter.dispose();
  }
}

/** Non-numbers and negatives from a hand-edited settings file mean the default; tiny ones are raised to 0.25 s. */
function validInterval(seconds: number): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return 2;
  return seconds === 0 ? 0 : Math.max(0.25, seconds);
}
