import * as assert from 'node:assert/strict';
import { ControlClient } from '../../src/tmux/control';
import { Notification, parseNotification, STRUCTURAL, unescapeOutput } from '../../src/tmux/notifications';
import { eventually, PrivateTmux } from './helpers/tmux';

/**
 * Lines marked "captured" were read from a tmux 3.3a control client while the change was made.
 * tmux 3.3a never writes %window-close (a window is unlinked before the notification is sent, so
 * it always says %unlinked-window-close), and %message / an %exit reason are rare; those lines
 * follow the CONTROL MODE section of tmux(1).
 */
const LINES: [string, string, Notification][] = [
  ['captured', '%sessions-changed', { type: 'sessions-changed' }],
  ['captured', '%session-changed $0 main', { type: 'session-changed', sessionId: '$0', name: 'main' }],
  ['captured', '%session-changed $1 other one', { type: 'session-changed', sessionId: '$1', name: 'other one' }],
  ['captured', '%session-renamed $2 renamed; "x" 中', { type: 'session-renamed', sessionId: '$2', name: 'renamed; "x" 中' }],
  ['captured', '%session-window-changed $0 @3', { type: 'session-window-changed', sessionId: '$0', windowId: '@3' }],
  ['captured', '%client-session-changed client-20736 $1 other', { type: 'client-session-changed', client: 'client-20736', sessionId: '$1', name: 'other' }],
  ['captured', '%client-detached client-20736', { type: 'client-detached', client: 'client-20736' }],
  ['captured', '%window-add @3', { type: 'window-add', windowId: '@3' }],
  ['manual', '%window-close @3', { type: 'window-close', windowId: '@3' }],
  ['captured', '%unlinked-window-add @4', { type: 'unlinked-window-add', windowId: '@4' }],
  ['captured', '%unlinked-window-close @4', { type: 'unlinked-window-close', windowId: '@4' }],
  ['captured', '%window-renamed @3 renamed win', { type: 'window-renamed', windowId: '@3', name: 'renamed win' }],
  ['captured', '%window-renamed @0 [tmux]', { type: 'window-renamed', windowId: '@0', name: '[tmux]' }],
  ['captured', '%unlinked-window-renamed @4 unlinked rn', { type: 'unlinked-window-renamed', windowId: '@4', name: 'unlinked rn' }],
  ['captured', '%window-pane-changed @3 %5', { type: 'window-pane-changed', windowId: '@3', paneId: '%5' }],
  [
    'captured',
    '%layout-change @3 c1a3,80x24,0,0[80x12,0,0,3,80x11,0,13,5] c1a3,80x24,0,0[80x12,0,0,3,80x11,0,13,5] *',
    { type: 'layout-change', windowId: '@3', layout: 'c1a3,80x24,0,0[80x12,0,0,3,80x11,0,13,5]', visibleLayout: 'c1a3,80x24,0,0[80x12,0,0,3,80x11,0,13,5]', flags: '*' },
  ],
  ['captured', '%pane-mode-changed %0', { type: 'pane-mode-changed', paneId: '%0' }],
  ['captured', '%subscription-changed w $0 - - - : main', { type: 'subscription-changed', name: 'w', value: 'main' }],
  ['manual', '%subscription-changed w $1 - - - : a : b', { type: 'subscription-changed', name: 'w', value: 'a : b' }],
  ['manual', '%subscription-changed w $1 - - -', { type: 'subscription-changed', name: 'w', value: '' }],
  ['manual', '%message a message; with "quotes"', { type: 'message', text: 'a message; with "quotes"' }],
  ['captured', '%exit', { type: 'exit', reason: '' }],
  ['manual', '%exit server exited unexpectedly', { type: 'exit', reason: 'server exited unexpectedly' }],
  ['manual', '%pause %1', { type: 'other', name: 'pause', line: '%pause %1' }],
  ['manual', '%config-error /x.conf:1: unknown command: foo', { type: 'other', name: 'config-error', line: '%config-error /x.conf:1: unknown command: foo' }],
  ['manual', '%some-future-event 1 2', { type: 'other', name: 'some-future-event', line: '%some-future-event 1 2' }],
];

describe('parseNotification', function () {
  for (const [source, line, expected] of LINES) {
    it(`reads ${JSON.stringify(line)} (${source})`, function () {
      assert.deepEqual(parseNotification(line), expected);
    });
  }

  it('marks the notifications after which the tree may differ as structural, and not the others', function () {
    for (const type of ['sessions-changed', 'session-renamed', 'window-add', 'unlinked-window-close', 'window-renamed', 'layout-change', 'pane-mode-changed'] as const) {
      assert.ok(STRUCTURAL.has(type), type);
    }
    for (const type of ['output', 'message', 'exit', 'other', 'subscription-changed'] as const) {
      assert.ok(!STRUCTURAL.has(type), type);
    }
  });
});

