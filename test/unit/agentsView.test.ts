import * as assert from 'node:assert/strict';
import type { AgentInfo, AgentRecord } from '../../src/core/agents/fleet';
import type { AgentState } from '../../src/core/agents/state';
import { candidateKey, candidateLabel, contextValue, duration, NOTIFYING_STATES, parseTasks, rowDescription, stateText, tooltipLines, transitionMessage } from '../../src/vscode/agents/describe';

const RECORD: AgentRecord = {
  session: 'claude-fix-login',
  kind: 'claude',
  task: 'fix-login',
  cwd: '/home/ann/src/shop-agents/fix-login',
  repo: '/home/ann/src/shop',
  worktree: '/home/ann/src/shop-agents/fix-login',
  branch: 'agent/fix-login',
  baseBranch: 'main',
  createdAt: 0,
};

function agent(state: AgentState, extra: Partial<AgentInfo> = {}): AgentInfo {
  return { record: RECORD, pane: '%7', state, since: 1_000_000, ...extra };
}

/** The menu flags a row's contextValue carries, as package.json's `viewItem =~ /\.flag\b/` reads them. */
function actions(info: AgentInfo, canAnswer = true): string[] {
  const value = contextValue(info, canAnswer);
  return ['focus', 'send', 'interrupt', 'answer', 'retry', 'finish'].filter((flag) => new RegExp(`\\.${flag}\\b`).test(value));
}

describe('Agents view: what a row says', () => {
  it('a waiting agent reads "waiting: permission Bash · 2 min · its branch"', () => {
    const info = agent({ state: 'waiting', reason: 'permission', tool: 'Bash', message: 'Claude needs your permission to use Bash' });
    assert.equal(rowDescription(info, 1_000_000 + 125_000), 'waiting: permission Bash · 2 min · agent/fix-login');
  });

  it('each state names its reason', () => {
    assert.equal(stateText({ state: 'working', tool: 'Edit' }), 'working: Edit');
    assert.equal(stateText({ state: 'waiting', reason: 'question' }), 'waiting: a question');
    assert.equal(stateText({ state: 'waiting', reason: 'blocked' }), 'waiting: login or usage limit');
    assert.equal(stateText({ state: 'failed', message: 'exited with code 3', exitCode: 3 }), 'failed: exit 3');
    assert.equal(stateText({ state: 'failed', message: 'turn failed', error: 'rate_limit' }), 'failed: rate_limit');
    assert.equal(stateText({ state: 'timedOut', afterMs: 1_800_000 }), 'timed out after 30 min');
    assert.equal(stateText({ state: 'recovering', attempt: 2, at: 0, reason: 'exit 1' }), 'recovering (retry 2)');
    assert.equal(stateText({ state: 'idle', interrupted: true }), 'idle (interrupted)');
  });

  it('time in state is short: seconds, minutes, hours, days', () => {
    assert.deepEqual([duration(9_000), duration(61_000), duration(7_300_000), duration(86_400_000), duration(3 * 86_400_000)], ['9 s', '1 min', '2 h', '1 day', '3 days']);
  });

  it('the tooltip gives kind, session, worktree (home as ~), branch and the last message', () => {
    const text = tooltipLines(agent({ state: 'waiting', reason: 'permission', tool: 'Bash' }, { lastMessage: 'Claude needs your permission to use Bash' }), '/home/ann').join('\n');
    for (const part of ['`claude`', '`claude-fix-login`', '`~/src/shop-agents/fix-login`', '`agent/fix-login`', '`main`', 'permission to use Bash']) {
      assert.ok(text.includes(part), `tooltip lacks ${part}:\n${text}`);
    }
  });

  it('a failed agent\'s tooltip gives its exit and the crash line', () => {
    const text = tooltipLines(agent({ state: 'failed', message: 'exited with code 1', exitCode: 1, crash: 'panicked at src/main.rs:3:5' })).join('\n');
    assert.match(text, /exit: exit code 1/);
    assert.match(text, /panicked at src\/main\.rs/);
  });
});

describe('Agents view: actions only where they apply', () => {
  it('a working agent: focus, send, interrupt, finish; no retry, no approve', () => {
    assert.deepEqual(actions(agent({ state: 'working' })), ['focus', 'send', 'interrupt', 'finish']);
  });

  it('approve and deny show only for a permission wait of a kind that can be answered by keys', () => {
    const asking = agent({ state: 'waiting', reason: 'permission', tool: 'Bash' });
    assert.ok(actions(asking, true).includes('answer'));
    assert.ok(!actions(asking, false).includes('answer'));
    assert.ok(!actions(agent({ state: 'waiting', reason: 'question' }), true).includes('answer'));
  });

  it('retry shows for failed, timed out, done and stopped agents, which take no prompt', () => {
    for (const state of [{ state: 'failed', message: 'x' }, { state: 'timedOut', afterMs: 1 }, { state: 'done' }, { state: 'stopped' }] as AgentState[]) {
      assert.deepEqual(actions(agent(state, { pane: undefined })), ['retry', 'finish'], state.state);
    }
  });
});

describe('Agents notifications', () => {
  it('notify on waiting, done, failed, timed out and stalled only', () => {
    assert.deepEqual([...NOTIFYING_STATES].sort(), ['done', 'failed', 'stalled', 'timedOut', 'waiting']);
  });

  it('a permission notification names the agent, the tool and what it asked', () => {
    const message = transitionMessage(agent({ state: 'waiting', reason: 'permission', tool: 'Bash' }, { lastMessage: 'Run rm -rf build?' }));
    assert.equal(message, 'Agent "claude-fix-login" asks permission to use Bash: Run rm -rf build?');
  });

  it('the agent\'s words are left out when they only repeat the sentence', () => {
    const message = transitionMessage(agent({ state: 'waiting', reason: 'permission', tool: 'Bash' }, { lastMessage: 'permission to use Bash' }));
    assert.equal(message, 'Agent "claude-fix-login" asks permission to use Bash');
  });
});

describe('Spawn Agents: the tasks a user types', () => {
  it('a number gives task-1 … task-N', () => {
    assert.deepEqual(parseTasks(' 3 '), { tasks: ['task-1', 'task-2', 'task-3'] });
  });

  it('names separated by commas or line breaks', () => {
    assert.deepEqual(parseTasks('fix-login, add-tests\ndocs,'), { tasks: ['fix-login', 'add-tests', 'docs'] });
  });

  it('bad input says what to fix', () => {
    for (const [text, said] of [['', /Type task names/], ['0', /from 1 to 50/], ['fix login', /cannot be a task name/], ['a:b', /cannot be a task name/], ['x, x', /listed twice/]] as const) {
      const parsed = parseTasks(text);
      assert.ok('problem' in parsed, text);
      assert.match(parsed.problem, said);
    }
  });
});

describe('Clean Up Agents: candidates', () => {
  it('keys are stable and labels say when changes keep a worktree', () => {
    const candidate = { kind: 'worktreeWithoutSession', worktree: '/home/ann/w/x', repo: '/home/ann/src/shop', branch: 'agent/x', dirty: true, reason: 'no session uses it' } as const;
    assert.equal(candidateKey(candidate), 'worktreeWithoutSession:/home/ann/w/x');
    assert.equal(candidateLabel(candidate, '/home/ann'), 'worktree ~/w/x (agent/x) — has changes, kept');
  });
});
