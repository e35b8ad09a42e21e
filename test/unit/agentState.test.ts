import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addGeminiHooks, agentLaunch, claudeSettings, CLAUDE_EVENTS, parseEventRecord, removeGeminiHooks } from '../../src/core/agents/hooks';
import { writeHookScript } from '../../src/core/agents/hooksScript';
import { AgentKind, AgentKindError, BUILT_IN_KINDS, customKind, kindNamed, resolveKind } from '../../src/core/agents/kinds';
import { AgentState, describeAgentState } from '../../src/core/agents/state';
import { AgentHarness, PAYLOADS, StandInAgent } from './helpers/agents';
import { eventually, PrivateTmux } from './helpers/tmux';

const shown = (state: AgentState) => describeAgentState(state);

/** Agent states learned from the agents' own hooks (stand-ins), the screen where hooks are blind, and the supervisor's timeouts. */
describe('agent states', function () {
  this.timeout(30_000);
  let savedShell: string | undefined;
  let harness: AgentHarness | undefined;

  before(function () {
    savedShell = process.env.SHELL;
    // Every pane of the private servers runs a plain shell (a login bash is slow to start).
    process.env.SHELL = '/bin/sh';
  });
  after(function () {
    process.env.SHELL = savedShell;
  });
  afterEach(async function () {
    await harness?.dispose();
    harness = undefined;
  });

  async function run(agents: StandInAgent[], screen = {}): Promise<AgentHarness> {
    harness = new AgentHarness(agents, screen);
    await harness.start();
    return harness;
  }
  const until = (h: AgentHarness, agent: string, what: string, ms = 8000) =>
    eventually(`${agent} to be ${what} (is ${shown(h.watcher.state(agent))})`, () => shown(h.watcher.state(agent)) === what, ms);
  /**
   * tmux 3.3a on this kind of machine sometimes never reaps a pane's exited process (it stays a
   * zombie; the pane shows dead with no status, and the driver reports "exited ?"). That is
   * tmux's to tell, not the agent's: such a run says so and is skipped rather than passed.
   */
  function skipIfStatusLost(test: Mocha.Context, h: AgentHarness, agent: string): void {
    const state = h.watcher.state(agent);
    if (state.state === 'failed' && state.exitCode === null && state.signal === null) {
      test.skip();
    }
  }
  /** The states an agent went through, as words, from the events (each transition once). */
  const path_ = (h: AgentHarness, agent: string) => h.events.filter((event) => event.agent === agent).map((event) => shown(event.state));

  describe('the hook script', function () {
    let server: PrivateTmux;
    let folder: string;
    let pane: string;
    let socketEnv: string;
    beforeEach(function () {
      server = new PrivateTmux();
      server.newSession('s');
      pane = server.tmux('display-message', '-p', '#{pane_id}').trim();
      socketEnv = server.tmux('display-message', '-p', '#{socket_path},#{pid},0').trim();
      folder = fs.mkdtempSync(path.join(server.folder, 'hook-'));
    });
    afterEach(function () {
      server.kill();
    });

    /** Runs the script with only sh tools on PATH: no node reachable. */
    function hook(script: string, args: string[], input: string | undefined): void {
      const bin = path.join(folder, 'bin');
      if (!fs.existsSync(bin)) {
        fs.mkdirSync(bin);
        for (const tool of ['sed', 'tr', 'cut', 'date', 'cat']) fs.symlinkSync(execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(bin, tool));
      }
      const result = spawnSync('/bin/sh', [script, ...args], {
        input: input ?? '',
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: { PATH: bin, TMUX: socketEnv, TMUX_PANE: pane, TSM_TMUX: execFileSync('/bin/sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).trim() },
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, '', 'a hook prints nothing (Gemini CLI reads its stdout as JSON)');
    }
    const record = () => parseEventRecord(server.tmux('list-panes', '-a', '-F', '#{@tmux-session-manager-agent-event}').split('\n')[0]);
    const seq = () => server.tmux('display-message', '-p', '-t', pane, '#{@tmux-session-manager-agent-seq}').trim();

    it('works with no Node on PATH: JSON on stdin or as the last argument, into its own pane, with a sequence number and one signal', function () {
      const script = writeHookScript(folder, 'tmux');
      hook(script, ['claude'], JSON.stringify({ session_id: 's', ...PAYLOADS.claude['Notification.permission_prompt'] as object }));
      assert.deepEqual({ ...record()!, at: 0 }, { at: 0, kind: 'claude', event: 'Notification', sub: 'permission_prompt', tool: '', error: '', message: 'Claude needs your permission to use Bash' });
      assert.ok(Math.abs(record()!.at - Date.now() / 1000) < 60, 'a timestamp in seconds');
      assert.equal(seq(), '1');
      assert.equal(server.tmux('show-options', '-gv', '@tmux-session-manager-agents-dirty').trim(), '1');
      hook(script, ['codex', JSON.stringify(PAYLOADS.codex['agent-turn-complete'])], undefined);
      assert.equal(record()!.event, 'agent-turn-complete');
      assert.equal(seq(), '2');
      hook(script, ['aider', 'Stop'], undefined);
      assert.deepEqual([record()!.kind, record()!.event], ['aider', 'Stop']);
      hook(script, ['claude'], JSON.stringify(PAYLOADS.claude.StopFailure));
      assert.deepEqual([record()!.event, record()!.error], ['StopFailure', 'rate_limit']);
      assert.equal(seq(), '4');
    });

    it('keeps hostile values from breaking the record or tmux: quotes, $(), backticks, tabs, a final ";", a 200 KB payload', function () {
      const script = writeHookScript(folder, 'tmux');
      const canary = path.join(folder, 'canary');
      const message = `Run \`rm -rf /\` $(touch ${canary}) "quoted"\ttabbed #{pane_id} ;`;
      hook(script, ['claude'], JSON.stringify({ hook_event_name: 'Notification', notification_type: 'elicitation_dialog', message, transcript: 'x'.repeat(200_000) }));
      const seen = record()!;
      assert.equal(seen.sub, 'elicitation_dialog');
      // The script cuts a value at its first escape (sed reads no JSON escapes): what comes before it is kept exactly.
      assert.equal(seen.message, `Run \`rm -rf /\` $(touch ${canary}) `);
      assert.equal(fs.existsSync(canary), false, 'nothing in the payload ran');
      hook(script, ['claude'], JSON.stringify({ hook_event_name: 'Notification', notification_type: 'idle_prompt', message: `waiting;` }));
      assert.equal(record()!.message, 'waiting;');
      hook(script, ['claude'], JSON.stringify({ hook_event_name: 'Notification', notification_type: 'idle_prompt', message: 'm'.repeat(5000) }));
      assert.equal(record()!.message.length, 200);
    });

    it('outside tmux it only drains its input and exits 0', function () {
      const script = writeHookScript(folder, 'tmux');
      const result = spawnSync('/bin/sh', [script, 'claude'], { input: '{"hook_event_name":"Stop"}', env: { PATH: process.env.PATH }, encoding: 'utf8' });
      assert.equal(result.status, 0);
      assert.equal(result.stdout, '');
    });
  });

  describe('kinds and injection', function () {
    it('has one table of built-in kinds whose resume commands follow the restoreCommands setting', function () {
      assert.deepEqual(Object.keys(BUILT_IN_KINDS), ['claude', 'codex', 'gemini', 'aider']);
      assert.equal(BUILT_IN_KINDS.claude.resumeCommand, 'claude --continue');
      assert.equal(resolveKind(BUILT_IN_KINDS.claude, { claude: 'claude --resume last' }).resumeCommand, 'claude --resume last');
      assert.equal(resolveKind(BUILT_IN_KINDS.gemini, {}).resumeCommand, 'gemini --resume latest');
    });

    it('refuses a bad custom kind with a message that says what to change', function () {
      assert.throws(() => customKind({ name: 'claude', command: 'x' }), /built in/);
      assert.throws(() => customKind({ name: 'my agent', command: 'x' }), /letters, digits/);
      assert.throws(() => customKind({ name: 'mine', command: ' ' }), /set "command"/);
      assert.throws(() => customKind({ name: 'mine', command: 'mine', screen: { ready: '([' } }), (error: Error) => error instanceof AgentKindError && /not a valid regular expression/.test(error.message));
      assert.throws(() => kindNamed('nope'), /known kinds: claude, codex, gemini, aider/);
      assert.equal(customKind({ name: 'mine', command: 'mine --go', hooksLike: 'claude' }).hooks, 'claude-settings');
    });

    it('injects per session: Claude --settings with every event, Codex -c notify, aider --notifications-command', function () {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-inject-'));
      try {
        const claude = agentLaunch(BUILT_IN_KINDS.claude, { hookScript: '/opt/hook.sh', tmuxPath: 'tmux', stateFolder: folder, args: ['fix the "bug"'] });
        assert.match(claude.command, /exec claude --settings \S+claude-settings\.json 'fix the "bug"'$/);
        assert.match(claude.resumeCommand!, /exec claude --continue --settings \S+claude-settings\.json$/, 'the first prompt is not sent again on resume');
        const settings = JSON.parse(fs.readFileSync(path.join(folder, 'claude-settings.json'), 'utf8'));
        assert.deepEqual(settings, claudeSettings("sh /opt/hook.sh claude"));
        assert.deepEqual(Object.keys(settings.hooks), [...CLAUDE_EVENTS]);
        const codex = agentLaunch(BUILT_IN_KINDS.codex, { hookScript: '/opt/hook.sh', tmuxPath: 'tmux', stateFolder: folder });
        assert.match(codex.command, /exec codex -c 'notify=\["sh", "\/opt\/hook\.sh", "codex"\]'$/);
        assert.match(codex.resumeCommand!, /exec codex resume --last -c/);
        const aider = agentLaunch(BUILT_IN_KINDS.aider, { hookScript: '/opt/hook.sh', tmuxPath: 'tmux', stateFolder: folder });
        assert.match(aider.command, /--notifications --notifications-command 'sh \/opt\/hook\.sh aider Stop'$/);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });

    it("merges Gemini hooks into the folder's .gemini/settings.json keeping the user's keys, and undoes exactly", function () {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-gemini-'));
      try {
        const file = path.join(folder, '.gemini', 'settings.json');
        fs.mkdirSync(path.dirname(file));
        const users = { theme: 'Dracula', hooks: { AfterAgent: [{ matcher: '*', hooks: [{ name: 'mine', type: 'command', command: 'notify-send done' }] }] } };
        fs.writeFileSync(file, JSON.stringify(users));
        const undo = addGeminiHooks(folder, 'sh /opt/hook.sh gemini');
        const merged = JSON.parse(fs.readFileSync(file, 'utf8'));
        assert.equal(merged.theme, 'Dracula');
        assert.equal(merged.hooksConfig.enabled, true);
        assert.equal(merged.hooks.AfterAgent.length, 2, "the user's hook stays beside ours");
        assert.equal(merged.hooks.AfterAgent[0].hooks[0].name, 'mine');
        addGeminiHooks(folder, 'sh /opt/hook.sh gemini');
        assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).hooks.AfterAgent.length, 2, 'adding twice adds once');
        removeGeminiHooks(folder, undo);
        assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), users);
        fs.rmSync(path.join(folder, '.gemini'), { recursive: true });
        const fresh = addGeminiHooks(folder, 'sh /opt/hook.sh gemini');
        removeGeminiHooks(folder, fresh);
        assert.equal(fs.existsSync(path.join(folder, '.gemini')), false, 'a file and folder we made are removed');
        fs.mkdirSync(path.join(folder, '.gemini'));
        fs.writeFileSync(file, '{ not json');
        assert.throws(() => addGeminiHooks(folder, 'x'), /not valid JSON.*Fix or remove that file/);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });
  });

  describe('from hook events (stand-in agents in real tmux)', function () {
    it('Claude Code: starting, idle, working (tool), waiting for permission (tool), question, idle prompt, a failed turn, done — each once', async function () {
      const g = (name: string) => `gate ${name}`;
      const steps = [
        'hook SessionStart',
        g('1'),
        'hook UserPromptSubmit',
        g('2'),
        'hook PreToolUse',
        g('3'),
        'hook PermissionRequest',
        'hook Notification.permission_prompt',
        g('4'),
        'hook Notification.elicitation_dialog',
        g('5'),
        'hook Stop',
        g('6'),
        'hook Notification.idle_prompt',
        g('7'),
        'hook UserPromptSubmit',
        g('8'),
        'hook StopFailure',
        g('9'),
        'hook SessionEnd',
        'exit 0',
      ];
      const real = await run([{ name: 'claude', kind: 'claude', scenario: steps }]);
      const expected = [
        'idle',
        'working',
        'working (Bash)',
        'waiting for permission to use Bash',
        'waiting for an answer',
        'idle',
        'waiting for input',
        'working',
        'failed: the turn failed: rate_limit',
      ];
      for (const [i, state] of expected.entries()) {
        await until(real, 'claude', state);
        real.release('claude', String(i + 1));
      }
      await eventually('done', () => {
        const state = real.watcher.state('claude');
        return state.state === 'done' || (state.state === 'failed' && 'exitCode' in state);
      }, 8000);
      skipIfStatusLost(this, real, 'claude');
      assert.deepEqual(path_(real, 'claude'), ['starting', ...expected, 'stopping', 'done']);
      assert.equal(real.watcher.stats.screenReads, 0, 'no screen read while hooks report');
    });

    it('Codex (notify), Gemini CLI (project hooks) and aider (notifications command) reach their states', async function () {
      const gemini = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-gem-'));
      const h = await run([
        { name: 'codex', kind: 'codex', scenario: ['sleep 300', 'hook agent-turn-complete', 'hang'] },
        { name: 'gemini', kind: 'gemini', cwd: gemini, scenario: ['hook SessionStart', 'gate 0', 'hook BeforeAgent', 'gate 1', 'hook BeforeTool', 'gate 2', 'hook Notification', 'gate 3', 'hook AfterAgent', 'hang'] },
        { name: 'aider', kind: 'aider', scenario: ['print aider v0.86', 'sleep 300', 'hook Stop', 'hang'] },
      ]);
      await until(h, 'codex', 'idle');
      await until(h, 'aider', 'idle');
      await until(h, 'gemini', 'idle');
      h.release('gemini', '0');
      await until(h, 'gemini', 'working');
      h.release('gemini', '1');
      await until(h, 'gemini', 'working (run_shell_command)');
      h.release('gemini', '2');
      await until(h, 'gemini', 'waiting for permission to use run_shell_command');
      h.release('gemini', '3');
      await until(h, 'gemini', 'idle');
      assert.deepEqual(path_(h, 'gemini'), ['starting', 'idle', 'working', 'working (run_shell_command)', 'waiting for permission to use run_shell_command', 'idle']);
      removeGeminiHooks(gemini, h.launches.get('gemini')!.undo);
      assert.equal(fs.existsSync(path.join(gemini, '.gemini')), false, 'undone');
      fs.rmSync(gemini, { recursive: true, force: true });
    });

    it('one event per transition: repeated hooks with the same meaning fire nothing more', async function () {
      const h = await run([{ name: 'a', kind: 'claude', scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'sleep 200', 'hook UserPromptSubmit', 'sleep 200', 'hook UserPromptSubmit', 'sleep 200', 'hook Stop', 'sleep 200', 'hook Stop', 'hang'] }]);
      await eventually('working, then idle', () => path_(h, 'a').join(' ').endsWith('working idle'), 8000);
      await new Promise((resolve) => setTimeout(resolve, 600));
      const states = path_(h, 'a');
      assert.equal(states.filter((state) => state === 'working').length, 1, states.join(' → '));
      assert.equal(states[states.length - 1], 'idle');
      assert.ok(h.watcher.stats.reads >= 3, 'each hook was read');
    });

    it('the state survives a window reload: a new watcher reads it back from tmux, no screen read, no event replayed', async function () {
      const h = await run([{ name: 'a', kind: 'claude', scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'hook PermissionRequest', 'hang'] }]);
      await until(h, 'a', 'waiting for permission to use Bash');
      const before = h.events.length;
      await h.reload();
      assert.equal(shown(h.watcher.state('a')), 'waiting for permission to use Bash');
      assert.equal(h.watcher.stats.screenReads, 0);
      assert.equal(h.supervisor.status('a').state.phase, 'running', 'adopted, not started again');
      assert.equal(h.starts().length, 1);
      assert.ok(h.events.length - before <= 1, 'at most the one event that tells the new watcher');
    });
  });

  describe('from the screen, where hooks are blind', function () {
    it('an interrupt (Esc fires no Stop): working, then idle (interrupted) from the screen', async function () {
      const h = await run([{ name: 'a', kind: 'claude', scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'sleep 100', 'print   ⎿  Interrupted by user', 'hang'] }], { quietMs: 600 });
      await until(h, 'a', 'working');
      await until(h, 'a', 'idle (interrupted)');
      assert.ok(h.watcher.stats.screenReads >= 1);
    });

    it('a crash: failed with its exit code and the crash line from the dead pane', async function () {
      const h = await run([{ name: 'a', kind: 'claude', scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'sleep 300', 'print Working on it', 'print Traceback (most recent call last):', 'print   File "agent.py", line 3', 'exit 3'] }]);
      await eventually('failed with the crash line', () => {
        const state = h.watcher.state('a');
        return state.state === 'failed' && state.crash === 'Traceback (most recent call last):';
      }, 8000);
      skipIfStatusLost(this, h, 'a');
      assert.equal((h.watcher.state('a') as { exitCode?: number }).exitCode, 3);
    });

    it('a usage limit screen while working: waiting (blocked) with the line', async function () {
      const h = await run([{ name: 'a', kind: 'claude', scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'print Claude usage limit reached. Your limit will reset at 5pm.', 'hang'] }], { quietMs: 500 });
      await until(h, 'a', 'blocked: Claude usage limit reached. Your limit will reset at 5pm.');
    });

    it('startup readiness of a kind with no hooks: starting, then idle when its prompt shows', async function () {
      const mine = customKind({ name: 'mine', command: `${process.execPath} -e "setTimeout(() => console.log('mine> '), 700); setInterval(() => {}, 1e6)"`, screen: { ready: '^mine>' } });
      const h = await run([{ name: 'a', kind: mine as AgentKind, scenario: [] }], { startupMs: 300 });
      await until(h, 'a', 'starting');
      await until(h, 'a', 'idle');
      assert.ok(h.watcher.stats.screenReads >= 2, 'looked again after nothing showed');
    });

    it('stalled: working with no progress for the set time, and working again with the next hook', async function () {
      const h = await run([{ name: 'a', kind: 'claude', unit: { stalledAfterMs: 700 }, scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'sleep 1500', 'hook PreToolUse', 'hang'] }], { quietMs: 60_000 });
      await until(h, 'a', 'stalled (no progress)');
      await until(h, 'a', 'working (Bash)');
    });

    it('an agent waiting for a person never stalls nor times out for lack of progress', async function () {
      const h = await run([{ name: 'a', kind: 'claude', unit: { stalledAfterMs: 2000, noProgressTimeoutMs: 2500 }, scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'hook Notification.permission_prompt', 'hang'] }]);
      await until(h, 'a', 'waiting for permission to use Bash');
      await new Promise((resolve) => setTimeout(resolve, 3500));
      assert.equal(shown(h.watcher.state('a')), 'waiting for permission to use Bash');
      assert.equal(h.starts().length, 1);
    });
  });

  describe('timeouts and retries', function () {
    it('a wall-clock timeout stops the agent: timed out', async function () {
      const h = await run([{ name: 'a', kind: 'claude', unit: { wallClockTimeoutMs: 1000, stop: { method: { kind: 'signal', signal: 'SIGTERM' }, timeoutMs: 1000 } }, scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'hang'] }]);
      await until(h, 'a', 'working');
      await until(h, 'a', 'timed out after 1 s');
    });

    it('a failed exit is retried through the resume command: recovering, starting, idle again', async function () {
      const h = await run([
        { name: 'a', kind: 'claude', unit: { restart: 'on-failure', restartMode: 'resume', backoff: { initialDelayMs: 300, jitter: 0 } }, scenario: ['fresh: hook SessionStart', 'fresh: hook UserPromptSubmit', 'fresh: sleep 300', 'fresh: exit 2', 'resume: hook SessionStart.resume', 'hang'] },
      ]);
      await until(h, 'a', 'working');
      await eventually('recovering', () => h.watcher.state('a').state === 'recovering', 8000);
      await until(h, 'a', 'idle');
      const starts = h.starts();
      assert.equal(starts.length, 2);
      assert.match(starts[1], /^claude \["--continue","--settings",/);
      const states = path_(h, 'a');
      // See skipIfStatusLost: tmux lost the exit status (the retry itself still happened, above).
      if (states.includes('recovering (attempt 1: exited ?)')) this.skip();
      assert.deepEqual(states.slice(states.indexOf('working')), ['working', 'recovering (attempt 1: exited 2)', 'starting', 'idle']);
    });

    it('no progress while working: stopped and retried through the resume command, then failed when retries run out', async function () {
      const h = await run([
        {
          name: 'a',
          kind: 'claude',
          unit: { restart: 'on-failure', restartMode: 'resume', noProgressTimeoutMs: 800, maxRestarts: 1, backoff: { initialDelayMs: 100, jitter: 0 }, stop: { method: { kind: 'signal', signal: 'SIGTERM' }, timeoutMs: 1000 } },
          scenario: ['hook SessionStart', 'hook UserPromptSubmit', 'hang'],
        },
      ]);
      await eventually('failed after the retry', () => h.watcher.state('a').state === 'failed', 20_000);
      const state = h.watcher.state('a');
      assert.match(shown(state), /no progress for 0\.8 s; gave up after 1 restart/);
      const starts = h.starts();
      assert.equal(starts.length, 2);
      assert.match(starts[1], /"--continue"/);
      assert.ok(path_(h, 'a').some((words) => words.startsWith('recovering')));
    });
  });
});
