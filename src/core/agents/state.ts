
import { UnitState } from '../supervision/types';
import { HookEvent } from './hooks';

/**
 * An agent's state: what its own hooks (or, where they are blind, its screen) say it is doing,
 * combined with what the supervisor knows of its process (running, restarting, exited, timed out).
 */

/** Why an agent waits for a person. `blocked`: a login, API key or usage limit screen. */
export type WaitReason = 'permission' | 'question' | 'idlePrompt' | 'blocked';

/** What the agent itself says, carried as the supervisor unit's detail. */
export type AgentActivity =
  /** No hook event and no ready screen yet in this run. */
  | { readonly kind: 'starting' }
  /** At its prompt with nothing to do: ready after a start, or its turn finished (or was interrupted). */
  | { readonly kind: 'idle'; readonly interrupted?: boolean }
  | { readonly kind: 'working'; readonly tool?: string }
  | { readonly kind: 'waiting'; readonly reason: WaitReason; readonly tool?: string; readonly message?: string }
  /** The turn ended with an API error (Claude Code's StopFailure); the process still runs. */
  | { readonly kind: 'turnFailed'; readonly error: string; readonly message?: string }
  /** It said its session ends (SessionEnd); its exit follows. */
  | { readonly kind: 'ending' }
  /** Its process exited; `crash` is the line of the screen that looked like a crash, when one did. */
  | { readonly kind: 'exited'; readonly crash?: string };

/** The state the Agents view shows: one of these, with its reason. */
export type AgentState =
  | { readonly state: 'stopped' }
  | { readonly state: 'starting' }
  | { readonly state: 'working'; readonly tool?: string }
  | { readonly state: 'waiting'; readonly reason: WaitReason; readonly tool?: string; readonly message?: string }
  | { readonly state: 'idle'; readonly interrupted?: boolean }
  | { readonly state: 'stalled'; readonly since: number }
  | { readonly state: 'recovering'; readonly attempt: number; readonly at: number; readonly reason: string }
  | { readonly state: 'stopping' }
  | { readonly state: 'done' }
  | { readonly state: 'failed'; readonly message: string; readonly exitCode?: number | null; readonly signal?: string | null; readonly error?: string; readonly crash?: string }
  | { readonly state: 'timedOut'; readonly afterMs: number };

export type AgentStateName = AgentState['state'];

const PERMISSION_TOOL = /permission to use ([\w.:-]+)/i;

/**
 * The activity after one hook event. Event names differ between kinds and are mapped here in one
 * table; an event this does not know leaves the activity as it was (it still counts as progress).
 */
export function activityAfter(current: AgentActivity, event: HookEvent): AgentActivity {
  switch (event.event) {
    case 'SessionStart':
      // Compaction restarts the session in the middle of a turn: still working.
      if (event.sub === 'compact' && current.kind === 'working') return current;
      return { kind: 'idle' };
    case 'UserPromptSubmit':
    case 'BeforeAgent':
      return { kind: 'working' };
    case 'PreToolUse':
    case 'PostToolUse':
    case 'BeforeTool':
    case 'AfterTool':
      return event.tool ? { kind: 'working', tool: event.tool } : { kind: 'working' };
    case 'PermissionRequest':
      return waiting('permission', event.tool || toolOf(current), event.message);
    case 'Notification':
      switch (event.sub) {
        case 'permission_prompt':
        case 'ToolPermission':
          return waiting('permission', event.tool || PERMISSION_TOOL.exec(event.message)?.[1] || toolOf(current), event.message);
        case 'elicitation_dialog':
          return waiting('question', undefined, event.message);
        case 'idle_prompt':
          return waiting('idlePrompt', undefined, event.message);
        default:
          return current;
      }
    case 'Stop':
    case 'AfterAgent':
    case 'agent-turn-complete':
      return { kind: 'idle' };
    case 'StopFailure':
      return { kind: 'turnFailed', error: event.error || 'unknown', ...(event.message ? { message: event.message } : {}) };
    case 'SessionEnd':
      return { kind: 'ending' };
    default:
      return current;
  }
}

