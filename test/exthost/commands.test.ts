import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TmuxSessionManagerApi } from '../../src/extension';
import type { HealthCheck } from '../../src/core/health';
import type { Pane, Session, TmuxObject } from '../../src/tmux/model';
import { api, eventually, execute, killServer, serverRunning, SOCKET_NAME, tmux, tmuxLines } from './helpers';

/**
 * Every command run through vscode.commands.executeCommand in a real VS Code, checked in tmux
 * itself. Tree-row commands get the row's element, as a click in the view passes it.
 */
describe('Tmux Session Manager in VS Code', function () {
  let tsm: TmuxSessionManagerApi;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-exthost-'));

  const sessionNamed = (name: string): Session | undefined => tsm.service().tree.sessions.find((s) => s.name === name);
  const byId = (id: string): TmuxObject | undefined => {
    for (const s of tsm.service().tree.sessions) {
      if (s.id === id) return s;
      for (const w of s.windows) {
        if (w.id === id) return w;
        for (const p of w.panes) if (p.id === id) return p;
      }
    }
    return undefined;
  };
  const firstPane = (session: Session): Pane => session.windows[0].panes[0];

  before(async function () {
    await killServer();
    tsm = await api();
    // The tree repaints only while its view is visible, as a user would have it open.
    await vscode.commands.executeCommand('workbench.view.extension.tmuxSessionManager');
  });

  after(async function () {
    await killServer();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('activates at startup and shows "no server" in the status bar while none runs', async function () {
    assert.ok(vscode.extensions.getExtension('tmux-session-manager.tmux-session-manager')?.isActive);
    await eventually('the no-server state', () => tsm.service().state.kind === 'noServer');
    assert.match(tsm.statusBar.text, /no server/);
    // The tree repaints a moment after a change (debounced): a suite before this one may have just killed its server.
    await eventually('an empty tree', () => tsm.treeProvider.getChildren().length === 0);
  });

  it('registers every command of the manifest', async function () {
    const all = await vscode.commands.getCommands(true);
    for (const id of ['newSession', 'attach', 'rename', 'kill', 'newWindow', 'splitPane', 'sendKeys', 'capturePane', 'refresh', 'showHealth', 'showLog']) {
      assert.ok(all.includes(`tmuxSessionManager.${id}`), `tmuxSessionManager.${id} is not registered`);
    }
  });

  it('newSession starts a server and a session in the given folder, and the tree and status bar show it', async function () {
    const id = await execute<string>('newSession', { name: 'alpha', cwd: folder });
    assert.match(id, /^\$\d+$/);
    assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}'), ['alpha']);
    // tmux reads the folder from the pane's foreground process, which takes a moment to start.
    await eventually('the pane in the folder', () => tmux('display-message', '-p', '-t', id, '#{pane_current_path}').trim() === fs.realpathSync(folder));
    await eventually('the tree row', () => tsm.treeProvider.getChildren().some((s) => s.id === id));
    await eventually('ok in the status bar', () => /1 session\b/.test(tsm.statusBar.text));
    const item = tsm.treeProvider.getTreeItem(sessionNamed('alpha')!);
    assert.equal(item.label, 'alpha');
    assert.equal(item.id, id);
    assert.match(String(item.description), /1 window/);
  });

  it('newSession refuses a name tmux would rewrite, and creates nothing', async function () {
    const before = tmuxLines('list-sessions', '-F', '#{session_name}');
    assert.equal(await execute('newSession', { name: 'a.b:c', cwd: folder }), undefined);
    assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}'), before);
  });

  it('newSession keeps names with spaces, quotes, ";" and "#{...}" exactly', async function () {
    const name = `it's "x"; #{pane_id} 100$ ~`;
    await execute('newSession', { name, cwd: folder });
    assert.ok(tmuxLines('list-sessions', '-F', '#{session_name}').includes(name));
    await eventually('the session in the tree', () => sessionNamed(name));
    assert.equal(tmuxLines('list-sessions').some((line) => /PWNED/.test(line)), false);
  });

  it('newWindow adds a window to the clicked session', async function () {
    const alpha = sessionNamed('alpha')!;
    const id = await execute<string>('newWindow', alpha);
    assert.match(id, /^@\d+$/);
    assert.equal(tmuxLines('list-windows', '-t', alpha.id).length, 2);
    await eventually('two windows in the tree', () => sessionNamed('alpha')!.windows.length === 2);
  });

  it('splitPane right and down add panes beside and below', async function () {
    const pane = firstPane(sessionNamed('alpha')!);
    const right = await execute<string>('splitPaneHorizontal', pane);
    const rightPane = await eventually('the new pane in the model', () => byId(right));
    const down = await execute<string>('splitPane', rightPane, 'down');
    const geometry = (id: string) => tmux('display-message', '-p', '-t', id, '#{pane_left} #{pane_top}').trim().split(' ').map(Number);
    assert.ok(geometry(right)[0] > geometry(pane.id)[0], 'the right pane starts further right');
    assert.ok(geometry(down)[1] > geometry(right)[1], 'the lower pane starts further down');
    await eventually('three panes in the window', () => sessionNamed('alpha')!.windows.find((w) => w.id === pane.windowId)!.panes.length === 3);
  });

  it('rename renames a session and a window exactly', async function () {
    const alpha = sessionNamed('alpha')!;
    await execute('rename', alpha, 'beta "two"; #1');
    assert.ok(tmuxLines('list-sessions', '-F', '#{session_name}').includes('beta "two"; #1'));
    const window = byId(alpha.windows[0].id)!;
    await execute('rename', window, 'editor: main');
    assert.equal(tmux('display-message', '-p', '-t', window.id, '#{window_name}').trim(), 'editor: main');
    await eventually('the renamed session in the tree', () => sessionNamed('beta "two"; #1'));
  });

  it('sendKeys types text with Enter, and capturePane shows the output in a read-only editor', async function () {
    const pane = firstPane(sessionNamed('beta "two"; #1')!);
    await execute('sendKeys', pane, { text: 'echo hel""lo-$((6*7))', enter: true });
    await eventually('hello-42 on the pane', () => tmux('capture-pane', '-p', '-t', pane.id).includes('hello-42'));
    const document = await execute<vscode.TextDocument>('capturePane', pane);
    assert.equal(document.uri.scheme, 'tmux-capture');
    assert.match(document.getText(), /hello-42/);
    assert.doesNotMatch(document.getText(), /\u001b\[/);
  });

  it('sendKeys presses named keys and refuses an unknown key name without sending anything', async function () {
    const pane = firstPane(sessionNamed('beta "two"; #1')!);
    await execute('sendKeys', pane, { text: 'sleep 1000', enter: true });
    await eventually('sleep running', () => tmux('display-message', '-p', '-t', pane.id, '#{pane_current_command}').trim() === 'sleep');
    await execute('sendKeys', pane, { keys: ['C-c'] });
    await eventually('sleep interrupted', () => tmux('display-message', '-p', '-t', pane.id, '#{pane_current_command}').trim() !== 'sleep');
    await execute('sendKeys', pane, { text: 'echo ', enter: false });
    await execute('sendKeys', pane, { keys: ['Entr'] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.doesNotMatch(tmux('capture-pane', '-p', '-t', pane.id), /Entr/);
  });

  it('attach opens one integrated terminal per session, attached to it, and reuses it', async function () {
    const session = sessionNamed('beta "two"; #1')!;
    const before = vscode.window.terminals.length;
    await execute('attach', session);
    const terminal = await eventually('the terminal', () => vscode.window.terminals.find((t) => t.name === `tmux: ${session.name}`));
    const options = terminal.creationOptions as vscode.TerminalOptions;
    assert.equal(options.env?.TMUX, null, 'the terminal drops TMUX so attaching works from inside tmux');
    await eventually('a real client attached', () => tmuxLines('list-clients', '-F', '#{client_control_mode} #{session_id}').includes(`0 ${session.id}`), 10_000);
    await execute('attach', session);
    assert.equal(vscode.window.terminals.length, before + 1);
    await eventually('"attached" in the tree', () => /attached/.test(String(tsm.treeProvider.getTreeItem(sessionNamed(session.name)!).description)));
    terminal.dispose();
  });

  it('kill ends a pane, a window and a session gracefully', async function () {
    const session = sessionNamed('beta "two"; #1')!;
    const window = session.windows.find((w) => w.panes.length === 3)!;
    const pane = window.panes[2];
    await execute('kill', pane, { confirm: false });
    assert.ok(!tmuxLines('list-panes', '-a', '-F', '#{pane_id}').includes(pane.id));
    await execute('kill', byId(window.id), { confirm: false });
    assert.ok(!tmuxLines('list-windows', '-a', '-F', '#{window_id}').includes(window.id));
    const victim = await execute<string>('newSession', { name: 'victim', cwd: folder });
    const victimPane = tmux('display-message', '-p', '-t', victim, '#{pane_id}').trim();
    tmux('send-keys', '-t', victimPane, 'sleep 1000', 'Enter');
    await eventually('sleep running', () => tmux('display-message', '-p', '-t', victimPane, '#{pane_current_command}').trim() === 'sleep');
    const report = await execute<{ lastStep: string }>('kill', byId(victim), { confirm: false });
    assert.equal(report.lastStep, 'interrupt', 'sleep stops on Ctrl-C');
    assert.ok(!tmuxLines('list-sessions', '-F', '#{session_id}').includes(victim));
    await eventually('the session gone from the tree', () => !byId(victim));
  });

  it('showHealth reports every check passing while the server runs', async function () {
    const checks = await execute<HealthCheck[]>('showHealth', { silent: true });
    assert.deepEqual(checks.map((c) => c.id), ['binary', 'version', 'server', 'socket', 'connection', 'dataDir']);
    assert.deepEqual(checks.filter((c) => !c.ok).map((c) => c.label), []);
    await execute('refresh');
    await execute('showLog');
  });

  it('installCli puts tmux-session-manager and tsm in ~/.local/bin, and they list the sessions', async function () {
    // HOME is the run's own folder (test/e2e/project.mjs): nothing lands in a real home.
    const runDir = process.env.TSM_TEST_RUN_DIR;
    assert.ok(runDir && os.homedir().startsWith(runDir), `HOME ${os.homedir()} is not inside the run folder`);
    const result = await execute<{ written: string[]; unchanged: string[]; refused: string[]; folder: string }>('installCli');
    assert.equal(result.folder, path.join(os.homedir(), '.local', 'bin'));
    assert.deepEqual([...result.written, ...result.unchanged].map((file) => path.basename(file)).sort(), ['tmux-session-manager', 'tsm']);
    const again = await execute<{ written: string[] }>('installCli');
    assert.deepEqual(again.written, []);
    await execute('newSession', { name: 'from the cli', cwd: folder });
    const { execFileSync } = await import('node:child_process');
    const listing = JSON.parse(execFileSync(path.join(result.folder, 'tsm'), ['-L', SOCKET_NAME, 'ls', '--json'], { encoding: 'utf8' })) as { sessions: { name: string }[] };
    assert.ok(listing.sessions.some((s) => s.name === 'from the cli'));
  });

  it('follows the server dying and coming back', async function () {
    const killed = killServer();
    await eventually('no server in the status bar', () => /no server/.test(tsm.statusBar.text), 1000);
    await killed;
    const checks = await execute<HealthCheck[]>('showHealth', { silent: true });
    assert.deepEqual(checks.find((c) => c.id === 'server')?.fixes, ['startServer']);
    tmux('new-session', '-d', '-s', 'reborn');
    await eventually('the new session in the status bar', () => /1 session\b/.test(tsm.statusBar.text), 2000);
    assert.ok(sessionNamed('reborn'));
  });

  it('reconnects to another server when the socket setting changes', async function () {
    const other = `${SOCKET_NAME}-other`;
    const config = vscode.workspace.getConfiguration('tmuxSessionManager');
    try {
      await config.update('socketName', other, vscode.ConfigurationTarget.Global);
      await eventually('no server on the other socket', () => tsm.service().state.kind === 'noServer');
      assert.ok(serverRunning(), 'the first server is left alone');
    } finally {
      await config.update('socketName', SOCKET_NAME, vscode.ConfigurationTarget.Global);
    }
    await eventually('back on the first server', () => tsm.service().state.kind === 'ok' && sessionNamed('reborn'));
  });

  it('says tmux is not installed when the configured path is wrong, and recovers when it is fixed', async function () {
    const config = vscode.workspace.getConfiguration('tmuxSessionManager');
    try {
      await config.update('tmuxPath', path.join(folder, 'no-such-tmux'), vscode.ConfigurationTarget.Global);
      await eventually('the tmux-missing state', () => tsm.service().state.kind === 'tmuxMissing');
      assert.match(tsm.statusBar.text, /not installed/);
      const checks = await execute<HealthCheck[]>('showHealth', { silent: true });
      const binary = checks.find((c) => c.id === 'binary')!;
      assert.equal(binary.ok, false);
      assert.match(binary.detail, /Install tmux 3\.2 or newer, or set tmuxSessionManager\.tmuxPath/);
      assert.deepEqual(binary.fixes, ['installTmux', 'setTmuxPath']);
    } finally {
      await config.update('tmuxPath', undefined, vscode.ConfigurationTarget.Global);
    }
    await eventually('connected again', () => tsm.service().state.kind === 'ok' && sessionNamed('reborn'));
  });
});
