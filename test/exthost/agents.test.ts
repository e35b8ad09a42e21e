import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, eventually, execute, killServer, tmux, tmuxLines } from './helpers';

interface AgentRow {
  readonly session: string;
  readonly task: string;
  readonly state: string;
  readonly text: string;
  readonly pane?: string;
  readonly branch?: string;
  readonly worktree?: string;
  readonly lastMessage?: string;
}

interface Notice {
  readonly session: string;
  readonly state: string;
  readonly message: string;
  readonly suppressed?: string;
}

/** The repository's own fixtures: out/test/exthost → test/fixtures/agents. */
const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'agents');
const KIND = 'scripted';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
}

/**
 * The agents commands driven through vscode.commands.executeCommand in a real VS Code, with stand-in
 * agents (test/fixtures/agents/scripted: a stand-in claude that calls the hooks we inject, as
 * the real one does) in a scratch git repository, checked in tmux and git themselves.
 */
describe('Agents in VS Code: spawn, states, send, finish and clean up through commands', function () {
  this.timeout(90_000);
  const runDir = process.env.TSM_TEST_RUN_DIR ?? '';
  const repo = path.join(runDir, 'agents-repo');
  const scripts = path.join(runDir, 'agents-scripts');
  const config = () => vscode.workspace.getConfiguration('tmuxSessionManager');
  const rows = () => execute<AgentRow[]>('agentStates');
  const row = async (task: string) => (await rows()).find((candidate) => candidate.task === task);
  const notices = () => execute<Notice[]>('agentNotices');
  const session = (task: string) => `${KIND}-${task}`;
  const go = (task: string) => fs.writeFileSync(path.join(scripts, `${session(task)}.go`), '');

  before(async function () {
    assert.ok(runDir, 'TSM_TEST_RUN_DIR is not set: run this suite through test/e2e/run-exthost.mjs');
    await killServer();
    await api();
    // The engine follows a running server (it does not start one to open).
    tmux('new-session', '-d', '-s', 'exthost-agents-base');
    fs.rmSync(repo, { recursive: true, force: true });
    fs.mkdirSync(repo, { recursive: true });
    git(repo, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'README.md'), '# scratch\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'start');
    fs.mkdirSync(scripts, { recursive: true });
    const wait = (task: string) => `wait ${path.join(scripts, `${session(task)}.go`)}`;
    // alpha works, then asks permission for Bash; beta works, then finishes its turn and exits 0;
    // gamma works, goes idle, then takes prompts (each one a turn); a retried gamma resumes.
    fs.writeFileSync(path.join(scripts, `${session('alpha')}.txt`), ['hook SessionStart', 'hook UserPromptSubmit', 'hook PreToolUse', wait('alpha'), 'hook PermissionRequest', 'hook Notification.permission_prompt', 'hang'].join('\n'));
    fs.writeFileSync(path.join(scripts, `${session('beta')}.txt`), ['hook SessionStart', 'hook UserPromptSubmit', wait('beta'), 'hook Stop', 'hook SessionEnd', 'exit 0'].join('\n'));
    fs.writeFileSync(path.join(scripts, `${session('gamma')}.txt`), ['hook SessionStart', 'hook UserPromptSubmit', wait('gamma'), 'hook Stop'].join('\n'));
    fs.writeFileSync(path.join(scripts, `${session('gamma')}.after`), ['hook UserPromptSubmit', 'sleep 300', 'hook Stop'].join('\n'));
    const command = `${path.join(FIXTURES, 'scripted')} ${scripts}`;
    await config().update('agents.customKinds', [{ name: KIND, command, resumeCommand: `${command} --continue`, hooksLike: 'claude' }], vscode.ConfigurationTarget.Workspace);
  });

  after(async function () {
    await config().update('agents.customKinds', undefined, vscode.ConfigurationTarget.Workspace);
    await killServer();
    for (const line of git(repo, 'worktree', 'list', '--porcelain').split('\n')) {
      const folder = line.startsWith('worktree ') ? line.slice(9) : '';
      if (folder && folder !== repo) fs.rmSync(folder, { recursive: true, force: true });
    }
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it('Spawn Agents starts one session per task, each in its own worktree and branch, and the view shows them working', async function () {
    const sessions = await execute<string[] | undefined>('spawnAgents', { kind: KIND, tasks: 'alpha, beta, gamma', folder: repo, worktrees: true, baseBranch: 'main', prompt: '' });
    assert.deepEqual(sessions, ['alpha', 'beta', 'gamma'].map(session), 'Spawn failed (it showed the error and wrote it to the Tmux log)');
    const live = tmuxLines('list-sessions', '-F', '#{session_name}');
    for (const name of sessions!) assert.ok(live.includes(name), `tmux lists ${live.join(', ')}`);
    await eventually('all three working', async () => (await rows()).filter((agent) => agent.state === 'working').length === 3, 20_000);
    const worktrees = git(repo, 'worktree', 'list', '--porcelain');
    for (const agent of await rows()) {
      assert.ok(agent.worktree && fs.existsSync(agent.worktree), `${agent.session} has no worktree folder: ${agent.worktree}`);
      assert.ok(worktrees.includes(`worktree ${agent.worktree}`), `git does not list ${agent.worktree}:\n${worktrees}`);
      assert.ok(agent.branch && worktrees.includes(`branch refs/heads/${agent.branch}`), `git does not list branch ${agent.branch}`);
      assert.equal(tmux('display-message', '-p', '-t', agent.pane!, '#{session_name}').trim(), agent.session, 'the row points at the pane of its own session');
    }
  });

  it('a permission request shows as waiting with its tool and message, notified exactly once', async function () {
    go('alpha');
    await eventually('alpha waiting for permission', async () => (await row('alpha'))?.state === 'waiting', 10_000);
    const alpha = (await row('alpha'))!;
    assert.equal(alpha.text, 'waiting: permission Bash');
    assert.match(alpha.lastMessage ?? '', /permission to use Bash|rm -rf build/);
    // PermissionRequest and the Notification that follows it are one wait: one notification.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const waits = (await notices()).filter((notice) => notice.session === alpha.session && notice.state === 'waiting');
    assert.equal(waits.length, 1, JSON.stringify(waits));
    assert.match(waits[0].message, /^Agent "scripted-alpha" asks permission to use Bash/);
  });

  it('an agent that exits 0 shows as done, notified once', async function () {
    go('beta');
    await eventually('beta done', async () => (await row('beta'))?.state === 'done', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await notices()).filter((notice) => notice.session === session('beta') && notice.state === 'done').length, 1);
  });

  it('Send Prompt reaches the agent: it receives the text once and says submitted', async function () {
    go('gamma');
    await eventually('gamma idle', async () => (await row('gamma'))?.state === 'idle', 10_000);
    const text = 'Add a test for `parse()` and keep $(echo this) as written';
    const result = await execute<{ status: string; message: string } | undefined>('sendPrompt', { session: session('gamma'), text });
    assert.equal(result?.status, 'submitted', JSON.stringify(result));
    const received = path.join(scripts, `${session('gamma')}.received`);
    await eventually('the prompt in the agent', () => fs.existsSync(received), 5000);
    assert.equal(fs.readFileSync(received, 'utf8'), `${text}\n`);
  });

  it('Retry starts a done agent again through its resume command', async function () {
    await execute('retryAgent', session('beta'));
    await eventually('beta running again', async () => ['starting', 'working', 'idle'].includes((await row('beta'))?.state ?? ''), 10_000);
    const command = tmux('display-message', '-p', '-t', (await row('beta'))!.pane!, '#{pane_start_command}');
    assert.match(command, /--continue/);
  });

  it('Finish removes a clean worktree and the session, and the branch that held no commit of its own', async function () {
    const gamma = (await row('gamma'))!;
    const result = await execute<{ worktree: string } | undefined>('finishAgent', { session: gamma.session });
    assert.equal(result?.worktree, 'removed', JSON.stringify(result));
    assert.ok(!tmuxLines('list-sessions', '-F', '#{session_name}').includes(gamma.session), 'the session is gone');
    assert.ok(!fs.existsSync(gamma.worktree!), 'the worktree folder is gone');
    assert.equal(git(repo, 'branch', '--list', gamma.branch!).trim(), '', 'the branch with nothing on it is gone');
    await eventually('the row gone', async () => !(await row('gamma')), 5000);
  });

  it('Finish never deletes a dirty worktree; Clean Up lists it and still keeps it', async function () {
    const alpha = (await row('alpha'))!;
    fs.writeFileSync(path.join(alpha.worktree!, 'work.txt'), 'half done\n');
    const result = await execute<{ worktree: string } | undefined>('finishAgent', { session: alpha.session, ifDirty: 'keep' });
    assert.equal(result?.worktree, 'kept', JSON.stringify(result));
    assert.equal(fs.readFileSync(path.join(alpha.worktree!, 'work.txt'), 'utf8'), 'half done\n');
    assert.ok(!tmuxLines('list-sessions', '-F', '#{session_name}').includes(alpha.session), 'the session is gone');

    const plan = await execute<{ candidates: { key: string; kind: string; reason: string }[] }>('cleanUpAgents', { dryRun: true });
    const key = `worktreeWithoutSession:${alpha.worktree}`;
    assert.ok(plan.candidates.some((candidate) => candidate.key === key), JSON.stringify(plan.candidates));
    const done = await execute<{ outcomes: { done: boolean; skipped?: string }[] }>('cleanUpAgents', { keys: [key] });
    assert.equal(done.outcomes.length, 1);
    assert.equal(done.outcomes[0].done, false, 'a dirty worktree is never removed');
    assert.ok(fs.existsSync(path.join(alpha.worktree!, 'work.txt')));
  });

  it('opening the agents again (a reload, a new kind) offers what is left over, once', async function () {
    const before = (await execute<number[]>('agentLeftoverOffers')).length;
    const kinds = config().get<object[]>('agents.customKinds') ?? [];
    await config().update('agents.customKinds', [...kinds, { name: 'another', command: 'true' }], vscode.ConfigurationTarget.Workspace);
    await eventually('one more offer', async () => (await execute<number[]>('agentLeftoverOffers')).length === before + 1, 10_000);
    const offers = await execute<number[]>('agentLeftoverOffers');
    assert.ok(offers[offers.length - 1] >= 1, JSON.stringify(offers));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await execute<number[]>('agentLeftoverOffers')).length, before + 1, 'offered once');
  });
  it('a profile that declares an agent: Up spawns it after the services, Up again starts nothing twice, Down finishes it', async function () {
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const file = path.join(folder, '.tmux-session.yaml');
    fs.writeFileSync(path.join(scripts, `${session('delta')}.txt`), ['hook SessionStart', 'hook UserPromptSubmit', 'hang'].join('\n'));
    fs.writeFileSync(file, `session: with-agents\nwindows:\n  - panes:\n      - { name: web, command: "exec sleep 300" }\nagents:\n  - { kind: ${KIND}, task: delta, timeout: 1h }\n`);
    try {
      await execute('up');
      const sessions = () => tmuxLines('list-sessions', '-F', '#{session_name}');
      assert.ok(sessions().includes('with-agents') && sessions().includes(session('delta')), sessions().join(', '));
      await eventually('the declared agent working in the Agents view', async () => (await row('delta'))?.state === 'working', 20_000);
      await execute('up');
      assert.equal(sessions().filter((name) => name === session('delta')).length, 1);
      assert.equal((await rows()).filter((agent) => agent.task === 'delta').length, 1, 'one row, no second agent');
      await execute('down');
      await eventually('the agent and the session gone', () => !sessions().some((name) => name === 'with-agents' || name === session('delta')), 20_000);
      await eventually('no row for the agent', async () => !(await row('delta')), 10_000);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
