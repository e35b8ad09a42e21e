import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { WaitResult } from '../../src/core/output/waitFor';
import type { TmuxSessionManagerApi } from '../../src/extension';
import { PaneFollower, PENDING_LIMIT_CHARS } from '../../src/vscode/commands/followPane';
import type { Pane } from '../../src/tmux/model';
import { api, eventually, execute, killServer, tmux, tmuxLines } from './helpers';

/** Follow Pane Output and Wait for Output through executeCommand, on panes of unattached sessions. */
describe('Following and waiting for pane output in VS Code', function () {
  let tsm: TmuxSessionManagerApi;

  const paneOf = async (session: string): Promise<Pane> => {
    await eventually(`session ${session} in the tree`, () => tsm.service().tree.sessions.some((s) => s.name === session));
    return tsm.service().tree.sessions.find((s) => s.name === session)!.windows[0].panes[0];
  };
  const pipes = () => tmuxLines('list-panes', '-a', '-F', '#{pane_id} #{pane_pipe}').filter((line) => line.endsWith(' 1'));

  before(async function () {
    await killServer();
    tsm = await api();
    await vscode.commands.executeCommand('workbench.view.extension.tmuxSessionManager');
    tmux('new-session', '-d', '-s', 'out-follow', '-x', '120', '-y', '30');
    tmux('new-session', '-d', '-s', 'out-wait', '-x', '120', '-y', '30');
  });

  after(async function () {
    await killServer();
  });

  it('Follow Pane Output shows what is on screen, then the new output, and closing it leaves no pipe', async function () {
    const pane = await paneOf('out-follow');
    tmux('send-keys', '-t', pane.id, '-l', 'echo before-follow');
    tmux('send-keys', '-t', pane.id, 'Enter');
    await eventually('the first echo on screen', () => tmux('capture-pane', '-p', '-t', pane.id).includes('\nbefore-follow'));
    const follower = await execute<PaneFollower>('followPane', pane);
    assert.ok(follower, 'the command returned no follower');
    assert.match(follower.terminal.name, /^follow: out-follow:0\.0 /);
    assert.deepEqual(pipes(), [`${pane.id} 1`]);
    await eventually('the screen shown', () => follower.tail.includes('before-follow'));
    tmux('send-keys', '-t', pane.id, '-l', 'for i in 1 2 3; do printf "\\033[32mgreen-%s\\033[0m\\n" $i; done');
    tmux('send-keys', '-t', pane.id, 'Enter');
    await eventually('new, coloured output shown', () => /\u001b\[32mgreen-3\u001b\[0m/.test(follower.tail));
    // Following the same pane again shows the same terminal.
    assert.equal(await execute<PaneFollower>('followPane', pane), follower);
    follower.terminal.dispose();
    await eventually('the follower closed', () => follower.closed && tsm.followers.open.length === 0);
    await eventually('the pipe closed in tmux', () => pipes().length === 0);
  });

  it('follows 10 MB printed by an unattached session to the end, in bounded memory, and leaves no writer behind', async function () {
    this.timeout(120_000);
    tmux('new-session', '-d', '-s', 'out-flood', '-x', '120', '-y', '30');
    const pane = await paneOf('out-flood');
    const follower = await execute<PaneFollower>('followPane', pane);
    const serverPid = tmux('display-message', '-p', '#{pid}').trim();
    try {
      // 10 MB of 64-byte lines, then a mark.
      tmux('send-keys', '-t', pane.id, '-l', "yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY | head -c 10485760; echo flood-$((1+1))-done");
      tmux('send-keys', '-t', pane.id, 'Enter');
      await eventually('the end mark in the follow view', () => follower.tail.includes('flood-2-done'), 90_000);
      assert.ok(follower.received >= 10 * 1024 * 1024, `received ${follower.received} characters`);
      // Bounded: what waits for the terminal never passes the cap (plus one chunk from the pipe).
      assert.ok(follower.maxPending <= PENDING_LIMIT_CHARS + 256 * 1024, `held ${follower.maxPending} characters at most`);
    } finally {
      follower.terminal.dispose();
    }
    const closing = Date.now();
    await eventually('the pipe closed in tmux', () => pipes().length === 0, 60_000);
    console.log(`      closed ${Date.now() - closing} ms after the terminal was disposed; skipped ${follower.skipped}, max pending ${follower.maxPending}`);
    const writers = () => execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', serverPid], { encoding: 'utf8' }).split('\n').filter((line) => /\bcat$/.test(line.trim()));
    await eventually('no pipe writer left under the server', () => writers().length === 0);
  });

  it('Wait for Output resolves on a pattern printed after the call, not on what the screen already shows', async function () {
    const pane = await paneOf('out-wait');
    tmux('send-keys', '-t', pane.id, '-l', 'echo ready-$((6*7))');
    tmux('send-keys', '-t', pane.id, 'Enter');
    await eventually('the old line on screen', () => tmux('capture-pane', '-p', '-t', pane.id).includes('\nready-42'));
    const waiting = execute<WaitResult>('waitForOutput', { pane: pane.id, pattern: 'ready-4\\d', timeoutMs: 20_000, silent: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    tmux('send-keys', '-t', pane.id, '-l', 'echo ready-$((40+7))');
    tmux('send-keys', '-t', pane.id, 'Enter');
    const result = await waiting;
    assert.equal(result.kind, 'matched');
    assert.equal(result.match, 'ready-47');
    assert.deepEqual(pipes(), []);
  });

  it('Wait for Output gives up after its timeout with the last lines, and waits for quiet and exit', async function () {
    const pane = await paneOf('out-wait');
    const waiting = execute<WaitResult>('waitForOutput', { pane: pane.id, pattern: '/never-printed/i', timeoutMs: 1500, silent: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    tmux('send-keys', '-t', pane.id, '-l', 'echo last-line-$((1+1))');
    tmux('send-keys', '-t', pane.id, 'Enter');
    const timedOut = await waiting;
    assert.equal(timedOut.kind, 'timeout');
    assert.ok(timedOut.lastLines.includes('last-line-2'), JSON.stringify(timedOut.lastLines));

    const quiet = await execute<WaitResult>('waitForOutput', { pane: pane.id, quietMs: 300, timeoutMs: 10_000, silent: true });
    assert.equal(quiet.kind, 'quiet');

    const exiting = execute<WaitResult>('waitForOutput', { pane: pane.id, untilExit: true, timeoutMs: 10_000, silent: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    tmux('send-keys', '-t', pane.id, '-l', 'exit');
    tmux('send-keys', '-t', pane.id, 'Enter');
    assert.equal((await exiting).kind, 'exited');
  });

  it('the extension API waits too, sharing the pipe of a pane being followed', async function () {
    tmux('new-session', '-d', '-s', 'out-api');
    const pane = await paneOf('out-api');
    const follower = await execute<PaneFollower>('followPane', pane);
    try {
      const waiting = tsm.waitForOutput(pane.id, { regex: /api-\d+/, timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      tmux('send-keys', '-t', pane.id, '-l', 'echo api-$((2*21))');
      tmux('send-keys', '-t', pane.id, 'Enter');
      assert.equal((await waiting).match, 'api-42');
      assert.deepEqual(pipes(), [`${pane.id} 1`], 'the wait closed the pipe the follow view still reads');
    } finally {
      follower.terminal.dispose();
    }
    await eventually('the pipe closed in tmux', () => pipes().length === 0, 30_000);
  });

  it('a bad pattern is refused before anything is waited for', async function () {
    tmux('new-session', '-d', '-s', 'out-bad');
    const pane = await paneOf('out-bad');
    const result = await execute<WaitResult | undefined>('waitForOutput', { pane: pane.id, pattern: 'unclosed(', timeoutMs: 5000, silent: true });
    assert.equal(result, undefined);
    assert.deepEqual(pipes(), []);
  });
});
