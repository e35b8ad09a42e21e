import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PaneOutputHub } from '../../src/core/output/outputHub';
import { PaneOutputEnd, PanePipeBusyError } from '../../src/core/output/paneOutput';
import { waitForOutput } from '../../src/core/output/waitFor';
import { PaneId } from '../../src/tmux/model';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

/** Several readers of one pane in one process share its one pipe-pane (tmux allows no second). */
describe('PaneOutputHub: one pipe per pane, any number of readers', function () {
  this.timeout(20_000);
  let server: PrivateTmux;
  let service: TmuxService;
  let tempRoot: string;
  let hub: PaneOutputHub;

  beforeEach(function () {
    server = new PrivateTmux();
    server.newSession('main');
    service = new TmuxService(server.address);
    tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-hub-'));
    hub = new PaneOutputHub((argv) => service.run(argv), server.address, { tempRoot });
  });

  afterEach(async function () {
    await hub.dispose();
    await service.dispose();
    server.kill();
    const left = fs.readdirSync(tempRoot);
    fs.rmSync(tempRoot, { recursive: true, force: true });
    assert.deepEqual(left, [], 'FIFO folders left behind');
  });

  const pane = (command: string) => server.tmux('new-window', '-d', '-t', 'main:', '-P', '-F', '#{pane_id}', command).trim() as PaneId;
  const pipeOpen = (id: string) => server.tmux('display-message', '-p', '-t', id, '#{pane_pipe}').trim() === '1';
  const say = (id: string, text: string) => server.tmux('send-keys', '-t', id, '-l', `${text}\n`);

  it('gives every reader the output, keeps the pipe while one reads, closes it after the last', async function () {
    const id = pane('cat');
    let first = '';
    let second = '';
    const ends: PaneOutputEnd['kind'][] = [];
    const a = await hub.open(id, { onText: (t) => (first += t), onEnd: (e) => ends.push(e.kind) });
    const b = await hub.open(id, { onText: (t) => (second += t), onEnd: (e) => ends.push(e.kind) });
    assert.deepEqual([...hub.readers], [[id, 2]]);
    say(id, 'both-see-this');
    await eventually('both readers see the line', () => first.includes('both-see-this') && second.includes('both-see-this'));
    await a.stop();
    assert.ok(pipeOpen(id), 'the pipe closed while a reader was left');
    say(id, 'only-second');
    await eventually('the second reader sees the next line', () => second.includes('only-second'));
    assert.ok(!first.includes('only-second'), 'a stopped reader got more text');
    await b.stop();
    assert.deepEqual(ends, ['stopped', 'stopped']);
    assert.equal(pipeOpen(id), false);
    assert.deepEqual([...hub.readers], []);
  });

  it('a wait and a follower on the same pane both work, and a reader right after the last one left opens a new pipe', async function () {
    const id = pane('cat');
    let followed = '';
    const follower = await hub.open(id, { onText: (t) => (followed += t) });
    const waiting = waitForOutput((argv) => service.run(argv), server.address, id, { regex: /ready-\d+/, timeoutMs: 10_000, open: hub.open });
    await new Promise((resolve) => setTimeout(resolve, 100));
    say(id, 'ready-7');
    const result = await waiting;
    assert.equal(result.kind, 'matched');
    assert.ok(followed.includes('ready-7'));
    const closing = follower.stop();
    // Opened while the last pipe is still closing: waits for it instead of finding the pane busy.
    let again = '';
    const reopened = await hub.open(id, { onText: (t) => (again += t) });
    await closing;
    say(id, 'after-reopen');
    await eventually('the new reader sees output', () => again.includes('after-reopen'));
    await reopened.stop();
  });

  it('passes the end to every reader when the pane goes, and a pipe of the user\'s stays an error for all', async function () {
    const id = pane('cat');
    const ends: string[] = [];
    await hub.open(id, { onText: () => undefined, onEnd: (e) => ends.push(e.kind) });
    await hub.open(id, { onText: () => undefined, onEnd: (e) => ends.push(e.kind) });
    server.tmux('kill-pane', '-t', id);
    await eventually('both readers told', () => ends.length === 2);
    assert.deepEqual(ends, ['paneGone', 'paneGone']);

    const users = pane('cat');
    server.tmux('pipe-pane', '-t', users, 'cat > /dev/null');
    await assert.rejects(hub.open(users, { onText: () => undefined }), PanePipeBusyError);
    await assert.rejects(hub.open(users, { onText: () => undefined }), PanePipeBusyError);
    assert.deepEqual([...hub.readers], []);
  });
});
