import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claudeReader, codexReader, geminiReader, screenFromCapture, standinReader } from '../../src/core/agents/inputBox';
import { sendPrompt, SendPromptOptions, SendResult } from '../../src/core/agents/send';
import { PaneOutputHub } from '../../src/core/output/outputHub';
import { InvalidInputError } from '../../src/tmux/errors';
import { PaneId } from '../../src/tmux/model';
import { OneShotQueue } from '../../src/tmux/oneShot';
import { hostilePrompt, sha256, StandinAgent, StandinServer, taken } from './helpers/standinTui';
import { eventually } from './helpers/tmux';

/**
 * Sending a prompt to an agent's TUI so that it arrives: against the stand-in TUI (bracketed
 * paste, Codex's paste-burst rule, a slow start that drops keys, a busy mode that queues, a vim
 * mode), each on a private tmux server. The stand-in logs a hash of every message it takes; a
 * prompt counts as delivered when the log holds its hash exactly once.
 *
 * TSM_TEST_FULL=1 runs 100 tries per mode; by default fewer (see TRIES), to keep the suite short.
 */
const FULL = !!process.env.TSM_TEST_FULL;
const TRIES = { normal: FULL ? 100 : 20, slowStart: FULL ? 100 : 4, busy: FULL ? 100 : 20, vim: FULL ? 100 : 20 };

