import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as vscode from 'vscode';
import type { TmuxSessionManagerApi } from '../../src/extension';
import { api, eventually, execute, killServer, SOCKET_NAME, tmux } from './helpers';
import { processAlive } from '../unit/helpers/tmux';

/**
 * The server must survive us, and when it dies anyway the user must hear it, with the way back.
 * A connect is forced by changing the connection setting, which rebuilds the service as a new
 * window would.
 */
describe('A tmux server that dies, and one that must not', function () {
  this.timeout(60_000);
  let tsm: TmuxSessionManagerApi;
  const config = () => vscode.workspace.getConfiguration('tmuxSessionManager');
  const sessionNames = () => tsm.service().tree.sessions.map((s) => s.name).sort();

  before(async function () {
    await killServer();
    tsm = await api();
    await vscode.commands.executeCommand('workbench.view.extension.tmuxSessionManager');
  });

  after(async function () {
    await config().update('connection', undefined, vscode.ConfigurationTarget.Global);
    await config().update('autosaveMinutes', undefined, vscode.ConfigurationTarget.Global);
    await killServer();
  });

  it('an outside script builds 20 sessions while the window connects, and the server survives', async function () {
    tmux('new-session', '-d', '-s', 'anchor');
    const pid = Number(tmux('display-message', '-p', '#{pid}').trim());
    // What a project script does: sessions, windows, splits, renames and window switches, fast.
    const script = Array.from({ length: 20 }, (_, i) => [
      `tmux -L "$S" new-session -d -s build-${i}`,
      `tmux -L "$S" new-window -d -t build-${i}: \\; split-window -d -t build-${i}: \\; select-window -t build-${i}:1 \\; rename-window -t build-${i}:1 w${i}`,
    ].join('\n')).join('\n');
    const builder = spawn('sh', ['-c', script], { env: { ...process.env, S: SOCKET_NAME, TMUX: '' }, stdio: 'ignore' });
    const built = new Promise<number | null>((resolve) => builder.on('exit', resolve));
    // The window connects anew while the script runs.
    await config().update('connection', 'hooks', vscode.ConfigurationTarget.Global);
    assert.equal(await built, 0, 'every command of the script succeeded');
    await eventually('21 sessions in the tree', () => sessionNames().length === 21, 10_000);
    assert.ok(processAlive(pid), 'the server is alive');
    assert.equal(tsm.service().state.kind, 'ok');
  });

  it('a kill-server is no crash: no notice, the status bar says "no server"', async function () {
    const before = tsm.serverEndNotices.length;
    await killServer();
    await eventually('no server', () => tsm.service().state.kind === 'noServer');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(tsm.serverEndNotices.length, before, 'no notice for a server the user stopped');
    assert.match(tsm.statusBar.text, /tmux: no server/);
  });

  it('a server that dies (SIGSEGV) is named a crash, with its time and the last autosave, and the sessions come back', async function () {
    await config().update('autosaveMinutes', 5, vscode.ConfigurationTarget.Global);
    tmux('new-session', '-d', '-s', 'precious', '-n', 'editor');
    tmux('new-window', '-d', '-t', 'precious:', '-n', 'logs');
    await eventually('the session in the tree', () => sessionNames().includes('precious'));
    const autosaver = await eventually('the autosaver', () => tsm.autosaver());
    const record = await autosaver.saveNow();
    assert.equal(record.error, undefined);

    const before = tsm.serverEndNotices.length;
    const pid = Number(tmux('display-message', '-p', '#{pid}').trim());
    await eventually('the crash watch ready', () => tsm.service().getStats().crashWatch, 5000);
    process.kill(pid, 'SIGSEGV');
    const notice = await eventually('the crash notice', () => tsm.serverEndNotices[before], 10_000);
    assert.match(notice.message, /^The tmux server stopped unexpectedly at .+; your sessions were last autosaved at .+\.$/);
    assert.deepEqual(notice.actions, ['Restore Autosaved Sessions', 'Show Log']);
    assert.match(tsm.statusBar.text, /server stopped unexpectedly/);
    assert.match(tsm.statusBar.tooltipText, /Restore autosaved sessions/);

    // The notice's button runs this command: the session is back.
    const restored = await execute<string[]>('restoreAutosaved', { sessions: ['precious'] });
    assert.deepEqual(restored, ['precious']);
    await eventually('the restored session in the tree', () => tsm.service().tree.sessions.find((s) => s.name === 'precious')?.windows.length === 2, 10_000);
    assert.doesNotMatch(tsm.statusBar.text, /unexpectedly/);
  });
});
