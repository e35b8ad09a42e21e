import type { Disposable } from '../../tmux/emitter';
import type { ServerAddress } from '../../tmux/server';
import type { Logger } from '../../tmux/log';
import type { AgentKind } from './kinds';
import type { AgentState } from './state';
import type { SendResult } from './send';
import type { Event } from '../../tmux/emitter';
import type { Runner } from '../../tmux/commands';
import type { Tree } from '../../tmux/model';
import type { OutputOpener } from '../output/outputHub';
import type { KillTimings } from '../kill';
import type { InputBoxReader } from './inputBox';

/**
 * The agents one tmux server runs, as the Agents view, its commands and the command-line tool see
 * them: spawn, follow, talk to, finish and clean up. One AgentFleet per window and server; it owns
 * the supervisor of the agents' units, their state watcher and their records (kept in tmux, so a
 * reloaded or second window finds them). Nothing here imports vscode.
 */

/** What an agent's session carries in tmux (a session user option), so that any window can find it again. */
export interface AgentRecord {
  /** The session's name (also the supervisor unit's name). */
  readonly session: string;
  /** The kind's name: claude, codex, gemini, aider, or a custom kind. */
  readonly kind: string;
  /** The task it was given (a short name; the first prompt may say more). */
  readonly task: string;
  /** The agent's working folder: its worktree, or the repository itself. */
  readonly cwd: string;
  /** The repository's top folder, when the agent works in a git repository. */
  readonly repo?: string;
  /** The worktree we created for it (removed by Finish only when clean). */
  readonly worktree?: string;
  /** The branch we created for it in that worktree. */
  readonly branch?: string;
  readonly baseBranch?: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Supervision limits it runs under. */
  readonly limits?: AgentLimits;
}

export interface AgentLimits {
  readonly wallClockTimeoutMs?: number;
  readonly noProgressTimeoutMs?: number;
  readonly stalledAfterMs?: number;
  /** Retries through the resume command; 0: none. */
  readonly retries?: number;
  /** Resident memory of the pane's process tree: warn past it, stop past `memoryStopBytes`. */
  readonly memoryWarnBytes?: number;
  readonly memoryStopBytes?: number;
}

/** One agent as shown: its record, where it runs, and its state. */
export interface AgentInfo {
  readonly record: AgentRecord;
  /** Its pane (`%12`), while it has one. */
  readonly pane?: string;
  readonly state: AgentState;
  /** Epoch milliseconds since when it has been in this state. */
  readonly since: number;
  /** The permission asked, the question, or the last assistant line, when known. */
  readonly lastMessage?: string;
}

export interface SpawnRequest {
  readonly kind: string;
  /** One agent per task; a task is a short name (it goes into the session and branch names). */
  readonly tasks: readonly SpawnTask[];
  /** The repository (or any folder) the agents work in. */
  readonly folder: string;
  /** Give each agent its own git worktree and branch (created from baseBranch). */
  readonly worktrees: boolean;
  readonly baseBranch?: string;
  /** Session name pattern; `{kind}` and `{task}` (also `{agent}`, `{story}`, `{n}`) are filled in. Default `{kind}-{task}`. */
  readonly namePattern?: string;
  readonly limits?: AgentLimits;
}

export interface SpawnTask {
  readonly task: string;
  /** The first prompt, given on the agent's command line. */
  readonly prompt?: string;
}

