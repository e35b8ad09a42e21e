import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fc from 'fast-check';
import { LayoutKeeper } from '../../src/core/snapshots/proportions';
import { formatLayout, parseLayout, scaleLayout } from '../../src/tmux/layout';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

/** Widths of the panes, left to right, of a `{…}` layout's top level. */
function columns(layout: string): number[] {
  return parseLayout(layout).children!.map((cell) => cell.width);
}

describe('tmux layout strings', function () {
  it('reads and writes back what tmux prints, checksum included', function () {
    for (const layout of [
      '79d4,160x50,0,0{129x50,0,0,0,30x50,130,0[30x25,130,0,1,30x24,130,26,2]}',
      '5732,160x50,0,0,13',
      'db86,160x50,0,0[160x25,0,0,18,160x24,0,26{80x24,0,26,19,79x24,81,26,20}]',
      '8a8f,160x50,0,0{80x50,0,0,3,79x50,81,0[79x34,81,0,6,79x15,81,35{68x15,81,35,5,10x15,150,35,4}]}',
    ]) {
      assert.equal(formatLayout(parseLayout(layout)), layout);
    }
  });

  it('says what is wrong with a string that is not a layout', function () {
    assert.throws(() => parseLayout('abcd,80x24,0,0{'), /not a tmux layout/);
    assert.throws(() => parseLayout('tiled'), /not a tmux layout/);
  });

  it('scales every split in proportion, and tmux accepts the result as it is', function () {
    const server = new PrivateTmux();
    try {
      server.tmux('new-session', '-d', '-s', 's', '-x', '160', '-y', '50');
      server.tmux('split-window', '-h', '-l', '30', '-t', 's');
      server.tmux('split-window', '-v', '-t', 's:0.1');
      const saved = server.tmux('display-message', '-p', '-t', 's', '#{window_layout}').trim();
      const scaled = scaleLayout(saved, 80, 25);
      assert.deepEqual(columns(scaled), [64, 15], '129:30 of 160 becomes 64:15 of 80');
      server.tmux('resize-window', '-t', 's', '-x', '80', '-y', '25');
      server.tmux('select-layout', '-t', 's', scaled);
      assert.equal(server.tmux('display-message', '-p', '-t', 's', '#{window_layout}').trim(), scaled);
    } finally {
      server.kill();
    }
  });

  it('always fits: any proportions, any size down to one cell per pane', function () {
    const cell = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant<'leaf'>('leaf'), fc.record({ split: fc.constantFrom('row', 'column'), children: fc.array(tie('node'), { minLength: 2, maxLength: 4 }) })),
    })).node;
    fc.assert(
      fc.property(cell, fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 100 }), (tree, width, height) => {
        const layout = scaleLayout(formatLayout(build(tree as Shape, 200, 60, 0, 0)), width, height);
        const root = parseLayout(layout);
        assertConsistent(root);
        assert.ok(root.width >= width && root.height >= height);
      }),
      { numRuns: 300 },
    );
  });
});

type Shape = 'leaf' | { split: 'row' | 'column'; children: Shape[] };
let nextPane = 0;
function build(shape: Shape, width: number, height: number, x: number, y: number): ReturnType<typeof parseLayout> {
  if (shape === 'leaf') return { width, height, x, y, paneId: nextPane++ };
  const row = shape.split === 'row';
  const n = shape.children.length;
  const each = Math.max(1, Math.floor(((row ? width : height) - (n - 1)) / n));
  let offset = row ? x : y;
  const children = shape.children.map((child) => {
    const cell = row ? build(child, each, height, offset, y) : build(child, width, each, x, offset);
    offset += each + 1;
    return cell;
  });
  const total = offset - (row ? x : y) - 1;
  return { width: row ? total : width, height: row ? height : total, x, y, split: shape.split, children };
}

/** Children tile their parent exactly, borders included, as tmux requires. */
function assertConsistent(cell: ReturnType<typeof parseLayout>): void {
  if (!cell.children) return;
  const row = cell.split === 'row';
  let offset = row ? cell.x : cell.y;
  for (const child of cell.children) {
    assert.equal(row ? child.x : child.y, offset);
    assert.equal(row ? child.height : child.width, row ? cell.height : cell.width);
    assert.ok(child.width >= 1 && child.height >= 1);
    offset += (row ? child.width : child.height) + 1;
    assertConsistent(child);
  }
  assert.equal(offset - 1, row ? cell.x + cell.width : cell.y + cell.height);
}

describe('LayoutKeeper: restored windows keep their proportions in a client of another size', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let service: TmuxService;
  let keeper: LayoutKeeper | undefined;

  beforeEach(async function () {
    server = new PrivateTmux();
    server.tmux('new-session', '-d', '-s', 'restored', '-x', '160', '-y', '50');
    server.tmux('split-window', '-h', '-l', '30', '-t', 'restored');
    const log = process.env.TSM_TEST_LOG ? (m: string) => console.log(`    [${Date.now() % 100000}] ${m.slice(0, 300)}`) : () => undefined;
    service = new TmuxService(server.address, { log: { trace: log, info: log, warn: log, error: log } });
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok');
  });

  afterEach(async function () {
    keeper?.dispose();
    await service.dispose();
    server.kill();
  });

  /** A client the size of a small terminal, as when the user attaches in a narrow panel. */
  function attachClient(width: number, height: number) {
    const client = spawn('tmux', ['-S', server.socketPath, '-C', 'attach-session', '-t', 'restored'], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, TMUX: '' } });
    // A size sent before tmux has attached the client is sometimes lost: send it once attached.
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (!seen.includes('%session-changed')) return;
      client.stdout.off('data', onData);
      client.stdout.resume();
      client.stdin.write(`refresh-client -C ${width}x${height}\n`);
    };
    client.stdout.on('data', onData);
    return client;
  }

  it('re-applies the saved layout scaled to the new size, not tmux shrinking the last pane', async function () {
    await service.refresh();
    const window = service.tree.sessions[0].windows[0];
    keeper = new LayoutKeeper(service);
    keeper.keep([{ id: window.id, layout: window.layout }]);
    const client = attachClient(80, 25);
    try {
      await eventually('proportional columns', () => {
        const layout = server.tmux('display-message', '-p', '-t', 'restored', '#{window_layout}').trim();
        return JSON.stringify(columns(layout)) === JSON.stringify([64, 15]) && layout;
      });
      // Without the keeper tmux would have left 78:1.
    } finally {
      client.kill();
    }
  });

  it('lets go once the user changes the layout', async function () {
    await service.refresh();
    const window = service.tree.sessions[0].windows[0];
    keeper = new LayoutKeeper(service);
    keeper.keep([{ id: window.id, layout: window.layout }]);
    server.tmux('resize-pane', '-t', 'restored:0.1', '-x', '50');
    await eventually('keeper let go', () => keeper!.size === 0);
    assert.deepEqual(columns(server.tmux('display-message', '-p', '-t', 'restored', '#{window_layout}').trim()), [109, 50]);
  });
});
