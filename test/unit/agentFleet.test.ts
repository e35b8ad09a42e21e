import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { AgentFleet, AgentFleetOptions, SpawnProgress } from '../../src/core/agents/fleet';
import { openAgentFleet } from '../../src/core/agents/fleetRuntime';
import { standinReader } from '../../src/core/agents/inputBox';
import { AgentKind, customKind } from '../../src/core/agents/kinds';
import { describeAgentState } from '../../src/core/agents/state';
import { worktreeChanges } from '../../src/core/agents/worktrees';
import { STANDINS } from './helpers/agents';
import { STANDIN_TUI } from './helpers/standinTui';
import { eventually } from './helpers/tmux';

/**
 * The agents engine end to end: real tmux on a private server, real git in a scratch repository,
 * and the stand-in agents (test/fixtures/agents) as the agents' programs, run through custom kinds.
 */
describe('agent fleet', function () {
  this.timeout(60_000);
  const saved: Record<string, string | undefined> = {};
  let root: string;
  let socket: string;
  let repo: string;
  let dataFolder: string;
  let startLog: string;
  const fleets: AgentFleet[] = [];

  before(function () {
    for (const [name, value] of Object.entries({
      SHELL: '/bin/sh',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    })) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  after(function () {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  beforeEach(function () {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-fleet-')));
    socket = path.join(root, 'sock');
    // The server's own settings: no user config, a plain shell in every pane.
    tmux('new-session', '-d', '-s', 'keep', '-x', '120', '-y', '40', 'exec sleep 100000', ';', 'set-option', '-g', 'default-shell', '/bin/sh');
    repo = path.join(root, 'repo');
    fs.mkdirSync(repo);
    git(repo, 'init', '--quiet', '--initial-branch=main');
    fs.writeFileSync(path.join(repo, 'README.md'), 'scratch\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '--quiet', '-m', 'start');
    dataFolder = path.join(root, 'data');
    startLog = path.join(root, 'starts.log');
    fs.writeFileSync(startLog, '');
  });

  afterEach(async function () {
    for (const fleet of fleets.splice(0)) fleet.dispose();
    try {
      tmux('kill-server');
    } catch {
      // Already gone (a test killed it).
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    fs.rmSync(root, { recursive: true, force: true });
  });

  function tmux(...args: string[]): string {
    const env: NodeJS.ProcessEnv = { ...process.env, SHELL: '/bin/sh' };
    delete env.TMUX;
    return execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  function git(cwd: string, ...args: string[]): string {
    return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** A custom kind running the Claude stand-in with `scenario` (see standin.js), its starts logged. */
  function standIn(scenario: readonly string[], name = 'stand-in'): AgentKind {
    const file = path.join(root, `${name}.scenario`);
    fs.writeFileSync(file, scenario.join('\n') + '\n');
    const run = `env TSM_AGENT_SCENARIO=${file} TSM_AGENT_LOG=${startLog} ${process.execPath} ${path.join(STANDINS, 'standin.js')} claude`;
    return customKind({ name, command: run, resumeCommand: `${run} --continue`, hooksLike: 'claude' });
  }

  async function open(kinds: AgentKind[], extra: Partial<AgentFleetOptions> = {}): Promise<AgentFleet> {
    const fleet = await openAgentFleet({ address: { tmuxPath: 'tmux', socketPath: socket }, dataFolder, customKinds: kinds, supervise: true, kill: { interruptWaitMs: 300, terminateWaitMs: 1000 }, ...extra });
    fleets.push(fleet);
    return fleet;
  }

  const starts = () =>
    fs
      .readFileSync(startLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)) as string[]);
  const sessions = () => tmux('list-sessions', '-F', '#{session_name}').split('\n').filter(Boolean).sort();
  const branches = () => git(repo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').split('\n').filter(Boolean).sort();
  const worktreeFolders = () => {
    const root_ = path.join(root, 'repo.worktrees');
    return fs.existsSync(root_) ? fs.readdirSync(root_).sort() : [];
  };
  const stateOf = (fleet: AgentFleet, session: string) => {
    const info = fleet.get(session);
    return info ? describeAgentState(info.state) : 'gone';
  };
  const until = (fleet: AgentFleet, session: string, state: string, ms = 10_000) =>
    eventually(`${session} to be ${state} (is ${stateOf(fleet, session)})`, () => stateOf(fleet, session) === state, ms);

  it('spawns agents in worktrees of their own, each with its first prompt on its command line, and lists them with their states', async function () {
    const kind = standIn(['hook SessionStart', 'hang']);
    const fleet = await open([kind]);
    const steps: SpawnProgress[] = [];
    const result = await fleet.spawn(
      { kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'api', prompt: 'Fix the API; `x` $(y)' }, { task: 'docs' }, { task: 'ui' }] },
      (step) => steps.push(step),
    );
    assert.deepEqual(
      result.agents.map((agent) => agent.session),
      ['stand-in-api', 'stand-in-docs', 'stand-in-ui'],
    );
    assert.deepEqual(sessions(), ['keep', 'stand-in-api', 'stand-in-docs', 'stand-in-ui']);
    assert.deepEqual(worktreeFolders(), ['stand-in-api', 'stand-in-docs', 'stand-in-ui']);
    assert.deepEqual(branches(), ['agent/stand-in-api', 'agent/stand-in-docs', 'agent/stand-in-ui', 'main']);
    assert.equal(steps.length, 6);
    assert.deepEqual(steps[steps.length - 1].done, 6);
    for (const name of ['stand-in-api', 'stand-in-docs', 'stand-in-ui']) await until(fleet, name, 'idle');
    const api = fleet.get('stand-in-api')!;
    assert.equal(api.record.cwd, path.join(root, 'repo.worktrees', 'stand-in-api'));
    assert.equal(api.record.branch, 'agent/stand-in-api');
    assert.equal(api.record.baseBranch, 'main');
    assert.match(api.pane ?? '', /^%\d+$/);
    // The agent is its pane's own process, running in its worktree.
    assert.equal(tmux('display-message', '-p', '-t', api.pane!, '#{pane_current_path}').trim(), api.record.cwd);
    const apiStart = starts().find((args) => args.includes('Fix the API; `x` $(y)'));
    assert.ok(apiStart, `the first prompt is an argument of its own: ${JSON.stringify(starts())}`);
    assert.ok(apiStart.includes('--settings'), 'hooks are injected');
    assert.equal(starts().length, 3);
    // The record is in tmux, for any other window.
    const stored = JSON.parse(tmux('show-options', '-t', 'stand-in-api', '-v', '@tmux-session-manager-agent-session').trim());
    assert.equal(stored.task, 'api');
  });

  it('refuses bad names and taken sessions before making anything', async function () {
    const fleet = await open([standIn(['hang'])]);
    await assert.rejects(fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'v1.2' }] }), /"\." or ":"/);
    await assert.rejects(fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'a' }, { task: 'a' }] }), /same session name/);
    await assert.rejects(fleet.spawn({ kind: 'nope', folder: repo, worktrees: true, tasks: [{ task: 'a' }] }), /No agent kind is named "nope"/);
    await assert.rejects(fleet.spawn({ kind: 'stand-in', folder: root, worktrees: true, tasks: [{ task: 'a' }] }), /not in a git repository/);
    await assert.rejects(fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'keep' }], namePattern: '{task}' }), /already exists/);
    assert.deepEqual(sessions(), ['keep']);
    assert.deepEqual(worktreeFolders(), []);
    assert.deepEqual(branches(), ['main']);
    assert.equal(starts().length, 0);
  });

  it('names sessions from a pattern with {agent}, {story} and {n}', async function () {
    const fleet = await open([standIn(['hook SessionStart', 'hang'])]);
    const result = await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: false, namePattern: 'bmad-{agent}-{story}-{n}', tasks: [{ task: '1-1' }, { task: '1-2' }] });
    assert.deepEqual(
      result.agents.map((agent) => agent.session),
      ['bmad-stand-in-1-1-1', 'bmad-stand-in-1-2-2'],
    );
    assert.equal(result.agents[0].cwd, repo);
    assert.equal(result.agents[0].worktree, undefined);
  });

  it('sends a prompt that the stand-in TUI takes exactly once, byte for byte', async function () {
    const tuiLog = path.join(root, 'tui.log');
    fs.writeFileSync(tuiLog, '');
    const tui = customKind({ name: 'tui', command: `${process.execPath} ${STANDIN_TUI} --ignore-ms 0 --log ${tuiLog}`, interruptKeys: ['C-c'] });
    const fleet = await open([tui], { inputBoxReaders: { tui: standinReader } });
    await fleet.spawn({ kind: 'tui', folder: repo, worktrees: false, tasks: [{ task: 'one' }] });
    await eventually('the TUI to draw its box', () => tmux('capture-pane', '-p', '-t', 'tui-one').includes('›'), 10_000);
    const text = 'line one\n\tline two with `ticks` and $(dollar)\n';
    const result = await fleet.send('tui-one', text);
    assert.equal(result.status, 'submitted', result.message);
    const taken = fs.readFileSync(tuiLog, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { sha256: string });
    assert.equal(taken.length, 1);
    assert.equal(taken[0].sha256, createHash('sha256').update(text).digest('hex'));
    await assert.rejects(fleet.send('nobody', 'x'), /No agent session is named "nobody"/);
    assert.equal(fleet.canAnswerPermission('tui-one'), false);
    await assert.rejects(fleet.answerPermission('tui-one', 'approve'), /cannot be answered by keys/);
  });

  it('answers a permission by keys only while the agent asks for one', async function () {
    const gate = path.join(root, 'ask');
    const fleet = await open([standIn(['hook SessionStart', `wait ${gate}`, 'hook PermissionRequest', 'hang'])]);
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: false, tasks: [{ task: 'x' }] });
    await until(fleet, 'stand-in-x', 'idle');
    // A kind that borrows Claude Code's hooks answers as Claude Code does.
    assert.equal(fleet.canAnswerPermission('stand-in-x'), true);
    await assert.rejects(fleet.answerPermission('stand-in-x', 'approve'), /not asking for a permission \(it is idle\)/);
    fs.writeFileSync(gate, '');
    await until(fleet, 'stand-in-x', 'waiting for permission to use Bash');
    assert.equal(fleet.get('stand-in-x')!.lastMessage, 'permission to use Bash');
    await fleet.answerPermission('stand-in-x', 'deny');
  });

  it('retries through the resume command, and a second fleet adopts running agents without starting them again', async function () {
    const kind = standIn(['hook SessionStart', 'fresh: exit 3', 'hang']);
    const fleet = await open([kind]);
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'r', prompt: 'first' }] });
    await eventually('the agent to fail', () => fleet.get('stand-in-r')?.state.state === 'failed', 10_000);
    assert.match(fleet.get('stand-in-r')!.lastMessage ?? '', /exited 3/);
    await fleet.retry('stand-in-r');
    await until(fleet, 'stand-in-r', 'idle');
    const [first, second] = starts();
    assert.ok(first.includes('first') && !first.includes('--continue'), JSON.stringify(first));
    assert.ok(second.includes('--continue') && !second.includes('first'), `the retry resumes, without the first prompt again: ${JSON.stringify(second)}`);
    const pane = fleet.get('stand-in-r')!.pane;
    await (fleet as unknown as { flush(): Promise<void> }).flush();
    fleet.dispose();

    const again = await open([kind]);
    await until(again, 'stand-in-r', 'idle');
    assert.equal(again.get('stand-in-r')!.pane, pane);
    assert.equal(again.list().length, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(starts().length, 2, 'adopted, not started again');
  });

  it('a fleet already open sees agents another window spawns and finishes', async function () {
    const kind = standIn(['hook SessionStart', 'hang']);
    const watching = await open([kind], { supervise: false });
    const changes: number[] = [];
    watching.onDidChange(() => changes.push(watching.list().length));
    const spawning = await open([kind]);
    await spawning.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'seen' }] });
    await until(watching, 'stand-in-seen', 'idle');
    assert.equal(watching.get('stand-in-seen')!.record.branch, 'agent/stand-in-seen');
    await spawning.finish('stand-in-seen', 'removeIfClean');
    await eventually('the watching fleet to drop the agent', () => watching.list().length === 0, 10_000);
    assert.ok(changes.includes(1) && changes[changes.length - 1] === 0, JSON.stringify(changes));
    assert.equal(starts().length, 1, 'the watching fleet started nothing');
  });

  it('interrupts with the kind\'s keys', async function () {
    const fleet = await open([standIn(['hook SessionStart', 'hook UserPromptSubmit', 'hang'])]);
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: false, tasks: [{ task: 'i' }] });
    await until(fleet, 'stand-in-i', 'working');
    await fleet.interrupt('stand-in-i');
    // The stand-in takes C-c as a real program does: it ends, by SIGINT.
    await eventually('the agent to end on C-c', () => fleet.get('stand-in-i')?.state.state === 'failed', 10_000);
    assert.match(fleet.get('stand-in-i')!.lastMessage ?? '', /SIGINT|130/);
    await assert.rejects(fleet.interrupt('stand-in-i'), /is not running \(failed\); Retry starts it again/);
  });

  it('applies the limits: a wall-clock timeout, retries through the resume command, and the memory limit', async function () {
    const working = standIn(['hook SessionStart', 'hook UserPromptSubmit', 'hang'], 'worker');
    const fleet = await open([standIn(['hook SessionStart', 'fresh: exit 3', 'hook UserPromptSubmit', 'hang']), working], { memoryCheckMs: 200 });
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: false, tasks: [{ task: 'retried' }], limits: { retries: 2 } });
    await until(fleet, 'stand-in-retried', 'working');
    assert.deepEqual(
      starts().map((args) => args.includes('--continue')),
      [false, true],
    );
    await fleet.spawn({ kind: 'worker', folder: repo, worktrees: false, tasks: [{ task: 'slow' }], limits: { wallClockTimeoutMs: 2000 } });
    await until(fleet, 'worker-slow', 'working');
    await until(fleet, 'worker-slow', 'timed out after 2 s');
    await fleet.spawn({ kind: 'worker', folder: repo, worktrees: false, tasks: [{ task: 'big' }], limits: { memoryStopBytes: 1024 } });
    await until(fleet, 'worker-big', 'stopped');
    assert.match(fleet.get('worker-big')!.lastMessage ?? '', /memory, over the 0 MB limit/);
  });

  it('a fleet that only watches never restarts an agent', async function () {
    const fleet = await open([standIn(['hook SessionStart', 'fresh: exit 3', 'hang'])], { supervise: false });
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: false, tasks: [{ task: 'w' }], limits: { retries: 3 } });
    await eventually('the agent to fail', () => fleet.get('stand-in-w')?.state.state === 'failed', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(starts().length, 1);
  });

  it('finish removes a clean worktree and its branch, and never a dirty one', async function () {
    const kind = standIn(['hook SessionStart', 'hang']);
    const fleet = await open([kind]);
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'clean' }, { task: 'dirty' }, { task: 'commit' }] });
    await until(fleet, 'stand-in-dirty', 'idle');
    const dirtyFolder = fleet.get('stand-in-dirty')!.record.worktree!;
    fs.writeFileSync(path.join(dirtyFolder, 'notes.txt'), 'work in progress\n');
    const commitFolder = fleet.get('stand-in-commit')!.record.worktree!;
    fs.writeFileSync(path.join(commitFolder, 'feature.txt'), 'done\n');

    const clean = await fleet.finish('stand-in-clean', 'removeIfClean');
    assert.deepEqual(clean, { session: 'stand-in-clean', worktree: 'removed' });
    const dirty = await fleet.finish('stand-in-dirty', 'removeIfClean');
    assert.equal(dirty.worktree, 'keptDirty');
    assert.deepEqual(dirty.dirty, ['?? notes.txt']);
    assert.equal(fs.readFileSync(path.join(dirtyFolder, 'notes.txt'), 'utf8'), 'work in progress\n');
    const committed = await fleet.finish('stand-in-commit', 'commitThenRemove');
    assert.equal(committed.worktree, 'removed');
    assert.match(committed.commit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(git(repo, 'show', 'agent/stand-in-commit:feature.txt'), 'done\n');

    assert.deepEqual(sessions(), ['keep']);
    assert.deepEqual(worktreeFolders(), ['stand-in-dirty']);
    // The clean agent's branch had no commit of its own; the committed one keeps its work.
    assert.deepEqual(branches(), ['agent/stand-in-commit', 'agent/stand-in-dirty', 'main']);
    assert.equal(fleet.list().length, 0);
  });

  it('spawns 8 agents with worktrees in parallel, run after run, with no failure', async function () {
    const kind = standIn(['hook SessionStart', 'hang']);
    const fleet = await open([kind]);
    for (let run = 0; run < 3; run++) {
      const tasks = Array.from({ length: 8 }, (_, i) => ({ task: `r${run}-t${i}` }));
      const result = await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks });
      assert.equal(result.agents.length, 8);
      for (const { task } of tasks) await until(fleet, `stand-in-${task}`, 'idle');
      const outcomes = await Promise.all(tasks.map(({ task }) => fleet.finish(`stand-in-${task}`, 'removeIfClean')));
      assert.deepEqual(
        outcomes.map((outcome) => outcome.worktree),
        Array(8).fill('removed'),
      );
    }
    assert.deepEqual(sessions(), ['keep']);
    assert.deepEqual(worktreeFolders(), []);
    assert.deepEqual(branches(), ['main']);
  });

  it('a cancelled spawn leaves no session, worktree or branch behind', async function () {
    const kind = standIn(['hook SessionStart', 'hang']);
    const fleet = await open([kind]);
    const controller = new AbortController();
    const tasks = Array.from({ length: 8 }, (_, i) => ({ task: `c${i}` }));
    const spawning = fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks }, (step) => {
      if (step.done === 4) controller.abort();
    }, controller.signal);
    await assert.rejects(spawning, /Spawning was cancelled\. Everything it had made \(\d+ sessions?, \d+ worktrees?\) was removed\./);
    assert.deepEqual(sessions(), ['keep']);
    assert.deepEqual(worktreeFolders(), []);
    assert.deepEqual(branches(), ['main']);
    assert.equal(git(repo, 'worktree', 'list', '--porcelain').split('\n\n').filter(Boolean).length, 1);
    assert.equal(fleet.list().length, 0);
  });

  it('a failed spawn removes what it made: one task clashes with a branch that exists', async function () {
    git(repo, 'branch', 'agent/stand-in-b3');
    const fleet = await open([standIn(['hook SessionStart', 'hang'])]);
    const tasks = Array.from({ length: 5 }, (_, i) => ({ task: `b${i}` }));
    await assert.rejects(fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks }), /Spawning failed: Branch "agent\/stand-in-b3" already exists/);
    assert.deepEqual(sessions(), ['keep']);
    assert.deepEqual(worktreeFolders(), []);
    assert.deepEqual(branches(), ['agent/stand-in-b3', 'main']);
  });

  it('after a kill-server, a fleet opened again lists every orphaned worktree, and cleans only the clean ones', async function () {
    const kind = standIn(['hook SessionStart', 'hang']);
    const fleet = await open([kind]);
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'o1' }, { task: 'o2' }, { task: 'o3' }] });
    await until(fleet, 'stand-in-o3', 'idle');
    fs.writeFileSync(path.join(fleet.get('stand-in-o2')!.record.worktree!, 'keep-me.txt'), 'x\n');
    fleet.dispose();
    tmux('kill-server');
    // The old server lingers while its last clients drop, and refuses to be replaced meanwhile.
    await eventually('a new server to start', () => {
      try {
        tmux('new-session', '-d', '-s', 'keep', 'exec sleep 100000', ';', 'set-option', '-g', 'default-shell', '/bin/sh');
        return true;
      } catch {
        return false;
      }
    }, 10_000);

    const started = Date.now();
    const again = await open([kind]);
    const plan = await again.planCleanup();
    const took = Date.now() - started;
    assert.ok(took < 10_000, `reconciled in ${took} ms`);
    const orphans = plan.filter((candidate) => candidate.kind === 'worktreeWithoutSession');
    assert.deepEqual(
      orphans.map((candidate) => (candidate.kind === 'worktreeWithoutSession' ? [path.basename(candidate.worktree), candidate.dirty] : [])),
      [
        ['stand-in-o1', false],
        ['stand-in-o2', true],
        ['stand-in-o3', false],
      ],
    );
    const outcomes = await again.cleanUp(plan);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.done),
      [true, false, true],
    );
    assert.match(outcomes[1].skipped ?? '', /uncommitted/);
    assert.deepEqual(worktreeFolders(), ['stand-in-o2']);
    assert.equal(fs.readFileSync(path.join(root, 'repo.worktrees', 'stand-in-o2', 'keep-me.txt'), 'utf8'), 'x\n');
    assert.deepEqual(branches(), ['agent/stand-in-o2', 'main']);
  });

  it('offers sessions whose worktree is gone and agents done for a while', async function () {
    const fleet = await open([standIn(['hook SessionStart', 'fresh: exit 0', 'hang'])]);
    await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task: 'gone' }, { task: 'done' }] });
    await until(fleet, 'stand-in-done', 'done');
    fs.rmSync(fleet.get('stand-in-gone')!.record.worktree!, { recursive: true, force: true });
    const plan = await fleet.planCleanup({ doneForMs: 0 });
    assert.deepEqual(plan.map((candidate) => [candidate.kind, 'session' in candidate ? candidate.session : '']).sort(), [
      ['doneAgent', 'stand-in-done'],
      ['sessionWithoutWorktree', 'stand-in-gone'],
    ]);
    const outcomes = await fleet.cleanUp(plan);
    assert.ok(outcomes.every((outcome) => outcome.done), JSON.stringify(outcomes));
    assert.deepEqual(sessions(), ['keep']);
    assert.deepEqual(worktreeFolders(), []);
    assert.deepEqual(branches(), ['main']);
  });

  it('never removes a dirty worktree, whatever the fault (property)', async function () {
    const kind = standIn(['hook SessionStart', 'hang']);
    const fleet = await open([kind]);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          change: fc.constantFrom('untracked', 'modified', 'staged', 'deleted', 'nestedUntracked', 'none'),
          choice: fc.constantFrom('removeIfClean', 'keep', 'commitThenRemove') as fc.Arbitrary<'removeIfClean' | 'keep' | 'commitThenRemove'>,
          path: fc.constantFrom('viaCleanup', 'viaFinish'),
        }),
        async ({ change, choice, path: route }) => {
          const task = `p${round++}`;
          const session = `stand-in-${task}`;
          await fleet.spawn({ kind: 'stand-in', folder: repo, worktrees: true, tasks: [{ task }] });
          const folder = fleet.get(session)!.record.worktree!;
          switch (change) {
            case 'untracked':
              fs.writeFileSync(path.join(folder, 'new.txt'), 'new\n');
              break;
            case 'modified':
              fs.appendFileSync(path.join(folder, 'README.md'), 'more\n');
              break;
            case 'staged':
              fs.writeFileSync(path.join(folder, 'staged.txt'), 's\n');
              git(folder, 'add', 'staged.txt');
              break;
            case 'deleted':
              fs.rmSync(path.join(folder, 'README.md'));
              break;
            case 'nestedUntracked':
              fs.mkdirSync(path.join(folder, 'a', 'b'), { recursive: true });
              fs.writeFileSync(path.join(folder, 'a', 'b', 'deep.txt'), 'deep\n');
              break;
          }
          const dirtyBefore = ((await worktreeChanges(folder)) ?? []).length > 0;
          let result;
          if (route === 'viaCleanup') {
            await fleet.finish(session, 'keep');
            const plan = (await fleet.planCleanup()).filter((candidate) => candidate.kind === 'worktreeWithoutSession' && candidate.worktree === folder);
            await fleet.cleanUp(plan);
          } else {
            result = await fleet.finish(session, choice);
          }
          const exists = fs.existsSync(folder);
          if (dirtyBefore && !(route === 'viaFinish' && choice === 'commitThenRemove')) {
            assert.ok(exists, `a dirty worktree (${change}) went by ${route}/${choice}`);
          }
          if (dirtyBefore && choice === 'commitThenRemove' && route !== 'viaCleanup') {
            // Its work is in a commit on its branch before the folder went.
            assert.ok(result?.commit, 'committed first');
            assert.equal(git(repo, 'rev-list', '--count', `main..agent/${session}`).trim(), '1');
          }
          if (!dirtyBefore && choice !== 'keep' && route !== 'viaCleanup') assert.equal(exists, false, 'a clean worktree goes');
          if (choice === 'keep' && route !== 'viaCleanup') assert.equal(exists, true);
        },
      ),
      // 50 fault cases with TSM_TEST_FULL=1; fewer in the everyday run.
      { numRuns: process.env.TSM_TEST_FULL ? 50 : 12 },
    );
  });
});
