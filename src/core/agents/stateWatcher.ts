import { ChildProcess, spawn } from 'node:child_process';
import { Disposable, Emitter } from '../../tmux/emitter';
import { runTmuxCommands } from '../../tmux/exec';
import { ServerAddress, serverFlags, tmuxEnvironment } from '../../tmux/server';
import { Clock, systemClock, TimerSlot } from '../supervision/clock';
import { Supervisor } from '../supervision/supervisor';
import { UnitEvent } from '../supervision/types';
import { AGENT_OPTION, AGENTS_CHANNEL, AGENTS_DIRTY_OPTION, EVENT_OPTION, parseEventRecord, SEQUENCE_OPTION } from './hooks';
import { AgentKind, compile } from './kinds';
import { activityAfter, AgentActivity, AgentState, agentState, expectsProgress, transitionKey } from './state';

export interface WatchedAgent {
  /** The supervisor unit's name. */
  readonly name: string;
  readonly kind: AgentKind;
}

/** When the screen is read, for what hooks cannot tell. */
export interface ScreenCheckPolicy {
  /** A run with no hook event yet: first look after this long (is it ready? a login screen?). */
  readonly startupMs: number;
  /** A run that says it works but has sent no event for this long: look once (interrupted? quota?). */
  readonly quietMs: number;
  /** Each look that found nothing doubles the wait, up to this. */
  readonly maxBackoffMs: number;
}

export const DEFAULT_SCREEN_CHECKS: ScreenCheckPolicy = { startupMs: 3000, quietMs: 15_000, maxBackoffMs: 300_000 };

export interface AgentStateEvent {
  readonly agent: string;
  readonly kind: string;
  readonly at: number;
  readonly previous: AgentState;
  readonly state: AgentState;
  /** The agent's pane, when it has one. */
  readonly pane: string | undefined;
}

export interface AgentWatcherOptions {
  readonly address: ServerAddress;
  readonly supervisor: Supervisor<AgentActivity>;
  readonly agents: readonly WatchedAgent[];
  readonly clock?: Clock;
  readonly screen?: Partial<ScreenCheckPolicy>;
}

/** What the watcher cost, for the bench and the health report. */
export interface AgentWatcherStats {
  /** Signals from the agents channel. */
  signals: number;
  /** Reads of every agent pane's event (one tmux process each). */
  reads: number;
  screenReads: number;
  /** Every tmux process started, the waiters included. */
  tmuxProcesses: number;
  /** Timers armed for screen checks. */
  timersArmed: number;
}

interface Watched {
  readonly name: string;
  readonly kind: AgentKind;
  readonly patterns: { ready?: RegExp; interrupted?: RegExp; blocked?: RegExp; crashed?: RegExp };
  activity: AgentActivity;
  /** The last sequence number applied; undefined until the first read. */
  seq: number | undefined;
  lastEventAt: number;
  state: AgentState;
  readonly screenTimer: TimerSlot;
  screenWaitMs: number;
  screenPurpose: 'startup' | 'quiet' | undefined;
}

/** The visible screen's last lines are what an interrupt or a limit message sits in. */
const SCREEN_TAIL_LINES = 12;

/**
 * Follows agents' states. Their hooks write events into their panes' user options and signal one
 * channel; a plain `tmux wait-for` process of ours waits on it, and each signal costs one tmux
 * process: the dirty flag reset and a `list-panes -a` of only the agents' panes (filtered by
 * AGENT_OPTION) with each one's sequence number and last event, in one command list. The state
 * lives in tmux, so a new watcher (a reloaded window) reads it back at once.
 *
 * Several windows share the channel: one signal wakes every waiter, and each starts its next
 * waiter before it reads. What one window cannot rule out: a second event in the few
 * milliseconds between its waiter ending and the next one starting, after another window's read
 * cleared the flag; that window then shows the event with the agent's next one.
 *
 * The screen is read only where hooks are blind, and never while hooks report: a run with no
 * hook event yet (after startupMs, then backing off), a run that says it works but has been
 * silent for quietMs (Claude Code fires no Stop on Esc; a quota screen stops everything), once
 * after a failed exit (a crash message), and on request (checkScreen).
 *
 * Every state goes to the supervisor as its unit's detail; while an agent waits for a person, its
 * no-progress timers rest (holdProgress), so only a working agent can stall or time out for lack
 * of progress. onDidChangeState fires once per change of the state shown.
 */
