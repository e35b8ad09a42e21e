import * as fs from 'node:fs';
import * as path from 'node:path';
import { Disposable, Emitter, Event } from '../../tmux/emitter';
import { InvalidInputError, NoServerError, TargetNotFoundError } from '../../tmux/errors';
import { allPanes, findById, Tree } from '../../tmux/model';
import { sessionNameProblem } from '../../tmux/names';
import { SILENT_LOGGER } from '../../tmux/log';
import { runTmuxCommands } from '../../tmux/exec';
import { TmuxService } from '../../tmux/service';
import { killGracefully, KillTimings } from '../kill';
import { readProcessTable } from '../metrics/processTable';
import { OutputOpener, PaneOutputHub } from '../output/outputHub';
import { RecordError, RECORD_VERSION, SupervisionRecord, UnitRecord } from '../supervision/record';
import { Supervisor } from '../supervision/supervisor';
import { TmuxDriver, TmuxLaunch } from '../supervision/tmuxDriver';
import { UnitSpec } from '../supervision/types';
import {
  AgentCleanupCandidate,
  AgentCleanupOutcome,
  AgentFleet,
  AgentFleetOptions,
  AgentInfo,
  AgentLimits,
  FinishResult,
  FleetTmux,
  SpawnProgress,
  SpawnRequest,
  SpawnResult,
  WorktreeChoice,
} from './fleet';
import { AgentLaunch, agentLaunch, removeGeminiHooks } from './hooks';
import { writeHookScript } from './hooksScript';
import { InputBoxReader, inputBoxReaders } from './inputBox';
import { AgentKind, kindNamed, resolveKind } from './kinds';
import { AGENT_SESSION_OPTION, AGENT_SUPERVISION_OPTION, AgentSessionRow, formatAgentRecord, readAgentSessions, StoredAgentRecord } from './record';
import { ReceiptCheck, sendPrompt, SendResult } from './send';
import { AgentActivity, AgentState, transitionKey } from './state';
import { AgentWatcher } from './stateWatcher';
import {
  addWorktree,
  BRANCH_PREFIX,
  branchFor,
  commitAll,
  currentBranch,
  deleteBranchIfSafe,
  GitError,
  isInside,
  listWorktrees,
  refExists,
  removeCleanWorktree,
  RepositoryQueue,
  repositoryTop,
  worktreeChanges,
  worktreeFolder,
  worktreeRoot,
} from './worktrees';

/** Agents whose state is one of these are over: Clean Up may offer them once they have been so for a while. */
const OVER: ReadonlySet<AgentState['state']> = new Set(['done', 'failed', 'timedOut', 'stopped']);
const DEFAULT_DONE_FOR_MS = 60 * 60 * 1000;
const DEFAULT_KILL: KillTimings = { interruptWaitMs: 1500, terminateWaitMs: 3000 };
const DEFAULT_MEMORY_CHECK_MS = 5000;
/** After an interrupt, the screen is looked at once this much later (Claude Code fires no Stop on Esc). */
const INTERRUPT_LOOK_MS = 800;
/** The file, in the data folder, that names every repository we made worktrees in: after a kill-server no session does. */
const REPOSITORIES_FILE = 'agent-repositories.json';

/**
 * Keys that answer a permission prompt, where the kind's dialog takes them: the first choice is
 * "yes" and Escape cancels (Claude Code, Gemini CLI), or Codex's y and Escape. aider asks its
 * questions as plain y/n lines.
 */
const PERMISSION_KEYS: Readonly<Record<string, { approve: readonly string[]; deny: readonly string[] }>> = {
  claude: { approve: ['Enter'], deny: ['Escape'] },
  codex: { approve: ['y'], deny: ['Escape'] },
  gemini: { approve: ['Enter'], deny: ['Escape'] },
  aider: { approve: ['y', 'Enter'], deny: ['n', 'Enter'] },
};

/** A custom kind that borrows a built-in kind's hooks wraps that agent, and answers as it does. */
const KEYS_BY_HOOKS: Readonly<Record<string, string>> = { 'claude-settings': 'claude', 'codex-notify': 'codex', 'gemini-project-settings': 'gemini', 'aider-notifications': 'aider' };

function permissionKeys(kind: AgentKind): { approve: readonly string[]; deny: readonly string[] } | undefined {
  return PERMISSION_KEYS[kind.name] ?? PERMISSION_KEYS[KEYS_BY_HOOKS[kind.hooks] ?? ''];
}

export class AgentFleetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentFleetError';
  }
}

interface Agent {
  record: StoredAgentRecord;
  readonly kind: AgentKind;
  sessionId: string;
  pane: string;
  launch: AgentLaunch;
  /** Only the spawn's own start is fresh; every later start continues the conversation (the resume command). */
  fresh: boolean;
  since: number;
  /** When this fleet took it up: a read of the sessions begun before that cannot say it is gone. */
  readonly addedAt: number;
  note?: string;
  memoryWarned?: boolean;
}

/** Opens the fleet of the server at options.address: reads every agent's record from tmux, adopts the running ones, and follows their states. */
export async function openAgentFleet(options: AgentFleetOptions): Promise<AgentFleet> {
  const fleet = new FleetRuntime(options);
  try {
    await fleet.open();
  } catch (error) {
    fleet.dispose();
    throw error;
  }
  return fleet;
}

