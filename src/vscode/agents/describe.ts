import type { AgentCleanupCandidate, AgentInfo } from '../../core/agents/fleet';
import type { AgentState, AgentStateName } from '../../core/agents/state';

/**
 * How an agent reads in the Agents view, as plain text (no vscode import, so it is unit-tested
 * without a workbench): the state with its reason, how long it has been so, and which actions
 * its row offers.
 */

/** "12 s", "3 min", "2 h", "4 days": short enough for a row's description. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  const days = Math.floor(seconds / 86_400);
  return `${days} day${days === 1 ? '' : 's'}`;
}

const WAIT_REASON: Record<string, string> = {
  permission: 'permission',
  question: 'a question',
  idlePrompt: 'your next prompt',
  blocked: 'login or usage limit',
};

/** The state with its reason: "working: Bash", "waiting: permission Bash", "failed: exit 1". */
export function stateText(state: AgentState): string {
  switch (state.state) {
    case 'working':
      return state.tool ? `working: ${state.tool}` : 'working';
    case 'waiting':
      return `waiting: ${WAIT_REASON[state.reason] ?? state.reason}${state.reason === 'permission' && state.tool ? ` ${state.tool}` : ''}`;
    case 'idle':
      return state.interrupted ? 'idle (interrupted)' : 'idle';
    case 'failed':
      return `failed: ${failureReason(state)}`;
    case 'timedOut':
      return `timed out after ${duration(state.afterMs)}`;
    case 'recovering':
      return `recovering (retry ${state.attempt})`;
    case 'stalled':
      return 'stalled: no progress';
    default:
      return state.state;
  }
}

function failureReason(state: Extract<AgentState, { state: 'failed' }>): string {
  if (state.error) return state.error;
  if (state.signal) return `killed by ${state.signal}`;
  if (typeof state.exitCode === 'number') return `exit ${state.exitCode}`;
  return state.message;
}

/** The row's description: "waiting: permission Bash · 2 min · agent/fix-login". */
export function rowDescription(agent: AgentInfo, now = Date.now()): string {
  const parts = [stateText(agent.state), duration(now - agent.since)];
  if (agent.record.branch) parts.push(agent.record.branch);
  return parts.join(' · ');
}

/** What the state asks of the user: notifications fire on transitions into these. */
export const NOTIFYING_STATES: ReadonlySet<AgentStateName> = new Set(['waiting', 'done', 'failed', 'timedOut', 'stalled']);

/** The sentence of a notification about an agent that entered a notifying state. */
export function transitionMessage(agent: AgentInfo): string {
  const name = `Agent "${agent.record.session}"`;
  const state = agent.state;
  // The agent's own words, unless they only repeat what the sentence already says.
  const said = (sentence: string) => {
    const message = agent.lastMessage ? oneLine(agent.lastMessage, 160) : '';
    return message && !sentence.toLowerCase().includes(message.toLowerCase()) ? `${sentence}: ${message}` : sentence;
  };
  switch (state.state) {
    case 'waiting':
      if (state.reason === 'permission') return said(`${name} asks permission${state.tool ? ` to use ${state.tool}` : ''}`);
      if (state.reason === 'question') return said(`${name} has a question`);
      if (state.reason === 'blocked') return said(`${name} is blocked by a login or usage-limit screen`);
      return said(`${name} is waiting for your next prompt`);
    case 'done':
      return said(`${name} is done`);
    case 'failed':
      return `${name} failed: ${state.message}`;
    case 'timedOut':
      return `${name} timed out after ${duration(state.afterMs)} and was stopped.`;
    case 'stalled':
      return `${name} has made no progress for a while though it says it is working.`;
    default:
      return `${name} is ${stateText(state)}`;
  }
}

/** States Retry applies to: the agent no longer runs. */
const RETRYABLE: ReadonlySet<AgentStateName> = new Set(['failed', 'timedOut', 'done', 'stopped']);
/** States in which the agent's process runs and takes input. */
const RUNNING: ReadonlySet<AgentStateName> = new Set(['starting', 'working', 'waiting', 'idle', 'stalled', 'recovering']);

/**
 * The row's contextValue: `agent` followed by one `.flag` per action that applies, so package.json
 * menus match with a regex (`viewItem =~ /\.send\b/`) and show only what works on this row.
 */