describe('sending prompts to agents', function () {
  this.timeout(FULL ? 600_000 : 120_000);
  let server: StandinServer;
  let queue: OneShotQueue;
  let hub: PaneOutputHub;
  let tempRoot: string;
  const run = (argv: readonly string[]) => queue.run(argv);

  before(function () {
    server = new StandinServer();
    queue = new OneShotQueue(server.address);
    hub = new PaneOutputHub(run, server.address);
    tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-send-'));
  });

  after(async function () {
    await hub?.dispose();
    server?.kill();
    if (tempRoot) fs.rmSync(tempRoot, { recursive: true, force: true });
  });

  afterEach(function () {
    assert.deepEqual(fs.readdirSync(tempRoot), [], 'a prompt file was left behind');
    assert.equal(server.tmux('list-buffers', '-F', '#{buffer_name}').includes('tsm-prompt'), false, 'a paste buffer was left behind');
  });

  const send = (pane: PaneId, text: string, extra: Partial<SendPromptOptions> = {}): Promise<SendResult> =>
    sendPrompt({ run, address: server.address, paneId: pane, text, inputBox: standinReader, open: hub.open, tempRoot, ...extra });

  /** Starts a stand-in and waits until its input box is on the screen. */
  async function agent(flags: string[] = ['--ignore-ms', '0']): Promise<StandinAgent> {
    const started = server.startAgent(flags);
    await eventually('the stand-in drawing its input box', () => server.screen(started.pane).includes('› '), 10_000);
    return started;
  }

  /** Sends `tries` different 2 KB prompts one after the other; returns the failures, each described. */
  async function deliverMany(target: StandinAgent, tries: number, expect: 'submitted' | 'queued', before?: () => Promise<void>): Promise<string[]> {
    const failures: string[] = [];
    const expected: string[] = [];
    const results: SendResult[] = [];
    for (let i = 0; i < tries; i++) {
      await before?.();
      const text = hostilePrompt(`try ${i}`);
      expected.push(sha256(text));
      const result = await send(target.pane, text);
      results.push(result);
      if (result.status !== expect) failures.push(`try ${i}: ${result.status} (${result.message})`);
    }
    if (process.env.TSM_TEST_LOG) logTimes(results);
    // A queued message is taken when its turn comes.
    await eventually('every message taken', () => taken(target).length >= tries, 60_000).catch(() => undefined);
    const log = taken(target).map((entry) => entry.sha256);
    expected.forEach((hash, i) => {
      const times = log.filter((seen) => seen === hash).length;
      if (times !== 1) failures.push(`try ${i}: taken ${times} times, byte-exact`);
    });
    const strangers = log.filter((seen) => !expected.includes(seen)).length;
    if (strangers) failures.push(`${strangers} messages taken that were never sent (mangled or merged)`);
    return failures;
  }

  /** With TSM_TEST_LOG: how long the sends took, and how many pastes and Enters they needed. */
  function logTimes(results: readonly SendResult[]): void {
    const sorted = results.map((result) => result.elapsedMs).sort((a, b) => a - b);
    const most = (key: 'pastes' | 'enters') => Math.max(...results.map((result) => result[key]));
    console.log(`      ${results.length} sends: median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms; at most ${most('pastes')} pastes, ${most('enters')} Enters`);
  }

  it(`submits a 2 KB multi-line prompt exactly once and byte-exact, ${TRIES.normal} of ${TRIES.normal} tries`, async function () {
    const target = await agent();
    const failures = await deliverMany(target, TRIES.normal, 'submitted');
    assert.deepEqual(failures, []);
    assert.equal(taken(target)[0].bytes, Buffer.byteLength(hostilePrompt('try 0')));
  });

  it(`gets through a slow start that drops every key for 2 s, ${TRIES.slowStart} of ${TRIES.slowStart} fresh starts`, async function () {
    const target = await agent(['--ignore-ms', '2000']);
    let first = true;
    const failures = await deliverMany(target, TRIES.slowStart, 'submitted', async () => {
      if (!first) server.restartAgent(target, ['--ignore-ms', '2000']);
      first = false;
      await eventually('a fresh start', () => server.screen(target.pane).includes('starting…'), 10_000);
    });
    assert.deepEqual(failures, []);
  });

  it(`reports a prompt to a busy agent as queued, and it is taken once, ${TRIES.busy} of ${TRIES.busy} tries`, async function () {
    const target = await agent(['--ignore-ms', '0', '--busy', '--drain-ms', '300']);
    const failures = await deliverMany(target, TRIES.busy, 'queued');
    assert.deepEqual(failures, []);
  });

  it(`types into a vim-mode box left in NORMAL mode, ${TRIES.vim} of ${TRIES.vim} tries`, async function () {
    const target = await agent(['--ignore-ms', '0', '--vim']);
    const failures = await deliverMany(target, TRIES.vim, 'submitted');
    assert.deepEqual(failures, []);
    assert.match(server.screen(target.pane), /-- NORMAL --/, 'the stand-in is back in NORMAL mode after each submit');
  });

  it('delivers a 64 KB prompt, over tmux\'s 16 KB command limit, 20 of 20 tries', async function () {
    const target = await agent();
    const expected: string[] = [];
    const failures: string[] = [];
    const results: SendResult[] = [];
    for (let i = 0; i < 20; i++) {
      const text = hostilePrompt(`large ${i}`, 64 * 1024);
      expected.push(sha256(text));
      const result = await send(target.pane, text);
      results.push(result);
      if (result.status !== 'submitted') failures.push(`try ${i}: ${result.message}`);
    }
    if (process.env.TSM_TEST_LOG) logTimes(results);
    assert.deepEqual(failures, []);
    assert.deepEqual(taken(target).map((entry) => entry.sha256), expected);
    assert.ok(taken(target).every((entry) => entry.bytes >= 64 * 1024 - 100));
  });

  it('sends to 8 agents at once: none crossed, none duplicated', async function () {
    const agents = await Promise.all(Array.from({ length: 8 }, () => agent()));
    const rounds = FULL ? 10 : 3;
    const expected = agents.map(() => [] as string[]);
    for (let round = 0; round < rounds; round++) {
      const texts = agents.map((_, i) => hostilePrompt(`agent ${i} round ${round}`));
      texts.forEach((text, i) => expected[i].push(sha256(text)));
      const results = await Promise.all(agents.map((target, i) => send(target.pane, texts[i])));
      assert.deepEqual(results.map((result) => result.status), agents.map(() => 'submitted'), results.map((result) => result.message).join('\n'));
    }
    agents.forEach((target, i) => assert.deepEqual(taken(target).map((entry) => entry.sha256), expected[i], `agent ${i} took something else`));
  });

  it('sends to one pane take turns: two at once both arrive, whole and in order', async function () {
    const target = await agent();
    const texts = [hostilePrompt('first'), hostilePrompt('second')];
    const results = await Promise.all(texts.map((text) => send(target.pane, text)));
    assert.deepEqual(results.map((result) => result.status), ['submitted', 'submitted']);
    assert.deepEqual(taken(target).map((entry) => entry.sha256), texts.map(sha256));
  });

  it('refuses 50 drafts the user was typing, submits none of them and leaves each in the box', async function () {
    const target = await agent();
    for (let i = 0; i < 50; i++) {
      const draft = `half-written thought ${i}, not finished`;
      server.tmux('send-keys', '-t', target.pane, '-l', draft);
      await eventually('the draft on the screen', () => server.screen(target.pane).includes(draft));
      const result = await send(target.pane, hostilePrompt(`over draft ${i}`));
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'foreignDraft');
      assert.match(result.message, /already holds a draft that was not sent from here \("half-written thought \d+, not finished"\)\. Nothing was sent/);
      assert.equal(result.pastes, 0);
      assert.ok(server.screen(target.pane).includes(draft), 'the draft is still there');
      server.tmux('send-keys', '-t', target.pane, 'C-u');
      await eventually('the box cleared', () => server.screen(target.pane).includes('Type a message'));
    }
    assert.deepEqual(taken(target), []);
  });

  it('confirms through the agent\'s receipt when one is given, without reading the box', async function () {
    const target = await agent();
    const text = hostilePrompt('receipt');
    let receiptCalled = false;
    // A stand-in for a UserPromptSubmit hook: the stand-in's log gains the prompt's hash.
    const receipt: SendPromptOptions['receipt'] = ({ text: sent, signal }) => {
      receiptCalled = true;
      return new Promise((resolve, reject) => {
        const timer = setInterval(() => {
          if (taken(target).some((entry) => entry.sha256 === sha256(sent))) {
            clearInterval(timer);
            resolve('submitted');
          }
        }, 10);
        signal.addEventListener('abort', () => {
          clearInterval(timer);
          reject(new Error('send over'));
        });
      });
    };
    const result = await send(target.pane, text, { inputBox: undefined, receipt });
    assert.ok(receiptCalled);
    assert.equal(result.status, 'submitted', result.message);
    assert.equal(result.verifiedBy, 'receipt');
    assert.deepEqual(taken(target).map((entry) => entry.sha256), [sha256(text)]);
  });

  it('still delivers when the pane\'s one pipe is taken by the user\'s own pipe-pane (timers stand in for its output)', async function () {
    const target = await agent();
    server.tmux('pipe-pane', '-t', target.pane, 'cat > /dev/null');
    try {
      const texts = [hostilePrompt('piped 1'), hostilePrompt('piped 2')];
      for (const text of texts) {
        const result = await send(target.pane, text);
        assert.equal(result.status, 'submitted', result.message);
      }
      assert.deepEqual(taken(target).map((entry) => entry.sha256), texts.map(sha256));
      assert.equal(server.tmux('display-message', '-p', '-t', target.pane, '#{pane_pipe}').trim(), '1', 'the user\'s pipe is left alone');
    } finally {
      server.tmux('pipe-pane', '-t', target.pane);
    }
  });

  it('what it refuses up front, with a message that says what to do', async function () {
    const target = await agent();
    assert.throws(() => sendPrompt({ run, address: server.address, paneId: target.pane, text: '  \n', inputBox: standinReader }), (error: Error) => error instanceof InvalidInputError && /empty/.test(error.message));
    assert.throws(
      () => sendPrompt({ run, address: server.address, paneId: target.pane, text: 'a\u001b[201~b', inputBox: standinReader }),
      (error: Error) => error instanceof InvalidInputError && /U\+001B at position 1.*Remove it/.test(error.message),
    );
    assert.throws(() => sendPrompt({ run, address: server.address, paneId: target.pane, text: 'hi' }), /needs a way to confirm/);
    const gone = await send('%999' as PaneId, 'hello');
    assert.equal(gone.status, 'failed');
    assert.equal(gone.reason, 'paneGone');
    assert.match(gone.message, /%999 is gone/);
  });

  it('a sender that types the text, sleeps 50 ms and presses Enter does not get through the stand-in (the stand-in is strict)', async function () {
    const target = await agent();
    const text = hostilePrompt('fixed sleep');
    // One tmux command list, so the pause is tmux's own: a timer of this busy test process could
    // fire late enough (past the stand-in's 120 ms) to let the Enter through.
    server.tmux('send-keys', '-t', target.pane, '-l', text, ';', 'run-shell', 'sleep 0.05', ';', 'send-keys', '-t', target.pane, 'Enter');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(taken(target).filter((entry) => entry.sha256 === sha256(text)).length, 0);
    assert.match(server.screen(target.pane), /Enter taken as a line break/);
  });
});