class FleetRuntime implements AgentFleet {
  private readonly log;
  private ownService: TmuxService | undefined;
  private tmux!: FleetTmux;
  private hub: PaneOutputHub | undefined;
  private driver!: TmuxDriver;
  private supervisor!: Supervisor<AgentActivity>;
  private watcher!: AgentWatcher;
  private hookScript!: string;
  private readonly agents = new Map<string, Agent>();
  private readonly kinds: readonly AgentKind[];
  private readonly queue = new RepositoryQueue();
  private readonly changeEmitter = new Emitter<void>();
  private readonly transitionEmitter = new Emitter<{ readonly agent: AgentInfo; readonly previous: AgentState }>();
  private readonly subscriptions: Disposable[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly saving = new Map<string, Promise<void>>();
  private readonly saveAgain = new Set<string>();
  /** Sessions a spawn of ours is making: a refresh must not take them for someone else's. */
  private readonly spawning = new Set<string>();
  /** Sessions being finished: a read from before their end must not take them up again. */
  private readonly finishing = new Set<string>();
  private knownSessions = '';
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private memoryTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  readonly onDidChange = (listener: () => void): Disposable => this.changeEmitter.event(listener);
  readonly onDidTransition: Event<{ readonly agent: AgentInfo; readonly previous: AgentState }> = this.transitionEmitter.event;

  constructor(private readonly options: AgentFleetOptions) {
    this.kinds = options.customKinds ?? [];
    this.log = options.log ?? SILENT_LOGGER;
  }

  // ---- opening ---------------------------------------------------------------------------------

  async open(): Promise<void> {
    this.hookScript = writeHookScript(path.join(this.options.dataFolder, 'hooks'), this.options.address.tmuxPath);
    if (this.options.tmux) {
      this.tmux = this.options.tmux;
    } else {
      const service = new TmuxService(this.options.address, { log: this.log });
      this.ownService = service;
      await service.start();
      this.tmux = {
        run: (argv) => service.run(argv),
        onTree: service.onDidChangeTree,
        tree: () => service.tree,
      };
    }
    if (!this.tmux.output) this.hub = new PaneOutputHub(this.tmux.run, this.options.address);
    this.driver = new TmuxDriver(this.tmux.run, this.options.address, (unit) => this.launchOf(unit), this.tmux.onTree);
    this.supervisor = new Supervisor<AgentActivity>({ units: [], driver: this.driver });
    this.watcher = new AgentWatcher({ address: this.options.address, supervisor: this.supervisor, agents: [] });
    this.subscriptions.push(
      this.supervisor.onDidChangeState((event) => {
        if (this.options.supervise || this.agents.get(event.unit)?.fresh) this.scheduleSave(event.unit);
      }),
      this.watcher.onDidChangeState((event) => this.transitioned(event.agent, event.previous, event.at)),
      // An agent pane nobody here follows: another window (or the CLI) started one.
      this.watcher.onDidSeeUnknownPane(() => void this.refresh().catch((error) => this.log.warn(`Reading the agents again failed: ${(error as Error).message}`))),
      this.tmux.onTree((tree) => this.treeChanged(tree)),
    );
    await this.adoptAll(await readAgentSessions(this.tmux.run));
    this.knownSessions = sessionKey(this.tmux.tree());
    await this.watcher.start();
    this.armMemoryCheck();
  }

  /** Agents of sessions not followed yet (all of them, on open): their units are restored from their records, so a running agent is adopted, never started again. */
  private async adoptAll(rows: readonly AgentSessionRow[]): Promise<void> {
    const fresh: { agent: Agent; unit?: UnitRecord }[] = [];
    for (const row of rows) {
      if (row.problem) this.log.warn(row.problem);
      if (!row.record || this.agents.has(row.name) || this.spawning.has(row.name) || this.finishing.has(row.name)) continue;
      const saved = parseSaved(row.supervision, row.name);
      // A record written while its run was starting has no handle yet: its pane is the run, once the agent's launch marked it.
      const runUnknown = !saved || (saved.unit.handle === undefined && ['starting', 'running', 'stopping'].includes(saved.unit.state.phase));
      // Another window is still starting it (its pane runs the placeholder): taken up once it runs.
      if (runUnknown && !row.launched) continue;
      let kind: AgentKind;
      try {
        kind = resolveKind(kindNamed(row.record.kind, this.kinds), this.options.restoreCommands);
      } catch (error) {
        this.log.warn(`Agent session "${row.name}": ${(error as Error).message} It is shown as a plain session.`);
        continue;
      }
      const record = row.record;
      const launch = this.launchFor(kind, record, []);
      const agent: Agent = { record, kind, sessionId: row.sessionId, pane: row.pane ?? '', launch, fresh: false, since: saved?.since ?? Date.now(), addedAt: Date.now() };
      const unit: UnitRecord | undefined =
        runUnknown && row.pane
          ? { attempt: 0, restarts: 0, breaker: { status: 'closed', failures: [] }, ...saved?.unit, state: { phase: 'running' }, handle: row.pane, ready: true }
          : saved?.unit;
      fresh.push({ agent, ...(unit ? { unit } : {}) });
    }
    if (fresh.length === 0) return;
    const units: Record<string, UnitRecord> = {};
    for (const { agent, unit } of fresh) {
      this.agents.set(agent.record.session, agent);
      this.supervisor.add(this.unitSpec(agent));
      if (!unit) continue;
      // A window that only watches adopts what runs, but takes up no pending restart or breaker trial.
      units[agent.record.session] = this.options.supervise
        ? unit
        : { ...unit, breaker: { status: 'closed', failures: [] }, state: unit.state.phase === 'restarting' ? { phase: 'stopped' } : unit.state };
    }
    try {
      await this.supervisor.restore({ version: RECORD_VERSION, savedAt: Date.now(), units });
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      this.log.warn(`The agents' supervision records could not be read (${error.message}); they are shown as not running.`);
    }
    for (const { agent } of fresh) this.watcher.add({ name: agent.record.session, kind: agent.kind });
    // Their last hook events may be older than any signal still to come: read them now.
    void this.watcher.read().catch(() => undefined);
    this.changeEmitter.fire();
  }

  /** A session came or went (another window or the CLI spawned or finished an agent, or a kill-server): read the records again. */
  private treeChanged(tree: Tree): void {
    const key = sessionKey(tree);
    if (key === this.knownSessions || this.disposed) return;
    this.knownSessions = key;
    void this.refresh().catch((error) => this.log.warn(`Reading the agents again failed: ${(error as Error).message}`));
  }

  private refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          const readAt = Date.now();
          const rows = await readAgentSessions(this.tmux.run);
                if (this.disposed) return;
          const live = new Set(rows.filter((row) => row.record).map((row) => row.name));
          let gone = false;
          for (const [name, agent] of [...this.agents]) {
            if (live.has(name) || this.spawning.has(name) || agent.addedAt >= readAt) continue;
            this.forget(name);
            gone = true;
          }
          await this.adoptAll(rows);
          if (gone) this.changeEmitter.fire();
        } while (this.refreshAgain && !this.disposed);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private forget(name: string): void {
    this.watcher.remove(name);
    this.supervisor.remove(name);
    this.agents.delete(name);
  }

