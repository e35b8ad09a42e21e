import { Disposable } from '../../tmux/emitter';
import { LimitActionOptions, LimitBreach, LimitSpec, LimitWatcher, performLimitAction } from './limits';
import { MetricsSampler } from './sampler';

export interface EnforcerOptions extends LimitActionOptions {
  /** Called once per breach, before its action: the place to log and notify. */
  readonly onBreach: (breach: LimitBreach) => void;
  /** An action that failed (the pane closed meanwhile, tmux gone). */
  readonly onActionError?: (breach: LimitBreach, error: unknown) => void;
}

/**
 * Holds limits against a sampler: while there is at least one limit it keeps sampling on (limits
 * must be watched even when nobody looks), checks every sample, and runs each breach's action.
 */
export class LimitEnforcer implements Disposable {
  private watcher: LimitWatcher;
  private demand: Disposable | undefined;
  private readonly subscription: Disposable;
  /** Actions started and not yet finished (tests wait on them). */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly sampler: MetricsSampler,
    specs: readonly LimitSpec[],
    private readonly options: EnforcerOptions,
  ) {
    this.watcher = new LimitWatcher(specs);
    this.subscription = sampler.onDidSample((sample) => {
      for (const breach of this.watcher.check(sample)) this.fire(breach);
    });
    this.updateDemand();
  }

  get specs(): readonly LimitSpec[] {
    return this.watcher.specs;
  }

  /** New limits start with no episode in progress. */
  setSpecs(specs: readonly LimitSpec[]): void {
    this.watcher = new LimitWatcher(specs);
    this.updateDemand();
  }

  /** Resolves when every action started so far has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private fire(breach: LimitBreach): void {
    this.options.onBreach(breach);
    const action = performLimitAction(breach, this.options)
      .catch((error: unknown) => this.options.onActionError?.(breach, error))
      .finally(() => this.running.delete(action));
    this.running.add(action);
  }

  private updateDemand(): void {
    if (this.watcher.specs.length > 0) this.demand ??= this.sampler.demand('limits');
    else {
      this.demand?.dispose();
      this.demand = undefined;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.demand?.dispose();
    this.demand = undefined;
  }
}