describe('input box readers', function () {
  const screen = (text: string) => screenFromCapture(text.split('\n'));
  const faint = (text: string) => `\u001b[2m${text}\u001b[22m`;

  it('read the stand-in box: a draft, an empty box with its faint placeholder, queued messages and NORMAL mode', function () {
    const rule = '─'.repeat(40);
    const drawn = screen(['standin · submitted 0', 'status: working ⠋ (esc to interrupt)', 'queued: fix the bug', rule, '› line one', '  line two', rule, '-- NORMAL --'].join('\n'));
    assert.equal(standinReader.readDraft(drawn), 'line one\nline two');
    assert.deepEqual(standinReader.queued!(drawn), ['fix the bug']);
    assert.equal(standinReader.isBusy!(drawn), true);
    assert.deepEqual(standinReader.keysBeforeTyping!(drawn), ['i']);
    assert.equal(standinReader.readDraft(screen([rule, `› ${faint('Type a message')}`, rule].join('\n'))), '');
    assert.equal(standinReader.readDraft(screen('standin\nstatus: starting…')), undefined);
  });

  it('read Claude Code\'s box between rules and its older rounded box, a faint suggestion counting as empty', function () {
    const rule = '─'.repeat(60);
    assert.equal(claudeReader.readDraft(screen(['✻ Welcome', rule, '> refactor the parser', '  and add tests', rule, '  ? for shortcuts'].join('\n'))), 'refactor the parser\nand add tests');
    assert.equal(claudeReader.readDraft(screen([rule, `> ${faint('Try "fix lint errors"')}`, rule].join('\n'))), '');
    assert.equal(claudeReader.readDraft(screen([`╭${rule}╮`, '│ > hello there                     │', `╰${rule}╯`].join('\n'))), 'hello there');
    assert.equal(claudeReader.readDraft(screen('just a shell prompt $')), undefined);
    assert.equal(claudeReader.isBusy!(screen('✻ Thinking… (3s · esc to interrupt)')), true);
  });

  it('read Codex\'s › composer up to its footer, and Gemini\'s rounded box', function () {
    assert.equal(codexReader.readDraft(screen(['• Ran tests', '', '› explain this', '  in two lines', '', '  100% context left · ? for shortcuts'].join('\n'))), 'explain this\nin two lines');
    assert.equal(codexReader.readDraft(screen(`› ${faint('Ask Codex to do anything')}\n\n  ? for shortcuts`)), '');
    const top = `╭${'─'.repeat(50)}╮`;
    const bottom = `╰${'─'.repeat(50)}╯`;
    assert.equal(geminiReader.readDraft(screen([top, `│ >   ${faint('Type your message or @path/to/file')} │`, bottom].join('\n'))), '');
    assert.equal(geminiReader.readDraft(screen([top, '│ > summarise README.md               │', bottom].join('\n'))), 'summarise README.md');
  });
});