  // ---- what the views read ---------------------------------------------------------------------

  list(): readonly AgentInfo[] {
    return [...this.agents.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((name) => this.info(name)!);
  }

  get(session: string): AgentInfo | undefined {
    return this.info(session);
  }

  private info(name: string): AgentInfo | undefined {
    const agent = this.agents.get(name);
    if (!agent || !this.supervisor.has(name)) return undefined;
    const state = this.watcher.has(name) ? this.watcher.state(name) : ({ state: 'starting' } as AgentState);
    const status = this.supervisor.status(name);
    const pane = status.handle ?? (agent.pane || undefined);
    const lastMessage = agent.note ?? messageOf(state);
    const { geminiUndo: _undo, ...record } = agent.record;
    return { record, ...(pane ? { pane } : {}), state, since: agent.since, ...(lastMessage ? { lastMessage } : {}) };
  }

  private transitioned(name: string, previous: AgentState, at: number): void {
    const agent = this.agents.get(name);
    if (!agent) return;
    agent.since = at;
    if (!OVER.has(this.watcher.state(name).state)) agent.memoryWarned = false;
    // Only the supervising window writes (the time in state goes with the supervision record).
    if (this.options.supervise) this.scheduleSave(name);
    const info = this.info(name);
    if (info && transitionKey(info.state) !== transitionKey(previous)) this.transitionEmitter.fire({ agent: info, previous });
    this.changeEmitter.fire();
  }

  // ---- spawning --------------------------------------------------------------------------------

  async spawn(request: SpawnRequest, progress?: (step: SpawnProgress) => void, signal?: AbortSignal): Promise<SpawnResult> {
    const kind = resolveKind(kindNamed(request.kind, this.kinds), this.options.restoreCommands);
    if (!Array.isArray(request.tasks) || request.tasks.length === 0) throw new InvalidInputError('Give at least one task: each agent gets one.');
    const folder = path.resolve(request.folder);
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new InvalidInputError(`The folder ${folder} does not exist; pick the repository (or folder) the agents should work in.`);
    const names = request.tasks.map((task, index) => sessionNameFor(request.namePattern ?? '{kind}-{task}', kind.name, task.task, index + 1));
    const seen = new Set<string>();
    for (const [index, name] of names.entries()) {
      const problem = sessionNameProblem(name);
      if (problem) throw new InvalidInputError(`Task "${request.tasks[index].task}" makes the session name "${name}": ${problem} Change the task or the name pattern.`);
      if (seen.has(name)) throw new InvalidInputError(`Two tasks make the same session name "${name}"; give each task its own name, or put {n} in the name pattern.`);
      seen.add(name);
    }
    const taken = new Set((await readAgentSessions(this.tmux.run)).map((row) => row.name));
    const clash = names.find((name) => taken.has(name) || this.agents.has(name) || this.spawning.has(name));
    if (clash) throw new InvalidInputError(`A session named "${clash}" already exists; finish or rename it, or pick another task name or name pattern.`);
    limitsProblem(request.limits);

    let repo: string | undefined;
    let base: string | undefined;
    if (request.worktrees) {
      repo = await repositoryTop(folder);
      if (!repo) throw new InvalidInputError(`${folder} is not in a git repository, so agents cannot get worktrees there; spawn them without worktrees, or pick a repository.`);
      base = request.baseBranch || (await currentBranch(repo)) || 'HEAD';
      if (!(await refExists(repo, base))) throw new InvalidInputError(`The base branch "${base}" does not exist in ${repo}; pick an existing branch.`);
      this.rememberRepository(repo);
    } else {
      repo = await repositoryTop(folder);
    }

    const total = names.length * (request.worktrees ? 2 : 1);
    let done = 0;
    const step = (message: string) => progress?.({ done: ++done, total, message });
    const made = { worktrees: [] as { repo: string; folder: string; branch: string }[], sessions: [] as string[] };
    const started: StoredAgentRecord[] = [];
    for (const name of names) this.spawning.add(name);
    let failed = false;
    const cancelled = () => {
      if (signal?.aborted) throw new AgentFleetError('Spawning was cancelled.');
      // Another task failed: the rest stop at their next step, since all of it is undone anyway.
      if (failed) throw new AgentFleetError('another task failed');
    };
    try {
      cancelled();
      const one = async (index: number): Promise<void> => {
        const name = names[index];
        const task = request.tasks[index];
        let cwd = folder;
        let worktree: { folder: string; branch: string } | undefined;
        if (request.worktrees && repo && base) {
          const wanted = { folder: worktreeFolder(repo, name), branch: branchFor(name) };
          await this.queue.run(repo, async () => {
            cancelled();
            await addWorktree(repo!, wanted.folder, wanted.branch, base!);
            made.worktrees.push({ repo: repo!, ...wanted });
          });
          worktree = wanted;
          // The folder inside the repository the agents were asked to work in, in the agent's own copy.
          cwd = path.join(wanted.folder, path.relative(repo, folder));
          step(`Worktree ${wanted.folder} on branch ${wanted.branch}`);
        }
        cancelled();
        const record: StoredAgentRecord = {
          session: name,
          kind: kind.name,
          task: task.task,
          cwd,
          ...(repo ? { repo } : {}),
          ...(worktree ? { worktree: worktree.folder, branch: worktree.branch, baseBranch: base } : {}),
          createdAt: Date.now(),
          ...(request.limits ? { limits: request.limits } : {}),
        };
        await this.startAgent(kind, record, task.prompt, made.sessions);
        started[index] = this.agents.get(name)!.record;
        step(`Started ${name}`);
      };
      const results = await Promise.allSettled(
        names.map((_name, index) =>
          one(index).catch((error: unknown) => {
            failed = true;
            throw error;
          }),
        ),
      );
      // The first failure says why; the others only stopped because of it.
      const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected' && (result.reason as Error)?.message !== 'another task failed');
      if (failure) throw failure.reason;
      if (results.some((result) => result.status === 'rejected')) cancelled();
      cancelled();
    } catch (error) {
      await this.undoSpawn(names, made);
      const why = signal?.aborted ? 'Spawning was cancelled' : `Spawning failed: ${(error as Error).message}`;
      throw new AgentFleetError(`${why}. Everything it had made (${made.sessions.length} session${made.sessions.length === 1 ? '' : 's'}, ${made.worktrees.length} worktree${made.worktrees.length === 1 ? '' : 's'}) was removed.`);
    } finally {
      for (const name of names) this.spawning.delete(name);
    }
    return { agents: started.map(({ geminiUndo: _undo, ...record }) => record) };
  }

  /** One agent's session: a placeholder pane with remain-on-exit and the record, then the agent itself, started by the supervisor in that pane. */
  private async startAgent(kind: AgentKind, record: StoredAgentRecord, prompt: string | undefined, madeSessions: string[]): Promise<void> {
    const launch = this.launchFor(kind, record, prompt ? [prompt] : []);
    const stored: StoredAgentRecord = launch.undo ? { ...record, geminiUndo: launch.undo } : record;
    // One command list, which tmux runs with no other client's command in between: another window
    // that sees the new session reads its record too. The placeholder (`cat`) waits quietly until
    // the driver replaces it (respawn-pane -k) with the agent; remain-on-exit keeps its exit to read.
    let stdout: string;
    try {
      ({ stdout } = await runTmuxCommands(this.options.address, [
        ['new-session', '-d', '-P', '-F', '#{session_id} #{pane_id}', '-s', record.session, '-n', kind.name, '-c', record.cwd, 'cat'],
        // No target: after new-session, a command list's next commands act on the new session and its pane.
        ['set-option', AGENT_SESSION_OPTION, formatAgentRecord(stored)],
        ['set-option', '-p', 'remain-on-exit', 'on'],
      ]));
    } catch (error) {
      // Made, but not marked as ours: it goes (a name someone took meanwhile is theirs, and stays).
      if (!/duplicate session/i.test((error as Error).message)) await this.tmux.run(['kill-session', '-t', `=${record.session}`]).catch(() => undefined);
      throw error;
    }
    const [sessionId = '', pane = ''] = stdout.split('\n')[0].split(' ');
    madeSessions.push(sessionId);
    const agent: Agent = { record: stored, kind, sessionId, pane, launch, fresh: true, since: Date.now(), addedAt: Date.now() };
    this.agents.set(record.session, agent);
    this.supervisor.add(this.unitSpec(agent));
    this.watcher.add({ name: record.session, kind });
    this.changeEmitter.fire();
    await this.supervisor.up([record.session]);
    agent.fresh = false;
    // A fast agent's first hook can come before its pane was known to be its: read once more.
    void this.watcher.read().catch(() => undefined);
    const state = this.supervisor.status(record.session).state;
    if (state.phase === 'failed') throw new AgentFleetError(`${record.session}: ${state.message}`);
  }

  private async undoSpawn(names: readonly string[], made: { worktrees: { repo: string; folder: string; branch: string }[]; sessions: string[] }): Promise<void> {
    for (const name of names) {
      const agent = this.agents.get(name);
      if (agent?.launch.undo) removeGeminiHooks(agent.record.cwd, agent.launch.undo);
      if (this.agents.has(name)) this.forget(name);
    }
    await Promise.all(made.sessions.map((id) => this.tmux.run(['kill-session', '-t', id]).catch(() => undefined)));
    for (const made_ of made.worktrees) {
      await this.queue.run(made_.repo, async () => {
        // Made a moment ago by this spawn, from the base: what is in it came from the base or from
        // the agent's first seconds, and a cancelled spawn leaves nothing behind.
        await forceRemoveWorktree(made_.repo, made_.folder);
        await deleteBranchIfSafe(made_.repo, made_.branch);
      });
    }
    this.changeEmitter.fire();
  }

  private launchFor(kind: AgentKind, record: StoredAgentRecord, args: readonly string[]): AgentLaunch {
    return agentLaunch(kind, {
      hookScript: this.hookScript,
      tmuxPath: this.options.address.tmuxPath,
      stateFolder: this.stateFolderOf(record),
      cwd: record.cwd,
      args,
    });
  }

  /** The agent's own files (its Claude settings with our hooks), removed by Finish. */
  private stateFolderOf(record: StoredAgentRecord): string {
    return path.join(this.options.dataFolder, 'agents', record.session.replace(/[^A-Za-z0-9_-]/g, '_'));
  }

  private launchOf(unit: UnitSpec): TmuxLaunch {
    const agent = this.agents.get(unit.name);
    if (!agent) throw new AgentFleetError(`No agent is named "${unit.name}".`);
    const command = agent.fresh ? agent.launch.command : (agent.launch.resumeCommand ?? agent.launch.command);
    return { session: agent.sessionId, command, cwd: agent.record.cwd, ...(agent.pane ? { pane: agent.pane } : {}) };
  }

  private unitSpec(agent: Agent): UnitSpec {
    const name = agent.record.session;
    const stop = { method: { kind: 'signal', signal: 'SIGTERM' } as const, timeoutMs: 5000 };
    if (!this.options.supervise) return { name, restart: 'never', stop };
    const limits = agent.record.limits ?? {};
    const retries = limits.retries ?? 0;
    return {
      name,
      restart: retries > 0 ? 'on-failure' : 'never',
      ...(retries > 0 ? { maxRestarts: retries } : {}),
      restartMode: 'resume',
      stop,
      ...(limits.wallClockTimeoutMs ? { wallClockTimeoutMs: limits.wallClockTimeoutMs } : {}),
      ...(limits.noProgressTimeoutMs ? { noProgressTimeoutMs: limits.noProgressTimeoutMs } : {}),
      ...(limits.stalledAfterMs ? { stalledAfterMs: limits.stalledAfterMs } : {}),
    };
  }

  // ---- talking to agents -----------------------------------------------------------------------

  async send(session: string, text: string, signal?: AbortSignal): Promise<SendResult> {
    const agent = this.agentNamed(session);
    const pane = this.runningPane(session);
    const inputBox = this.readerOf(agent.kind);
    const receipt = inputBox ? undefined : this.receiptOf(agent);
    if (!inputBox && !receipt) {
      throw new AgentFleetError(`Prompts to "${session}" cannot be confirmed: its kind "${agent.kind.name}" has neither hooks nor a known input box. Give the custom kind "hooksLike", or type into its pane.`);
    }
    const result = await sendPrompt({
      run: this.tmux.run,
      address: this.options.address,
      paneId: pane as never,
      text,
      ...(inputBox ? { inputBox } : {}),
      ...(receipt ? { receipt } : {}),
      open: this.opener(),
      tempRoot: this.options.dataFolder,
      ...(signal ? { signal } : {}),
    });
    if (result.status !== 'failed' && agent.kind.hooks === 'none' && this.watcher.has(session)) this.watcher.noteActivity(session, { kind: 'working' });
    return result;
  }

  async broadcast(sessions: readonly string[], text: string, signal?: AbortSignal): Promise<ReadonlyMap<string, SendResult>> {
    const results = await Promise.all(
      sessions.map(async (session): Promise<[string, SendResult]> => {
        try {
          return [session, await this.send(session, text, signal)];
        } catch (error) {
          return [session, { status: 'failed', reason: 'paneGone', message: (error as Error).message, elapsedMs: 0, pastes: 0, enters: 0 }];
        }
      }),
    );
    return new Map(results);
  }

  async interrupt(session: string): Promise<void> {
    const agent = this.agentNamed(session);
    const pane = this.runningPane(session);
    await this.tmux.run(['send-keys', '-t', pane, ...agent.kind.interruptKeys]);
    this.later(INTERRUPT_LOOK_MS, () => {
      if (this.watcher.has(session)) void this.watcher.checkScreen(session).catch(() => undefined);
    });
  }

  canAnswerPermission(session: string): boolean {
    const agent = this.agents.get(session);
    return !!agent && permissionKeys(agent.kind) !== undefined;
  }

  async answerPermission(session: string, answer: 'approve' | 'deny'): Promise<void> {
    const agent = this.agentNamed(session);
    const keys = permissionKeys(agent.kind);
    if (!keys) throw new AgentFleetError(`A ${agent.kind.name} agent's permission prompts cannot be answered by keys from here; focus its pane and answer there.`);
    const state = this.watcher.state(session);
    if (state.state !== 'waiting' || state.reason !== 'permission') {
      throw new AgentFleetError(`"${session}" is not asking for a permission (it is ${state.state}); nothing was sent, so no keys went into its input box.`);
    }
    await this.tmux.run(['send-keys', '-t', this.runningPane(session), ...keys[answer]]);
  }

  async retry(session: string): Promise<void> {
    const agent = this.agentNamed(session);
    agent.fresh = false;
    agent.note = undefined;
    const status = this.supervisor.status(session);
    const idle = status.handle === undefined && ['stopped', 'completed', 'failed', 'timedOut'].includes(status.state.phase);
    // From rest, `up` gives it a fresh time budget; a running one is stopped and started again.
    if (idle) await this.supervisor.up([session]);
    else await this.supervisor.restart(session);
    void this.watcher.read().catch(() => undefined);
  }

  // ---- finishing -------------------------------------------------------------------------------

  async finish(session: string, choice: WorktreeChoice, signal?: AbortSignal): Promise<FinishResult> {
    const agent = this.agentNamed(session);
    if (signal?.aborted) throw new AgentFleetError(`Finishing "${session}" was cancelled before anything was done.`);
    // Forgotten first, so its exit is not taken for a failure to restart from.
    this.forget(session);
    this.changeEmitter.fire();
    this.finishing.add(session);
    try {
      await this.killSession(agent.sessionId);
    } finally {
      this.finishing.delete(session);
    }
    if (agent.record.geminiUndo) removeGeminiHooks(agent.record.cwd, agent.record.geminiUndo);
    fs.rmSync(this.stateFolderOf(agent.record), { recursive: true, force: true });
    return this.settleWorktree(agent.record, choice);
  }

  private async killSession(sessionId: string): Promise<void> {
    const target = findById(this.tmux.tree(), sessionId);
    try {
      if (target && target.kind === 'session') await killGracefully(this.tmux.run, target, this.options.kill ?? DEFAULT_KILL);
      else await this.tmux.run(['kill-session', '-t', sessionId]);
    } catch (error) {
      if (!(error instanceof TargetNotFoundError) && !(error instanceof NoServerError)) throw error;
    }
  }

  /** The worktree rule: removed only when clean (after a commit, when asked); the branch only when no commit would be lost. */
  private async settleWorktree(record: AgentRecord_, choice: WorktreeChoice): Promise<FinishResult> {
    const session = record.session;
    if (!record.worktree || !record.repo) return { session, worktree: 'none' };
    if (choice === 'keep') return { session, worktree: 'kept' };
    const repo = record.repo;
    const folder = record.worktree;
    return this.queue.run(repo, async (): Promise<FinishResult> => {
      let commit: string | undefined;
      if (choice === 'commitThenRemove' && fs.existsSync(folder)) {
        commit = await commitAll(folder, `${record.kind} agent ${session}: ${record.task}`);
      }
      const changes = await removeCleanWorktree(repo, folder);
      if (changes.length > 0) return { session, worktree: 'keptDirty', dirty: changes, ...(commit ? { commit } : {}) };
      if (record.branch) await deleteBranchIfSafe(repo, record.branch);
      return { session, worktree: 'removed', ...(commit ? { commit } : {}) };
    });
  }

  // ---- cleaning up -----------------------------------------------------------------------------

  async planCleanup(options: { readonly doneForMs?: number } = {}): Promise<readonly AgentCleanupCandidate[]> {
    const doneForMs = options.doneForMs ?? DEFAULT_DONE_FOR_MS;
    const rows = await readAgentSessions(this.tmux.run);
    await this.refresh();
    const records = rows.flatMap((row) => (row.record ? [row.record] : []));
    const candidates: AgentCleanupCandidate[] = [];
    for (const record of records) {
      if (record.worktree && !fs.existsSync(record.worktree)) {
        candidates.push({ kind: 'sessionWithoutWorktree', session: record.session, worktree: record.worktree, reason: `its worktree ${record.worktree} is gone` });
      }
    }
    const now = Date.now();
    for (const info of this.list()) {
      if (!OVER.has(info.state.state) || now - info.since < doneForMs) continue;
      if (candidates.some((candidate) => 'session' in candidate && candidate.session === info.record.session)) continue;
      const changes = info.record.worktree ? await worktreeChanges(info.record.worktree) : undefined;
      candidates.push({
        kind: 'doneAgent',
        session: info.record.session,
        ...(info.record.worktree ? { worktree: info.record.worktree } : {}),
        dirty: (changes?.length ?? 0) > 0,
        reason: `${info.state.state} for ${Math.round((now - info.since) / 60_000)} min`,
      });
    }
    candidates.push(...(await this.orphanWorktrees(records)));
    return candidates;
  }

  /** Our worktrees (under a repository's agent folder, or on one of our branches) that no agent's session names. */
  private async orphanWorktrees(records: readonly StoredAgentRecord[]): Promise<AgentCleanupCandidate[]> {
    const repos = new Set([...this.knownRepositories(), ...records.flatMap((record) => (record.repo ? [record.repo] : []))]);
    const claimed = new Set(records.flatMap((record) => (record.worktree ? [real(record.worktree)] : [])));
    const found: AgentCleanupCandidate[] = [];
    await Promise.all(
      [...repos].map(async (repo) => {
        if (!fs.existsSync(repo)) return;
        const root = real(worktreeRoot(repo));
        for (const listed of await listWorktrees(repo)) {
          const folder = real(listed.folder);
          // Both marks, so that a worktree of the user's own (elsewhere, or on a branch of theirs) is never offered.
          const ours = isInside(folder, root) && (listed.branch === undefined || listed.branch.startsWith(BRANCH_PREFIX));
          if (!ours || claimed.has(folder)) continue;
          const changes = await worktreeChanges(listed.folder);
          found.push({
            kind: 'worktreeWithoutSession',
            worktree: listed.folder,
            repo,
            ...(listed.branch ? { branch: listed.branch } : {}),
            dirty: (changes?.length ?? 0) > 0,
            reason: changes === undefined ? 'no session, and its folder is gone' : changes.length > 0 ? `no session; ${changes.length} uncommitted change${changes.length === 1 ? '' : 's'} (kept)` : 'no session, and nothing uncommitted',
          });
        }
      }),
    );
    return found.sort((a, b) => (a.kind === 'worktreeWithoutSession' && b.kind === 'worktreeWithoutSession' ? a.worktree.localeCompare(b.worktree) : 0));
  }

  async cleanUp(candidates: readonly AgentCleanupCandidate[], signal?: AbortSignal): Promise<readonly AgentCleanupOutcome[]> {
    const outcomes: AgentCleanupOutcome[] = [];
    for (const candidate of candidates) {
      if (signal?.aborted) {
        outcomes.push({ candidate, done: false, skipped: 'cancelled' });
        continue;
      }
      try {
        outcomes.push(await this.cleanOne(candidate));
      } catch (error) {
        outcomes.push({ candidate, done: false, skipped: (error as Error).message });
      }
    }
    this.changeEmitter.fire();
    return outcomes;
  }

  /** Decides the candidate again on what is there now, then acts; a dirty worktree is never removed. */
  private async cleanOne(candidate: AgentCleanupCandidate): Promise<AgentCleanupOutcome> {
    const rows = await readAgentSessions(this.tmux.run);
    const row = 'session' in candidate ? rows.find((each) => each.name === candidate.session && each.record) : undefined;
    switch (candidate.kind) {
      case 'sessionWithoutWorktree': {
        if (!row?.record) return { candidate, done: false, skipped: 'the session is gone already' };
        if (row.record.worktree && fs.existsSync(row.record.worktree)) return { candidate, done: false, skipped: 'its worktree is back' };
        if (this.agents.has(candidate.session)) this.forget(candidate.session);
        await this.killSession(row.sessionId);
        if (row.record.repo && row.record.branch) {
          const repo = row.record.repo;
          await this.queue.run(repo, async () => {
            await removeCleanWorktree(repo, candidate.worktree);
            await deleteBranchIfSafe(repo, row.record!.branch!);
          });
        }
        return { candidate, done: true };
      }
      case 'doneAgent': {
        if (!row?.record) return { candidate, done: false, skipped: 'the session is gone already' };
        const state = this.watcher.has(candidate.session) ? this.watcher.state(candidate.session) : undefined;
        if (state && !OVER.has(state.state)) return { candidate, done: false, skipped: `it is ${state.state} again` };
        const result = this.agents.has(candidate.session) ? await this.finish(candidate.session, 'removeIfClean', undefined) : undefined;
        if (result?.worktree === 'keptDirty') return { candidate, done: true, skipped: `its worktree has ${result.dirty!.length} uncommitted change${result.dirty!.length === 1 ? '' : 's'} and was kept` };
        return { candidate, done: true };
      }
      case 'worktreeWithoutSession': {
        const folder = real(candidate.worktree);
        if (rows.some((each) => each.record?.worktree && real(each.record.worktree) === folder)) return { candidate, done: false, skipped: 'an agent session uses it again' };
        return this.queue.run(candidate.repo, async (): Promise<AgentCleanupOutcome> => {
          const changes = await removeCleanWorktree(candidate.repo, candidate.worktree);
          if (changes.length > 0) return { candidate, done: false, skipped: `it has ${changes.length} uncommitted change${changes.length === 1 ? '' : 's'}; it was kept` };
          const branchKept = candidate.branch && candidate.branch.startsWith(BRANCH_PREFIX) && !(await deleteBranchIfSafe(candidate.repo, candidate.branch));
          return { candidate, done: true, ...(branchKept ? { skipped: `branch ${candidate.branch} has commits of its own and was kept` } : {}) };
        });
      }
    }
  }

  private rememberRepository(repo: string): void {
    const known = this.knownRepositories();
    if (known.includes(repo)) return;
    const file = path.join(this.options.dataFolder, REPOSITORIES_FILE);
    fs.mkdirSync(this.options.dataFolder, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify([...known, repo], null, 2) + '\n');
    fs.renameSync(temporary, file);
  }

  private knownRepositories(): string[] {
    try {
      const value = JSON.parse(fs.readFileSync(path.join(this.options.dataFolder, REPOSITORIES_FILE), 'utf8')) as unknown;
      return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
    } catch {
      return [];
    }
  }

  // ---- memory ----------------------------------------------------------------------------------

  private armMemoryCheck(): void {
    if (this.disposed || !this.options.supervise) return;
    this.memoryTimer = setTimeout(() => {
      this.memoryTimer = undefined;
      void this.checkMemory()
        .catch((error) => this.log.warn(`Reading agents' memory failed: ${(error as Error).message}`))
        .finally(() => this.armMemoryCheck());
    }, this.options.memoryCheckMs ?? DEFAULT_MEMORY_CHECK_MS);
  }

  private async checkMemory(): Promise<void> {
    const limited = [...this.agents.values()].filter((agent) => agent.record.limits?.memoryWarnBytes || agent.record.limits?.memoryStopBytes);
    if (limited.length === 0) return;
    const table = await readProcessTable();
    const panes = new Map(allPanes(this.tmux.tree()).map((pane) => [pane.id as string, pane]));
    const children = new Map<number, number[]>();
    for (const info of table.processes.values()) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info.pid]);
    for (const agent of limited) {
      const name = agent.record.session;
      const handle = this.supervisor.has(name) ? this.supervisor.status(name).handle : undefined;
      const pane = handle ? panes.get(handle) : undefined;
      if (!pane || pane.dead) continue;
      let rss = 0;
      const stack = [pane.pid];
      while (stack.length > 0) {
        const pid = stack.pop()!;
        rss += table.processes.get(pid)?.rssBytes ?? 0;
        stack.push(...(children.get(pid) ?? []));
      }
      const { memoryWarnBytes, memoryStopBytes } = agent.record.limits ?? {};
      if (memoryStopBytes && rss > memoryStopBytes) {
        agent.note = `stopped: its processes used ${megabytes(rss)} of memory, over the ${megabytes(memoryStopBytes)} limit`;
        this.log.warn(`Agent ${name}: ${agent.note}`);
        this.changeEmitter.fire();
        await this.supervisor.down([name]);
      } else if (memoryWarnBytes && rss > memoryWarnBytes && !agent.memoryWarned) {
        agent.memoryWarned = true;
        agent.note = `uses ${megabytes(rss)} of memory, over the ${megabytes(memoryWarnBytes)} warning`;
        this.log.warn(`Agent ${name}: ${agent.note}`);
        this.changeEmitter.fire();
      }
    }
  }

  // ---- the record of supervision ---------------------------------------------------------------

  private scheduleSave(name: string): void {
    if (this.disposed) return;
    if (this.saving.has(name)) {
      this.saveAgain.add(name);
      return;
    }
    const save = (async () => {
      try {
        do {
          this.saveAgain.delete(name);
          const agent = this.agents.get(name);
          if (!agent || !this.supervisor.has(name)) return;
          const unit = this.supervisor.record().units[name];
          if (!unit) return;
          const saved = { version: RECORD_VERSION, savedAt: Date.now(), units: { [name]: unit }, since: agent.since };
          await this.tmux.run(['set-option', '-t', agent.sessionId, AGENT_SUPERVISION_OPTION, JSON.stringify(saved)]).catch(() => undefined);
        } while (this.saveAgain.has(name) && !this.disposed);
      } finally {
        this.saving.delete(name);
      }
    })();
    this.saving.set(name, save);
  }

  /** Resolves once every record change is written to tmux (tests, and before a reload). */
  async flush(): Promise<void> {
    while (this.saving.size > 0) await Promise.all([...this.saving.values()]);
  }

  // ---- small things ----------------------------------------------------------------------------

  private agentNamed(session: string): Agent {
    const agent = this.agents.get(session);
    if (!agent) {
      const known = [...this.agents.keys()];
      throw new AgentFleetError(`No agent session is named "${session}"${known.length ? `; agents: ${known.join(', ')}` : '; none runs'}.`);
    }
    return agent;
  }

  private runningPane(session: string): string {
    const handle = this.supervisor.status(session).handle;
    if (!handle) throw new AgentFleetError(`"${session}" is not running (${this.watcher.state(session).state}); Retry starts it again.`);
    return handle;
  }

  private readerOf(kind: AgentKind): InputBoxReader | undefined {
    return this.options.inputBoxReaders?.[kind.name] ?? inputBoxReaders[kind.name];
  }

  /** Without an input box reader, the agent's own UserPromptSubmit (its state turning to working) confirms the send. */
  private receiptOf(agent: Agent): ReceiptCheck | undefined {
    if (agent.kind.hooks === 'none' || agent.kind.hooks === 'aider-notifications' || agent.kind.hooks === 'codex-notify') return undefined;
    const name = agent.record.session;
    return ({ signal }) =>
      new Promise<'submitted' | 'queued'>((resolve, reject) => {
        const subscription = this.watcher.onDidChangeState((event) => {
          if (event.agent !== name || event.state.state !== 'working') return;
          subscription.dispose();
          resolve('submitted');
        });
        signal.addEventListener(
          'abort',
          () => {
            subscription.dispose();
            reject(new Error('cancelled'));
          },
          { once: true },
        );
      });
  }

  private opener(): OutputOpener {
    return this.tmux.output ?? this.hub!.open;
  }

  private later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.disposed) work();
    }, ms);
    this.timers.add(timer);
  }

  /** Lets go of the agents without stopping any (a window closing or reloading): their records stay in tmux. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.memoryTimer) clearTimeout(this.memoryTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.watcher?.dispose();
    this.supervisor?.dispose();
    this.driver?.dispose();
    void this.hub?.dispose();
    void this.ownService?.dispose();
    this.changeEmitter.dispose();
    this.transitionEmitter.dispose();
  }
}

type AgentRecord_ = StoredAgentRecord;

function parseSaved(text: string | undefined, name: string): { unit: UnitRecord; since?: number } | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as SupervisionRecord & { since?: number };
    const unit = value?.units?.[name];
    if (!unit) return undefined;
    return { unit, ...(typeof value.since === 'number' ? { since: value.since } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * What, in the tree, tells that agents may have come or gone: the sessions, and each one's panes
 * and their processes. A new agent's record is set just after its session is made, so the session
 * alone could be seen before its record; its program starting (a new pane process) comes after.
 */