function waiting(reason: WaitReason, tool: string | undefined, message: string): AgentActivity {
  return { kind: 'waiting', reason, ...(tool ? { tool } : {}), ...(message ? { message } : {}) };
}

function toolOf(activity: AgentActivity): string | undefined {
  return activity.kind === 'working' || activity.kind === 'waiting' ? activity.tool : undefined;
}

/** Whether the supervisor should expect progress: only while the agent says it works (or starts). */
export function expectsProgress(activity: AgentActivity): boolean {
  return activity.kind === 'working' || activity.kind === 'starting';
}

/** The state to show, from the process's state (the supervisor's) and the agent's own activity. */
export function agentState(unit: UnitState, activity: AgentActivity | undefined): AgentState {
  switch (unit.phase) {
    case 'stopped':
      return { state: 'stopped' };
    case 'waiting':
    case 'starting':
      return { state: 'starting' };
    case 'stalled':
      return { state: 'stalled', since: unit.since };
    case 'restarting':
      return { state: 'recovering', attempt: unit.attempt, at: unit.at, reason: unit.reason };
    case 'stopping':
      return { state: 'stopping' };
    case 'completed':
      return { state: 'done' };
    case 'timedOut':
      return { state: 'timedOut', afterMs: unit.afterMs };
    case 'failed': {
      const crash = activity?.kind === 'exited' ? activity.crash : undefined;
      return {
        state: 'failed',
        message: unit.message,
        ...(unit.exit ? { exitCode: unit.exit.code, signal: unit.exit.signal } : {}),
        ...(crash ? { crash } : {}),
      };
    }
    case 'running':
    case 'unhealthy':
      return fromActivity(activity ?? { kind: 'starting' });
  }
}

function fromActivity(activity: AgentActivity): AgentState {
  switch (activity.kind) {
    case 'starting':
      return { state: 'starting' };
    case 'idle':
      return activity.interrupted ? { state: 'idle', interrupted: true } : { state: 'idle' };
    case 'working':
      return activity.tool ? { state: 'working', tool: activity.tool } : { state: 'working' };
    case 'waiting':
      return { state: 'waiting', reason: activity.reason, ...(activity.tool ? { tool: activity.tool } : {}), ...(activity.message ? { message: activity.message } : {}) };
    case 'turnFailed':
      return { state: 'failed', message: `the turn failed: ${activity.error}${activity.message ? ` (${activity.message})` : ''}`, error: activity.error };
    case 'ending':
      return { state: 'stopping' };
    case 'exited':
      return { state: 'stopping' };
  }
}

/** A few words for a person: "waiting for permission to use Bash", "failed: exited 3". */
export function describeAgentState(state: AgentState): string {
  switch (state.state) {
    case 'working':
      return state.tool ? `working (${state.tool})` : 'working';
    case 'waiting':
      switch (state.reason) {
        case 'permission':
          return state.tool ? `waiting for permission to use ${state.tool}` : 'waiting for a permission';
        case 'question':
          return 'waiting for an answer';
        case 'idlePrompt':
          return 'waiting for input';
        case 'blocked':
          return `blocked: ${state.message ?? 'a login or usage limit screen'}`;
      }
      return 'waiting';
    case 'idle':
      return state.interrupted ? 'idle (interrupted)' : 'idle';
    case 'failed':
      return `failed: ${state.message}`;
    case 'timedOut':
      return `timed out after ${Math.round(state.afterMs / 1000)} s`;
    case 'recovering':
      return `recovering (attempt ${state.attempt}: ${state.reason})`;
    case 'stalled':
      return 'stalled (no progress)';
    default:
      return state.state;
  }
}

/**
 * Two states are one transition apart when this differs. A waiting agent's message is not part of
 * it: Claude Code's PermissionRequest and its Notification tell of the same prompt.
 */
export function transitionKey(state: AgentState): string {
  if (state.state === 'waiting') return JSON.stringify({ ...state, message: undefined });
  return JSON.stringify(state);
}

