import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SwitchResult } from '../../src/core/profiles/projects';
import { api, eventually, execute, killServer, serverRunning, tmux, tmuxLines } from './helpers';

const AGENT = 'echo agent-pane-up; exec sleep 300';

/**
 * Switch Project in a real VS Code: the palette's quick pick is answered through the workbench's
 * own quick-open commands, the result is checked in tmux with its own client.
 */
describe('Switch Project in VS Code', function () {
  this.timeout(60_000);
  const workspaceFolder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-project-'));
  const config = () => vscode.workspace.getConfiguration('tmuxSessionManager');
  const workspaceSession = `claude-${path.basename(workspaceFolder)}`;
  const otherSession = `claude-${path.basename(other)}`;
  const sessionNames = () => (serverRunning() ? tmuxLines('list-sessions', '-F', '#{session_name}') : []);

  before(async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    await killServer();
    await api();
    await config().update('projectSessionPrefix', 'claude-', vscode.ConfigurationTarget.Global);
    await config().update('projectAgentCommand', AGENT, vscode.ConfigurationTarget.Global);
  });

  after(async function () {
    await config().update('projectSessionPrefix', undefined, vscode.ConfigurationTarget.Global);
    await config().update('projectAgentCommand', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(other, { recursive: true, force: true });
    await killServer();
  });

  it('from the palette: the pick lists the workspace folder first, and choosing it builds its session in a terminal', async function () {
    const switching = execute<SwitchResult | undefined>('switchProject');
    let done = false;
    void switching.finally(() => (done = true));
    // Accept the first row once the pick shows (accepting with no pick open does nothing).
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (!done) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    const result = await switching;
    assert.ok(result, 'the switch failed (it showed the error and wrote it to the Tmux log)');
    assert.equal(result.session, workspaceSession);
    assert.equal(result.how, 'template');
    assert.equal(tmuxLines('list-panes', '-t', result.sessionId, '-F', '#{pane_id}').length, 2);
    const [agentPane] = tmuxLines('list-panes', '-t', result.sessionId, '-F', '#{pane_id}');
    await eventually('the agent command ran', () => tmux('capture-pane', '-p', '-t', agentPane).includes('agent-pane-up'), 10_000);
    await eventually('a terminal attached to it', () => vscode.window.terminals.some((terminal) => terminal.name === `tmux: ${workspaceSession}`));
  });

  it('switching to another project saves the session left; switching back attaches to it', async function () {
    const tsm = await api();
    const away = await execute<SwitchResult>('switchProject', { folder: other });
    assert.equal(away.session, otherSession);
    assert.equal(away.saved?.sessionName, workspaceSession, 'the session in the terminal in front was saved');
    assert.ok((await tsm.store().list()).some((entry) => entry.id === away.saved!.id));

    const back = await execute<SwitchResult>('switchProject', { folder: workspaceFolder });
    assert.equal(back.how, 'attached');
    assert.equal(back.saved?.sessionName, otherSession);
    assert.equal(sessionNames().filter((name) => name === workspaceSession).length, 1);
  });

  it('two switches at once (a double click) build the session once', async function () {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-project-'));
    try {
      const both = await Promise.all([execute<SwitchResult>('switchProject', { folder: fresh }), execute<SwitchResult>('switchProject', { folder: fresh })]);
      assert.equal(both[0].sessionId, both[1].sessionId);
      const name = `claude-${path.basename(fresh)}`;
      assert.equal(sessionNames().filter((candidate) => candidate === name).length, 1);
      assert.equal(tmuxLines('list-panes', '-t', both[0].sessionId, '-F', '#{pane_id}').length, 2);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});

/** Runs only in `run-exthost.mjs --untrusted`: the template would run a command, so nothing is built. */
describe('Switch Project in an untrusted workspace', function () {
  this.timeout(60_000);
  const workspaceFolder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';

  before(async function () {
    if (vscode.workspace.isTrusted) this.skip();
    await killServer();
    await api();
  });

  after(async function () {
    await killServer();
  });

  it('builds no session and starts no agent', async function () {
    assert.equal(await execute('switchProject', { folder: workspaceFolder }), undefined);
    const name = path.basename(workspaceFolder);
    assert.ok(!serverRunning() || !tmuxLines('list-sessions', '-F', '#{session_name}').some((session) => session.endsWith(name)), 'no session was made');
  });
});