export function contextValue(agent: AgentInfo, canAnswerPermission: boolean): string {
  const state = agent.state;
  const flags = ['agent', `state-${state.state}`];
  if (agent.pane) flags.push('focus');
  if (RUNNING.has(state.state) && agent.pane) flags.push('send', 'interrupt');
  if (state.state === 'waiting' && state.reason === 'permission' && canAnswerPermission) flags.push('answer');
  if (RETRYABLE.has(state.state)) flags.push('retry');
  flags.push('finish');
  return flags.join('.');
}

/** The tooltip as Markdown lines (the view wraps it in a MarkdownString). */
export function tooltipLines(agent: AgentInfo, home?: string): string[] {
  const record = agent.record;
  const shortPath = (value: string) => (home && (value === home || value.startsWith(home + '/')) ? '~' + value.slice(home.length) : value);
  const lines = [`**${escapeMarkdown(record.task)}** — ${escapeMarkdown(stateText(agent.state))}`, ''];
  lines.push(`kind: \`${record.kind}\` · session: \`${record.session}\`${agent.pane ? ` · pane \`${agent.pane}\`` : ''}`);
  if (record.worktree) lines.push(`worktree: \`${shortPath(record.worktree)}\``);
  else lines.push(`folder: \`${shortPath(record.cwd)}\``);
  if (record.branch) lines.push(`branch: \`${record.branch}\`${record.baseBranch ? ` (from \`${record.baseBranch}\`)` : ''}`);
  if (agent.lastMessage) lines.push('', `> ${escapeMarkdown(oneLine(agent.lastMessage, 400))}`);
  const state = agent.state;
  if (state.state === 'failed') {
    const exit = [typeof state.exitCode === 'number' ? `exit code ${state.exitCode}` : undefined, state.signal ? `signal ${state.signal}` : undefined, state.error ? `error ${state.error}` : undefined].filter(Boolean).join(', ');
    lines.push('', `exit: ${escapeMarkdown(exit || state.message)}`);
    if (state.crash) lines.push('', '```', state.crash, '```');
  }
  // Markdown joins single line breaks; a blank line between rows keeps them apart.
  return lines.flatMap((line, index) => (index > 0 && line !== '' && lines[index - 1] !== '' ? ['', line] : [line]));
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_{}[\]<>#|])/g, '\\$1');
}

/** A candidate's stable key (what the Clean Up pick and scripts name it by). */
export function candidateKey(candidate: AgentCleanupCandidate): string {
  return candidate.kind === 'worktreeWithoutSession' ? `${candidate.kind}:${candidate.worktree}` : `${candidate.kind}:${candidate.session}`;
}

/** The pick's label for a candidate. */
export function candidateLabel(candidate: AgentCleanupCandidate, home?: string): string {
  const shortPath = (value: string) => (home && value.startsWith(home + '/') ? '~' + value.slice(home.length) : value);
  switch (candidate.kind) {
    case 'sessionWithoutWorktree':
      return `session ${candidate.session}`;
    case 'worktreeWithoutSession':
      return `worktree ${shortPath(candidate.worktree)}${candidate.branch ? ` (${candidate.branch})` : ''}${candidate.dirty ? ' — has changes, kept' : ''}`;
    case 'doneAgent':
      return `agent ${candidate.session}${candidate.dirty ? ' — worktree has changes, kept' : ''}`;
  }
}

/**
 * The tasks the user typed: a number N gives task-1 … task-N; otherwise names separated by
 * commas or line breaks. Returns a sentence saying what to fix when the text is unusable.
 */
export function parseTasks(text: string): { tasks: string[] } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { problem: 'Type task names separated by commas (fix-login, add-tests), or a number for task-1 … task-N.' };
  if (/^\d+$/.test(trimmed)) {
    const count = Number(trimmed);
    if (count < 1 || count > 50) return { problem: 'Give a number from 1 to 50.' };
    return { tasks: Array.from({ length: count }, (_, index) => `task-${index + 1}`) };
  }
  const tasks = trimmed.split(/[,\n]/).map((task) => task.trim()).filter((task) => task !== '');
  const bad = tasks.find((task) => !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(task) || task.includes('..') || task.endsWith('.'));
  if (bad) return { problem: `"${bad}" cannot be a task name: use letters, digits, "-", "_" and "." (it becomes part of the session and branch names).` };
  const seen = new Set<string>();
  const twice = tasks.find((task) => (seen.has(task) ? true : (seen.add(task), false)));
  if (twice) return { problem: `"${twice}" is listed twice; each agent needs its own task name.` };
  return { tasks };
}