describe('unescapeOutput', function () {
  const bytes = (text: string) => Buffer.from(text, 'latin1');
  const cases: [string, string, number[]][] = [
    ['plain text', 'hello', [...Buffer.from('hello')]],
    ['CR LF as octal escapes', 'a\\015\\012', [0x61, 0x0d, 0x0a]],
    ['a tab', '\\011', [0x09]],
    ['a backslash (\\134)', '\\134', [0x5c]],
    ['an escaped backslash before digits', '\\134012', [0x5c, 0x30, 0x31, 0x32]],
    ['ESC sequences', '\\033[31m', [0x1b, 0x5b, 0x33, 0x31, 0x6d]],
    ['the highest octal escape', '\\377', [0xff]],
    ['UTF-8 bytes, which tmux writes raw', '\xe4\xb8\xad', [0xe4, 0xb8, 0xad]],
    ['a backslash not followed by three octal digits', '\\8\\01x\\', [0x5c, 0x38, 0x5c, 0x30, 0x31, 0x78, 0x5c]],
  ];
  for (const [what, input, expected] of cases) {
    it(`decodes ${what}`, function () {
      assert.deepEqual([...unescapeOutput(bytes(input))], expected);
    });
  }

  it('starts at the given offset', function () {
    const line = bytes('%output %1 x\\012');
    assert.deepEqual([...unescapeOutput(line, '%output %1 '.length)], [0x78, 0x0a]);
  });

  it('decodes a captured %output line to what the pane printed', function () {
    // tmux 3.3a, after `send-keys -l '中文😀 tab<TAB>here \ end'` and Enter to `cat`: the echo.
    const line = Buffer.concat([bytes('%output %0 \\015\\012'), Buffer.from('中文😀', 'utf8'), bytes(' tab\\011here \\134 end\\015\\012')]);
    const start = '%output %0 '.length;
    assert.equal(Buffer.from(unescapeOutput(line, start)).toString('utf8'), '\r\n中文😀 tab\there \\ end\r\n');
  });
});

describe('pane output through a real control client', function () {
  this.timeout(15_000);
  let server: PrivateTmux;
  let client: ControlClient | undefined;

  beforeEach(function () {
    server = new PrivateTmux();
  });

  afterEach(function () {
    client?.close();
    client = undefined;
    server.kill();
  });

  it('decodes a UTF-8 character split across two %output lines', async function () {
    // The program writes 中 and 😀 in three pieces, each cut inside a character, with pauses so
    // that tmux reads (and reports) each piece on its own %output line.
    const script = "sleep 0.5; printf '\\344\\270'; sleep 0.3; printf '\\255\\360\\237'; sleep 0.3; printf '\\230\\200 done'; sleep 100";
    const session = server.newSession('out', 'sh', '-c', script);
    client = new ControlClient(server.address, { target: session });
    const outputs: { paneId: string; text: string }[] = [];
    client.onOutput((output) => outputs.push(output));
    await client.ready;
    const [paneId] = await client.command(['display-message', '-p', '-t', session, '#{pane_id}']);
    await eventually('the whole output', () => outputs.map((o) => o.text).join('').includes('done'), 5000);
    const texts = outputs.filter((o) => o.paneId === paneId).map((o) => o.text);
    assert.equal(texts.join(''), '中😀 done');
    assert.ok(!texts.join('').includes('\ufffd'), 'no replacement characters');
    // Each piece came on its own line: the first ended inside 中, so nothing could be shown until
    // the second arrived, and each event holds only whole characters.
    assert.deepEqual(texts, ['中', '😀 done']);
  });

  it('keeps the output of two panes apart while decoding', async function () {
    const session = server.newSession('two', 'sh', '-c', "sleep 0.5; printf '\\344\\270'; sleep 0.6; printf '\\255A'; sleep 100");
    const second = server.tmux('split-window', '-d', '-t', session, '-P', '-F', '#{pane_id}', "sh -c \"sleep 0.8; printf '\\\\360\\\\237\\\\230\\\\200B'; sleep 100\"").trim();
    client = new ControlClient(server.address, { target: session });
    const outputs: { paneId: string; text: string }[] = [];
    client.onOutput((output) => outputs.push(output));
    await client.ready;
    await eventually('both panes printed', () => outputs.some((o) => o.text.includes('A')) && outputs.some((o) => o.text.includes('B')), 5000);
    const of = (pane: string) => outputs.filter((o) => o.paneId === pane).map((o) => o.text).join('');
    assert.equal(of(second), '😀B');
    const first = outputs.find((o) => o.paneId !== second)!.paneId;
    assert.equal(of(first), '中A');
  });
});
