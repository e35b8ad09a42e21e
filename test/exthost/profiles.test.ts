import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, eventually, execute, killServer, serverRunning, tmux, tmuxLines } from './helpers';
import { processAlive } from '../unit/helpers/tmux';

interface ServiceRow {
  readonly name: string;
  readonly phase: string;
  readonly paneId: string | undefined;
  readonly restarts: number;
  readonly breaker: string;
}

const SESSION = 'exthost-shop';

/** `db` becomes ready when it prints its line; `api` waits for that, `worker` only for db to start. */
const profileText = (apiGreeting: string): string => `session: ${SESSION}
windows:
  - name: services
    panes:
      - name: db
        command: "sleep 0.5; echo db accepting connections; exec sleep 300"
        ready: { output: "accepting connections", interval: 100ms }
      - name: api
        command: "echo ${apiGreeting}; exec sleep 301"
        dependsOn: { db: ready }
      - name: worker
        command: "exec sleep 302"
        dependsOn: { db: started }
  - name: edit
    panes: [{}]
`;

/**
 * A workspace profile driven through vscode.commands.executeCommand in a real VS Code (the
 * workspace is trusted here: the runner passes --disable-workspace-trust), checked in tmux itself.
 */
describe('Profiles in VS Code: Up, Apply and Down through commands', function () {
  this.timeout(60_000);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const file = path.join(folder, '.tmux-session.yaml');
  const services = () => execute<ServiceRow[]>('serviceStatuses');
  const phaseOf = async (name: string) => (await services()).find((row) => row.name === name)?.phase;
  /** Service key → pane id and pid, as tmux itself lists them. */
  const livePanes = () =>
    new Map(
      tmuxLines('list-panes', '-s', '-t', `=${SESSION}`, '-F', '#{@tsm-profile-pane}\t#{pane_id}\t#{pane_pid}\t#{pane_dead}')
        .map((line) => line.split('\t'))
        .filter(([key]) => key)
        .map(([key, id, pid, dead]) => [key, { id, pid: Number(pid), dead: dead === '1' }]),
    );

  before(async function () {
    assert.ok(folder, 'the workbench opened no folder');
    await killServer();
    await api();
    fs.writeFileSync(file, profileText('api v1'));
  });

  after(async function () {
    fs.rmSync(file, { force: true });
    await killServer();
  });

  it('Up builds the session and brings every service to ready in dependency order', async function () {
    assert.ok(vscode.workspace.isTrusted, 'this suite runs in a trusted workspace');
    const names = await execute<string[] | undefined>('up');
    assert.ok(names, 'Up failed (it showed the error and wrote it to the Tmux log)');
    assert.deepEqual([...names].sort(), ['api', 'db', 'worker']);
    await eventually('every service ready', async () => (await services()).every((row) => row.phase === 'running'), 20_000);
    const panes = livePanes();
    // Three services and the plain shell of the edit window, each marked with its key.
    assert.deepEqual([...panes.keys()].sort(), ['api', 'db', 'edit/1', 'worker'], JSON.stringify([...panes]));
    for (const [key, pane] of panes) assert.equal(pane.dead, false, `${key} runs`);
    assert.deepEqual(
      tmuxLines('list-windows', '-t', `=${SESSION}`, '-F', '#{window_name}'),
      ['services', 'edit'],
    );
    // api waited for db's line before it started: its own line comes after db's ready probe passed.
    const db = (await services()).find((row) => row.name === 'db')!;
    const screen = tmux('capture-pane', '-p', '-t', db.paneId!);
    assert.match(screen, /accepting connections/);
  });

  it('Apply restarts only the changed service, and a second Apply changes nothing', async function () {
    const before = livePanes();
    fs.writeFileSync(file, profileText('api v2'));
    const lines = await execute<string[]>('applyProfile', { confirm: false });
    assert.ok(lines.some((line) => /api: changed/.test(line)), lines.join('\n'));
    await eventually('api ready again', async () => (await phaseOf('api')) === 'running', 20_000);
    const after = livePanes();
    for (const key of before.keys()) {
      assert.equal(after.get(key)?.id, before.get(key)?.id, `${key} keeps its pane`);
      if (/api/.test(key)) assert.notEqual(after.get(key)?.pid, before.get(key)?.pid, `${key} restarted`);
      else assert.equal(after.get(key)?.pid, before.get(key)?.pid, `${key} kept its process`);
    }
    const apiPane = (await services()).find((row) => row.name === 'api')!.paneId!;
    await eventually('the new api greeting', () => tmux('capture-pane', '-p', '-t', apiPane).includes('api v2'));
    const again = await execute<string[]>('applyProfile', { confirm: false });
    assert.match(again[0], /^Nothing to change/, again.join('\n'));
    assert.deepEqual(livePanes(), after);
  });

  it('Down stops every service and closes the session, leaving no process behind', async function () {
    const pids = [...livePanes().values()].map((pane) => pane.pid);
    await execute('down');
    await eventually('the session closed', () => !serverRunning() || !tmuxLines('list-sessions', '-F', '#{session_name}').includes(SESSION), 15_000);
    await eventually('no service process left', () => pids.every((pid) => !processAlive(pid)), 10_000);
    assert.deepEqual(await services(), []);
  });
});

/**
 * Runs only in `run-exthost.mjs --untrusted` (Workspace Trust on, the folder not trusted): the
 * profile can be opened and the rest of the extension works, but Up and Apply run nothing.
 */
describe('Profiles in an untrusted workspace', function () {
  this.timeout(60_000);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const file = path.join(folder, '.tmux-session.yaml');
  const marker = path.join(folder, 'ran');

  before(async function () {
    if (vscode.workspace.isTrusted) this.skip();
    await killServer();
    await api();
    fs.writeFileSync(
      file,
      `session: ${SESSION}
hooks: { onStart: "touch ran-hook" }
windows:
  - name: services
    panes:
      - name: job
        command: "touch ${marker}; exec sleep 300"
`,
    );
  });

  after(async function () {
    fs.rmSync(file, { force: true });
    await killServer();
  });

  it('Up and Apply run nothing: no session, no service, no hook', async function () {
    assert.equal(await execute('up'), undefined, 'Up reports the refusal and returns nothing');
    assert.equal(await execute('applyProfile', { confirm: false }), undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(!serverRunning() || !tmuxLines('list-sessions', '-F', '#{session_name}').includes(SESSION), 'no session was made');
    assert.equal(fs.existsSync(marker), false, 'the service command did not run');
    assert.equal(fs.existsSync(path.join(folder, 'ran-hook')), false, 'the onStart hook did not run');
    assert.deepEqual(await execute('serviceStatuses'), []);
  });

  it('the profile opens, and commands on your own sessions still work', async function () {
    await execute('openProfile');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, file);
    const id = await execute<string>('newSession', { name: 'own-work', cwd: folder });
    assert.match(id, /^\$\d+$/);
    assert.ok(tmuxLines('list-sessions', '-F', '#{session_name}').includes('own-work'));
  });
});
