import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, eventually, execute, killServer, serverRunning, tmuxLines } from './helpers';

const SESSION = 'exthost-imported';

const TMUXINATOR = `name: ${SESSION}
pre_window: export STAGE=dev
socket_name: somewhere-else
windows:
  - editor:
      layout: even-horizontal
      panes:
        - exec sleep 401
        - exec sleep 402
  - logs: exec sleep 403
`;

/** A tmuxinator file read as it is by Up, and Import as Profile writing our own file, in a real VS Code. */
describe('Profiles: tmuxinator and tmuxp files in VS Code', function () {
  this.timeout(60_000);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const atRoot = path.join(folder, '.tmuxinator.yml');
  const importFolder = path.join(folder, 'imported-tmuxp');

  before(async function () {
    assert.ok(folder, 'the workbench opened no folder');
    assert.ok(!fs.existsSync(path.join(folder, '.tmux-session.yaml')), 'our own profile would be found first');
    await killServer();
    await api();
  });

  after(async function () {
    fs.rmSync(atRoot, { force: true });
    fs.rmSync(importFolder, { recursive: true, force: true });
    await killServer();
  });

  it('Up reads a .tmuxinator.yml at the folder root as it is, and Down closes its session', async function () {
    fs.writeFileSync(atRoot, TMUXINATOR);
    await execute('up');
    await eventually('the imported session', () => serverRunning() && tmuxLines('list-sessions', '-F', '#{session_name}').includes(SESSION), 15_000);
    assert.deepEqual(tmuxLines('list-windows', '-t', `=${SESSION}`, '-F', '#{window_name} #{window_panes}'), ['editor 2', 'logs 1']);
    await eventually('the pane commands running', () => tmuxLines('list-panes', '-s', '-t', `=${SESSION}`, '-F', '#{pane_start_command}').every((line) => /export STAGE=dev && exec sleep 40\d/.test(line)), 10_000);
    await execute('down');
    await eventually('the session closed', () => !serverRunning() || !tmuxLines('list-sessions', '-F', '#{session_name}').includes(SESSION), 15_000);
    fs.rmSync(atRoot, { force: true });
  });

  it('Import as Profile… writes .tmux-session.yaml next to a .tmuxp.yaml, opens it, and lists what did not carry over', async function () {
    fs.mkdirSync(importFolder, { recursive: true });
    const source = path.join(importFolder, '.tmuxp.yaml');
    fs.writeFileSync(source, 'session_name: from-tmuxp\nwindows:\n  - window_name: main\n    options: { automatic-rename: "off" }\n    panes: [vim, null]\n');
    const written = await execute<string | undefined>('importProfile', vscode.Uri.file(source));
    assert.equal(written, path.join(importFolder, '.tmux-session.yaml'));
    const text = fs.readFileSync(written!, 'utf8');
    assert.match(text, /^# {3}\.tmuxp\.yaml:4:16 windows\[0\]\.options\.automatic-rename:\n# {7}no equivalent: /m);
    assert.match(text, /^session: from-tmuxp$/m);
    assert.match(text, /- command: vim$/m);
    await eventually('the written profile open in the editor', () => vscode.window.activeTextEditor?.document.uri.fsPath === written, 5000);
  });
});