export class AgentWatcher implements Disposable {
  private readonly clock: Clock;
  private readonly policy: ScreenCheckPolicy;
  private readonly supervisor: Supervisor<AgentActivity>;
  private readonly agents = new Map<string, Watched>();
  /** Each agent's last pane: a unit that exited has no handle any more, but its dead pane stays. */
  private readonly lastPane = new Map<string, string>();
  private readonly stateEmitter = new Emitter<AgentStateEvent>();
  private readonly subscription: Disposable;
  private waiter: ChildProcess | undefined;
  private waiterRetry: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private disposed = false;

  readonly onDidChangeState = this.stateEmitter.event;
  private readonly unknownEmitter = new Emitter<string>();
  /** Panes already told of, so one that stays unknown is told once. */
  private readonly unknownPanes = new Set<string>();
  /** Fires once per agent pane (marked by an agent's launch) that no watched agent runs in: someone else started it. */
  readonly onDidSeeUnknownPane = this.unknownEmitter.event;
  readonly stats: AgentWatcherStats = { signals: 0, reads: 0, screenReads: 0, tmuxProcesses: 0, timersArmed: 0 };

  constructor(private readonly options: AgentWatcherOptions) {
    this.clock = options.clock ?? systemClock;
    this.policy = { ...DEFAULT_SCREEN_CHECKS, ...options.screen };
    this.supervisor = options.supervisor;
    for (const agent of options.agents) this.add(agent);
    this.subscription = this.supervisor.onDidChangeState((event) => this.unitChanged(event));
  }

  /** Follows one more agent (its unit must be in the supervisor already); its pane's last event is read with the next read. */
  add(agent: WatchedAgent): void {
    if (this.agents.has(agent.name)) return;
    const status = this.supervisor.status(agent.name);
    const activity: AgentActivity = status.detail ?? { kind: 'starting' };
    this.agents.set(agent.name, {
      name: agent.name,
      kind: agent.kind,
      patterns: {
        ready: compile(agent.kind.screen.ready),
        interrupted: compile(agent.kind.screen.interrupted),
        blocked: compile(agent.kind.screen.blocked),
        crashed: compile(agent.kind.screen.crashed),
      },
      activity,
      seq: undefined,
      lastEventAt: this.clock.now(),
      state: agentState(status.state, activity),
      screenTimer: new TimerSlot(this.clock),
      screenWaitMs: this.policy.startupMs,
      screenPurpose: undefined,
    });
  }

  /** Stops following an agent (finished, or its session is gone). */
  remove(name: string): void {
    const agent = this.agents.get(name);
    if (!agent) return;
    agent.screenTimer.clear();
    this.agents.delete(name);
    this.lastPane.delete(name);
  }

  has(name: string): boolean {
    return this.agents.has(name);
  }

  /** Starts waiting for hook events, and reads what is there already (after a reload: every agent's state). */
  async start(): Promise<void> {
    this.startWaiter();
    await this.read();
  }

  state(name: string): AgentState {
    return this.agent(name).state;
  }

  states(): { name: string; kind: string; state: AgentState }[] {
    return [...this.agents.values()].map((agent) => ({ name: agent.name, kind: agent.kind.name, state: agent.state }));
  }