/** Progress of a spawn, for a progress notification: one line per step. */
export interface SpawnProgress {
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

export interface SpawnResult {
  /** The agents that were started (all of them, or none: a failed or cancelled spawn removes what it made). */
  readonly agents: readonly AgentRecord[];
}

/** How Finish leaves an agent's worktree. */
export type WorktreeChoice = 'removeIfClean' | 'keep' | 'commitThenRemove';

export interface FinishResult {
  readonly session: string;
  /** What happened to its worktree: removed, kept on request, kept because it had changes (with `git status --short` lines), or there was none. */
  readonly worktree: 'removed' | 'kept' | 'keptDirty' | 'none';
  readonly dirty?: readonly string[];
  /** The commit made on the agent's branch first, with commitThenRemove. */
  readonly commit?: string;
}

/** Something Clean Up Agents proposes; nothing happens before the user ticks it. */
export type AgentCleanupCandidate =
  | { readonly kind: 'sessionWithoutWorktree'; readonly session: string; readonly worktree: string; readonly reason: string }
  | { readonly kind: 'worktreeWithoutSession'; readonly worktree: string; readonly repo: string; readonly branch?: string; readonly dirty: boolean; readonly reason: string }
  | { readonly kind: 'doneAgent'; readonly session: string; readonly worktree?: string; readonly dirty: boolean; readonly reason: string };

export interface AgentCleanupOutcome {
  readonly candidate: AgentCleanupCandidate;
  readonly done: boolean;
  /** Why it was left (a dirty worktree is never removed). */
  readonly skipped?: string;
}

/** What an AgentFleet is made from (see openAgentFleet in fleetRuntime.ts). */
export interface AgentFleetOptions {
  readonly address: ServerAddress;
  /** A folder of the extension's (or the CLI's) own, for hook scripts and per-agent settings files. */
  readonly dataFolder: string;
  /** Custom kinds from settings or a profile; the built-in ones are always there. */
  readonly customKinds?: readonly AgentKind[];
  /** The restoreCommands setting: a kind's resume command (shared with snapshots). */
  readonly restoreCommands?: Readonly<Record<string, string>>;
  /** Only the window that holds the server's supervision lock supervises (restarts, timeouts); others only watch. */
  readonly supervise: boolean;
  readonly log?: Logger;
  /** The window's own live connection to the server, shared; without it the fleet opens one of its own (the CLI, tests). */
  readonly tmux?: FleetTmux;
  /** Input box readers by kind name, for custom kinds whose screen is known; the built-in kinds have theirs. */
  readonly inputBoxReaders?: Readonly<Record<string, InputBoxReader>>;
  /** Finish's graceful kill: how long C-c and SIGTERM get. Default 1.5 s and 3 s. */
  readonly kill?: KillTimings;
  /** How often an agent with a memory limit has its process tree's resident memory read. Default 5 s. */
  readonly memoryCheckMs?: number;
}

/** The parts of a TmuxService the fleet uses. */
export interface FleetTmux {
  readonly run: Runner;
  /**
   * Not needed: a spawn makes each session and its record in one tmux command list of its own,
   * which starts the server when none runs. Accepted so that a TmuxService's parts can be passed as they are.
   */
  readonly runStartingServer?: Runner;
  readonly onTree: Event<Tree>;
  readonly tree: () => Tree;
  /** Shares the pane's one output pipe with the window's other readers. */
  readonly output?: OutputOpener;
}

export interface AgentFleet extends Disposable {
  /** Every agent of this server, in session-name order. */
  list(): readonly AgentInfo[];
  get(session: string): AgentInfo | undefined;
  /** Fires on any change the view shows (a state, a new or gone agent). */
  onDidChange(listener: () => void): Disposable;
  /** Fires once per change of an agent's state, for notifications. */
  onDidTransition(listener: (change: { readonly agent: AgentInfo; readonly previous: AgentState }) => void): Disposable;

  /** Worktrees one at a time per repository, sessions in parallel; on failure or cancel, removes what it made, then throws. */
  spawn(request: SpawnRequest, progress?: (step: SpawnProgress) => void, signal?: AbortSignal): Promise<SpawnResult>;
  /** Sends to one agent (sendPrompt: submitted exactly once, or says why not). */
  send(session: string, text: string, signal?: AbortSignal): Promise<SendResult>;
  /** Sends to several at once; one result per session. */
  broadcast(sessions: readonly string[], text: string, signal?: AbortSignal): Promise<ReadonlyMap<string, SendResult>>;
  /** The kind's interrupt keys (C-c, Escape). */
  interrupt(session: string): Promise<void>;
  /** Answers a permission prompt by keys, where the kind allows it; throws a clear error where it does not. */
  answerPermission(session: string, answer: 'approve' | 'deny'): Promise<void>;
  /** Whether answerPermission works for this agent's kind. */
  canAnswerPermission(session: string): boolean;
  /** Starts it again through its resume command (a failed, timed-out, done or stopped agent). */
  retry(session: string): Promise<void>;
  /** Kills the session gracefully; the worktree goes only if clean (or after a commit, when asked). */
  finish(session: string, worktree: WorktreeChoice, signal?: AbortSignal): Promise<FinishResult>;

  /** A dry run: what Clean Up Agents would offer, decided on a fresh reading of tmux, git and the records. */
  planCleanup(options?: { readonly doneForMs?: number }): Promise<readonly AgentCleanupCandidate[]>;
  /** Acts on the ticked candidates, deciding each again first; a dirty worktree is never removed. */
  cleanUp(candidates: readonly AgentCleanupCandidate[], signal?: AbortSignal): Promise<readonly AgentCleanupOutcome[]>;
}