function sessionKey(tree: Tree): string {
  return tree.sessions
    .map((session) => `${session.id}=${session.windows.flatMap((window) => window.panes.map((pane) => `${pane.id}/${pane.pid}`)).join(',')}`)
    .sort()
    .join(';');
}

/** The session name from the pattern: `{kind}`/`{agent}` the kind, `{task}`/`{story}` the task, `{n}` the 1-based index. */
export function sessionNameFor(pattern: string, kind: string, task: string, n: number): string {
  return pattern.replace(/\{(kind|agent|task|story|n)\}/g, (_all, key: string) => (key === 'kind' || key === 'agent' ? kind : key === 'n' ? String(n) : task));
}

function limitsProblem(limits: AgentLimits | undefined): void {
  if (!limits) return;
  for (const [key, value] of Object.entries(limits)) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new InvalidInputError(`The agent limit "${key}" must be a number, 0 or more; got ${JSON.stringify(value)}.`);
    }
  }
}

function messageOf(state: AgentState): string | undefined {
  switch (state.state) {
    case 'waiting':
      return state.message ?? (state.tool ? `permission to use ${state.tool}` : undefined);
    case 'failed':
      return state.crash ?? state.message;
    case 'recovering':
      return state.reason;
    default:
      return undefined;
  }
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

function real(folder: string): string {
  try {
    return fs.realpathSync(folder);
  } catch {
    // Gone: its parent may still resolve (a /tmp that is a link).
    try {
      return path.join(fs.realpathSync(path.dirname(folder)), path.basename(folder));
    } catch {
      return path.resolve(folder);
    }
  }
}

/** Only for a spawn's own rollback: the worktree it made moments ago goes whatever is in it. */
async function forceRemoveWorktree(repo: string, folder: string): Promise<void> {
  const { execa } = await import('execa');
  await execa('git', ['-C', repo, 'worktree', 'remove', '--force', '--force', folder], { reject: false });
  if (fs.existsSync(folder)) fs.rmSync(folder, { recursive: true, force: true });
  await execa('git', ['-C', repo, 'worktree', 'prune'], { reject: false });
  try {
    fs.rmdirSync(path.dirname(folder));
  } catch {
    // Other worktrees are still there.
  }
}

export { GitError };