  /**
   * Reads every agent pane's last event. Reads coalesce: one in flight, and one more after it for
   * whatever arrived meanwhile.
   */
  read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.readAgain = false;
          await this.readOnce();
        } while (this.readAgain && !this.disposed);
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  /**
   * The agent's screen, looked at now against its kind's patterns (after sending it an interrupt,
   * say). Returns what it found.
   */
  async checkScreen(name: string): Promise<'ready' | 'interrupted' | 'blocked' | 'nothing'> {
    return this.lookAtScreen(this.agent(name), 'request');
  }

  /**
   * Something outside the hooks knows better (a prompt confirmed submitted to an agent whose kind
   * has no hooks): takes it as the agent's activity.
   */
  noteActivity(name: string, activity: AgentActivity): void {
    const agent = this.agent(name);
    agent.lastEventAt = this.clock.now();
    this.apply(agent, activity);
  }

  dispose(): void {
    this.disposed = true;
    this.subscription.dispose();
    for (const agent of this.agents.values()) agent.screenTimer.clear();
    if (this.waiterRetry) clearTimeout(this.waiterRetry);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter && waiter.exitCode === null) waiter.kill('SIGTERM');
    this.stateEmitter.dispose();
    this.unknownEmitter.dispose();
  }

  // ---- hook events ---------------------------------------------------------------------------

  private startWaiter(): void {
    if (this.disposed || this.waiter) return;
    const { address } = this.options;
    const child = spawn(address.tmuxPath, [...serverFlags(address), 'wait-for', AGENTS_CHANNEL], { stdio: 'ignore', env: tmuxEnvironment() });
    this.stats.tmuxProcesses++;
    this.waiter = child;
    const ended = (ok: boolean): void => {
      if (this.waiter !== child) return;
      this.waiter = undefined;
      if (this.disposed) return;
      if (ok) {
        this.stats.signals++;
        // The next waiter first, so a signal sent while we read is not lost.
        this.startWaiter();
        void this.read().catch(() => undefined);
      } else {
        // No server (yet, or any more): try again later, slowly.
        this.waiterRetry = setTimeout(() => {
          this.waiterRetry = undefined;
          this.startWaiter();
        }, 2000);
      }
    };
    child.once('error', () => ended(false));
    child.once('close', (code) => ended(code === 0));
  }

  private async readOnce(): Promise<void> {
    if (this.disposed) return;
    const format = ['#{pane_id}', `#{${SEQUENCE_OPTION}}`, `#{${EVENT_OPTION}}`].join('\t');
    this.stats.reads++;
    this.stats.tmuxProcesses++;
    const { stdout } = await runTmuxCommands(this.options.address, [
      ['set-option', '-g', AGENTS_DIRTY_OPTION, '0'],
      ['list-panes', '-a', '-f', `#{${AGENT_OPTION}}`, '-F', format],
    ]);
    if (this.disposed) return;
    const byPane = new Map<string, Watched>();
    for (const agent of this.agents.values()) {
      const handle = this.supervisor.status(agent.name).handle;
      if (handle) byPane.set(handle, agent);
    }
    for (const line of stdout.split('\n')) {
      if (!line) continue;
      const [pane, seqText, ...rest] = line.split('\t');
      const agent = byPane.get(pane);
      if (!agent) {
        if (!this.unknownPanes.has(pane)) {
          this.unknownPanes.add(pane);
          this.unknownEmitter.fire(pane);
        }
        continue;
      }
      const seq = Number(seqText) || 0;
      if (agent.seq === seq) continue;
      agent.seq = seq;
      const event = parseEventRecord(rest.join('\t'));
      if (!event) continue;
      agent.lastEventAt = this.clock.now();
      this.apply(agent, activityAfter(agent.activity, event));
    }
  }

  /** A new activity: to the supervisor (progress only while working), then the state shown. */
  private apply(agent: Watched, activity: AgentActivity): void {
    agent.activity = activity;
    if (expectsProgress(activity)) {
      this.supervisor.holdProgress(agent.name, false);
      this.supervisor.reportProgress(agent.name, activity);
    } else {
      this.supervisor.holdProgress(agent.name, true);
      this.supervisor.setDetail(agent.name, activity);
    }
    // The supervisor fires a detail event for both, which re-derives the state; this covers a unit
    // that fired none (its detail was already this).
    this.derive(agent);
  }

  // ---- the supervisor's side -----------------------------------------------------------------

  private unitChanged(event: UnitEvent<AgentActivity>): void {
    const agent = this.agents.get(event.unit);
    if (!agent) return;
    if (event.state.phase === 'starting' && event.previous.phase !== 'starting') {
      // A new run: the previous run's activity no longer holds (its launch cleared its event).
      agent.activity = { kind: 'starting' };
      agent.lastEventAt = this.clock.now();
      agent.screenWaitMs = this.policy.startupMs;
    }
    const failedExit = (event.state.phase === 'failed' && event.state.exit) || (event.state.phase === 'restarting' && event.previous.phase === 'running');
    if (failedExit && event.previous.phase !== event.state.phase) {
      const pane = this.supervisor.status(agent.name).handle ?? this.lastPane.get(agent.name);
      if (pane) void this.readCrash(agent, pane);
    }
    const handle = this.supervisor.status(agent.name).handle;
    if (handle) this.lastPane.set(agent.name, handle);
    this.derive(agent, event.state);
  }

  private derive(agent: Watched, unit = this.supervisor.status(agent.name).state): void {
    const state = agentState(unit, agent.activity);
    this.planScreen(agent, unit.phase === 'running');
    const previous = agent.state;
    agent.state = state;
    if (transitionKey(state) === transitionKey(previous)) return;
    this.stateEmitter.fire({ agent: agent.name, kind: agent.kind.name, at: this.clock.now(), previous, state, pane: this.supervisor.status(agent.name).handle });
  }

  // ---- the screen, where hooks are blind -----------------------------------------------------

  private planScreen(agent: Watched, running: boolean): void {
    const purpose = !running ? undefined : agent.activity.kind === 'starting' ? 'startup' : agent.activity.kind === 'working' ? 'quiet' : undefined;
    if (purpose === undefined) {
      agent.screenTimer.clear();
      agent.screenPurpose = undefined;
      return;
    }
    if (agent.screenPurpose === purpose && agent.screenTimer.armed) return;
    if (agent.screenPurpose !== purpose) agent.screenWaitMs = purpose === 'startup' ? this.policy.startupMs : this.policy.quietMs;
    agent.screenPurpose = purpose;
    this.armScreen(agent, Math.max(0, agent.lastEventAt + agent.screenWaitMs - this.clock.now()));
  }

  private armScreen(agent: Watched, delay: number): void {
    this.stats.timersArmed++;
    agent.screenTimer.arm(delay, () => {
      if (this.disposed) return;
      // Hooks spoke meanwhile: no need to look, wait for the next silence.
      const quietFor = this.clock.now() - agent.lastEventAt;
      if (quietFor < agent.screenWaitMs) {
        this.armScreen(agent, agent.screenWaitMs - quietFor);
        return;
      }
      void this.lookAtScreen(agent, agent.screenPurpose ?? 'request').then((found) => {
        if (this.disposed || found !== 'nothing' || agent.screenPurpose === undefined || agent.screenTimer.armed) return;
        agent.screenWaitMs = Math.min(agent.screenWaitMs * 2, this.policy.maxBackoffMs);
        this.armScreen(agent, agent.screenWaitMs);
      });
    });
  }

  private async capture(pane: string): Promise<string[]> {
    this.stats.screenReads++;
    this.stats.tmuxProcesses++;
    const { stdout } = await runTmuxCommands(this.options.address, [['capture-pane', '-p', '-t', pane]]);
    return stdout.split('\n').filter((line) => line.trim() !== '');
  }

  private async lookAtScreen(agent: Watched, why: 'startup' | 'quiet' | 'request'): Promise<'ready' | 'interrupted' | 'blocked' | 'nothing'> {
    const pane = this.supervisor.status(agent.name).handle;
    if (!pane) return 'nothing';
    let lines: string[];
    try {
      lines = (await this.capture(pane)).slice(-SCREEN_TAIL_LINES);
    } catch {
      return 'nothing';
    }
    if (this.disposed) return 'nothing';
    const before = agent.activity;
    const stillAsSeen = () => agent.activity === before;
    const matching = (pattern: RegExp | undefined) => (pattern ? lines.find((line) => pattern.test(line)) : undefined);
    const blocked = matching(agent.patterns.blocked);
    if (blocked && stillAsSeen()) {
      this.apply(agent, { kind: 'waiting', reason: 'blocked', message: blocked.trim().slice(0, 200) });
      return 'blocked';
    }
    if (why !== 'startup' && agent.activity.kind === 'working' && matching(agent.patterns.interrupted) && stillAsSeen()) {
      this.apply(agent, { kind: 'idle', interrupted: true });
      return 'interrupted';
    }
    if (agent.activity.kind === 'starting' && matching(agent.patterns.ready) && stillAsSeen()) {
      this.apply(agent, { kind: 'idle' });
      return 'ready';
    }
    return 'nothing';
  }

  /** A failed exit: the dead pane's screen may say why (a stack trace, a panic). */
  private async readCrash(agent: Watched, pane: string): Promise<void> {
    if (!agent.patterns.crashed) return;
    let lines: string[];
    try {
      lines = await this.capture(pane);
    } catch {
      return;
    }
    const crash = lines.find((line) => agent.patterns.crashed!.test(line));
    if (!crash || this.disposed) return;
    agent.activity = { kind: 'exited', crash: crash.trim().slice(0, 200) };
    this.derive(agent);
  }

  private agent(name: string): Watched {
    const agent = this.agents.get(name);
    if (!agent) throw new Error(`No agent is named "${name}"; watched agents: ${[...this.agents.keys()].map((known) => `"${known}"`).join(', ')}.`);
    return agent;
  }
}
