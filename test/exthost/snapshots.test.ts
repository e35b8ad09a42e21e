import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TmuxSessionManagerApi } from '../../src/extension';
import type { AutosaveRecord } from '../../src/core/snapshots/autosave';
import type { SnapshotEntry } from '../../src/core/snapshots/store';
import type { Session } from '../../src/tmux/model';
import type { ExtensionContextServices } from '../../src/vscode/context';
import { Cancelled } from '../../src/vscode/pick';
import { readSettings } from '../../src/vscode/settings';
import type { RestoreOutcome } from '../../src/vscode/snapshots/restoreFlow';
import { offerRestoreAfterReboot, restoreMany } from '../../src/vscode/snapshots/startup';
import type { SnapshotEntryNode, SnapshotGroupNode } from '../../src/vscode/snapshots/view';
import { DEFAULT_RESTORE_COMMANDS, DEFAULT_SAFE_PROGRAMS } from '../../src/core/snapshots/programs';
import { api, EXTENSION_ID, eventually, execute, killServer, tmux, tmuxLines } from './helpers';

/**
 * Save and restore in a real VS Code: the commands run with options instead of prompts, tmux is
 * checked with its own client, and the Snapshots view is read through its provider. Session names
 * start with "snap-" so the autosaves the other suites leave in the same data folder do not matter.
 */
describe('Snapshots: save and restore in VS Code', function () {
  this.timeout(60_000);
  let tsm: TmuxSessionManagerApi;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-snapshots-'));
  const config = () => vscode.workspace.getConfiguration('tmuxSessionManager');

  const sessionNamed = (name: string): Session | undefined => tsm.service().tree.sessions.find((s) => s.name === name);
  const groups = async (): Promise<SnapshotGroupNode[]> => (await tsm.snapshotTree.getChildren()) as SnapshotGroupNode[];
  const rowsOf = async (sessionName: string): Promise<SnapshotEntryNode[]> => {
    const group = (await groups()).find((g) => g.sessionName === sessionName);
    return group ? ((await tsm.snapshotTree.getChildren(group)) as SnapshotEntryNode[]) : [];
  };
  const rowWithLabel = async (sessionName: string, label: string) => (await rowsOf(sessionName)).find((row) => tsm.snapshotTree.getTreeItem(row).label === label);
  const windowsOf = (name: string) => tmuxLines('list-windows', '-t', `=${name}`, '-F', '#{window_name} #{window_panes}');

  /** Two windows, "editor" (a line of output to come back as scrollback) and "logs" (two panes, `tail` in one). */
  async function makeSession(name: string): Promise<void> {
    tmux('new-session', '-d', '-s', name, '-n', 'editor', '-x', '160', '-y', '45', '-c', folder);
    tmux('new-window', '-t', `=${name}:`, '-n', 'logs', '-c', folder);
    tmux('split-window', '-h', '-t', `=${name}:logs`, '-c', folder);
    tmux('send-keys', '-t', `=${name}:editor.0`, 'echo marker-$((6*7))', 'Enter');
    tmux('send-keys', '-t', `=${name}:logs.1`, 'tail -f /dev/null', 'Enter');
    await eventually('marker-42 printed', () => tmux('capture-pane', '-p', '-t', `=${name}:editor.0`).includes('marker-42'));
    await eventually('tail running', () => tmux('display-message', '-p', '-t', `=${name}:logs.1`, '#{pane_current_command}').trim() === 'tail');
    await eventually(`"${name}" in the tree with its windows`, () => sessionNamed(name)?.windows.length === 2);
  }

  before(async function () {
    await killServer();
    tsm = await api();
    await vscode.commands.executeCommand('workbench.view.extension.tmuxSessionManager');
    // Autosaves would add rows while the tests count them; the autosave test turns it back on.
    await config().update('autosaveMinutes', 0, vscode.ConfigurationTarget.Global);
    await eventually('autosave off', () => tsm.autosaver() === undefined);
  });

  after(async function () {
    await config().update('autosaveMinutes', undefined, vscode.ConfigurationTarget.Global);
    await killServer();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('registers the snapshot commands and keeps snapshots in the test run\'s data folder', async function () {
    const all = await vscode.commands.getCommands(true);
    for (const id of ['saveSession', 'saveAll', 'restoreSession', 'restoreLast', 'restoreAutosaved', 'restoreSnapshot', 'openSnapshot', 'renameSnapshot', 'deleteSnapshot', 'refreshSnapshots']) {
      assert.ok(all.includes(`tmuxSessionManager.${id}`), `tmuxSessionManager.${id} is not registered`);
    }
    const runDir = process.env.TSM_TEST_RUN_DIR;
    assert.ok(runDir, 'TSM_TEST_RUN_DIR is set by the runner');
    assert.equal(tsm.store().dataDir, path.join(runDir, 'data'));
    // The manifest's defaults are what the code falls back to.
    const properties = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.configuration.properties;
    assert.deepEqual(properties['tmuxSessionManager.safePrograms'].default, DEFAULT_SAFE_PROGRAMS);
    assert.deepEqual(properties['tmuxSessionManager.restoreCommands'].default, DEFAULT_RESTORE_COMMANDS);
  });

  it('saveSession saves the clicked session under a name, and the Snapshots view lists it', async function () {
    await makeSession('snap-one');
    const entries = await execute<SnapshotEntry[]>('saveSession', sessionNamed('snap-one'), { label: 'before refactor' });
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.equal(entry.sessionName, 'snap-one');
    assert.equal(entry.kind, 'manual');
    assert.equal(entry.label, 'before refactor');
    assert.equal(entry.windows, 2);
    assert.equal(entry.panes, 3);
    assert.ok(fs.existsSync(entry.file));
    const row = await eventually('the row in the Snapshots view', () => rowWithLabel('snap-one', 'before refactor'));
    const item = tsm.snapshotTree.getTreeItem(row);
    assert.match(String(item.description), /^just now · 2 windows · 3 panes$/);
    assert.equal(item.contextValue, 'snapshot.good.manual');
    const snapshot = await tsm.store().read(entry);
    const tail = snapshot.session.windows[1].panes[1].program;
    assert.deepEqual(tail?.argv, ['tail', '-f', '/dev/null']);
    assert.match(snapshot.session.windows[0].panes[0].scrollback?.text ?? '', /marker-42/);
  });

  it('saveAll saves every session, unnamed', async function () {
    await makeSession('snap-two');
    const entries = await execute<SnapshotEntry[]>('saveAll');
    assert.deepEqual(entries.map((e) => e.sessionName).sort(), ['snap-one', 'snap-two']);
    assert.ok(entries.every((e) => e.kind === 'manual' && e.label === undefined));
    await eventually('"Manual save" rows', async () => (await rowWithLabel('snap-two', 'Manual save')) !== undefined);
  });

  it('restores a snapshot from its Snapshots view row after the server died: windows, panes, scrollback, safe programs', async function () {
    await killServer();
    await eventually('no server', () => tsm.service().state.kind === 'noServer');
    const row = await eventually('the row', () => rowWithLabel('snap-one', 'before refactor'));
    const outcome = await execute<RestoreOutcome>('restoreSnapshot', row, {});
    assert.ok(outcome?.result, 'the restore returned its result');
    assert.equal(outcome.result.name, 'snap-one');
    assert.deepEqual(windowsOf('snap-one'), ['editor 1', 'logs 2']);
    await eventually('the session in the Sessions tree', () => tsm.treeProvider.getChildren().some((s) => s.kind === 'session' && s.name === 'snap-one'));
    assert.equal(sessionNamed('snap-one')?.windows.length, 2);
    assert.equal(tsm.service().state.kind, 'ok');
    await eventually('the scrollback replayed', () => tmux('capture-pane', '-p', '-S', '-100', '-t', '=snap-one:editor.0').includes('marker-42'));
    await eventually('tail started again (it is on the safe list)', () => tmux('display-message', '-p', '-t', '=snap-one:logs.1', '#{pane_current_command}').trim() === 'tail', 8000);
    assert.equal(tmux('display-message', '-p', '-t', '=snap-one:logs.1', '#{pane_current_path}').trim(), fs.realpathSync(folder));
  });

  it('restoring over a running session with conflict "rename" creates "<name>-restored" and leaves the running one alone', async function () {
    const running = sessionNamed('snap-one')!;
    const row = (await rowWithLabel('snap-one', 'before refactor'))!;
    const outcome = await execute<RestoreOutcome>('restoreSnapshot', row.entry, { conflict: 'rename' });
    assert.equal(outcome.result?.name, 'snap-one-restored');
    const names = tmuxLines('list-sessions', '-F', '#{session_id} #{session_name}');
    assert.ok(names.includes(`${running.id} snap-one`), 'the running session is untouched');
    assert.ok(names.some((line) => line.endsWith(' snap-one-restored')));
    assert.deepEqual(windowsOf('snap-one-restored'), ['editor 1', 'logs 2']);
    // A second one takes the next free name.
    const again = await execute<RestoreOutcome>('restoreSnapshot', row.entry.id, { conflict: 'rename' });
    assert.equal(again.result?.name, 'snap-one-restored-2');
  });

  it('conflict "replace" swaps the running session for the snapshot', async function () {
    const before = tmux('display-message', '-p', '-t', '=snap-one-restored-2', '#{session_id}').trim();
    const row = (await rowWithLabel('snap-one', 'before refactor'))!;
    const outcome = await execute<RestoreOutcome>('restoreSnapshot', row, { name: 'snap-one-restored-2', conflict: 'replace' });
    assert.equal(outcome.result?.name, 'snap-one-restored-2');
    const matching = tmuxLines('list-sessions', '-F', '#{session_id} #{session_name}').filter((line) => line.endsWith(' snap-one-restored-2'));
    assert.equal(matching.length, 1);
    assert.notEqual(matching[0].split(' ')[0], before, 'a new session replaced the old one');
  });

  it('shows a broken file as broken (noticed by the folder watcher), and refuses to restore it', async function () {
    const good = (await rowWithLabel('snap-one', 'before refactor'))!.entry;
    const broken = path.join(path.dirname(good.file), '29991231T235959999Z-manual-0badf11e.json');
    let changes = 0;
    const listening = tsm.snapshotTree.onDidChangeTreeData(() => changes++);
    fs.writeFileSync(broken, fs.readFileSync(good.file, 'utf8').slice(0, 200));
    const future = new Date(Date.now() + 3600_000);
    fs.utimesSync(broken, future, future); // newer than every good snapshot
    await eventually('the view told to repaint', () => changes > 0).finally(() => listening.dispose());
    const row = await eventually('the broken row', async () => (await rowsOf('snap-one')).find((r) => r.entry.file === broken));
    const item = tsm.snapshotTree.getTreeItem(row);
    assert.equal(item.description, 'broken');
    assert.equal(item.contextValue, 'snapshot.broken.manual');
    assert.match((item.tooltip as vscode.MarkdownString).value, /truncated/);
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'error');
    const sessions = tmuxLines('list-sessions', '-F', '#{session_name}');
    assert.equal(await execute('restoreSnapshot', row, { conflict: 'rename' }), undefined, 'the command reports the error and returns nothing');
    assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}'), sessions);
  });

  it('restoreLast restores the newest good snapshot, past the broken newer file', async function () {
    await execute('saveSession', sessionNamed('snap-one'), { label: 'latest' });
    const [newest] = await tsm.store().list();
    assert.ok(newest.broken, 'the broken file is the newest');
    await killServer();
    await eventually('no server', () => tsm.service().state.kind === 'noServer');
    const outcome = await execute<RestoreOutcome>('restoreLast', {});
    assert.equal(outcome.entry.label, 'latest');
    assert.equal(outcome.result?.name, 'snap-one');
    assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}'), ['snap-one']);
    // From a group row: that session's newest.
    const group = (await groups()).find((g) => g.sessionName === 'snap-two')!;
    const two = await execute<RestoreOutcome>('restoreLast', group);
    assert.equal(two.result?.name, 'snap-two');
    await eventually('both in the tree', () => sessionNamed('snap-one') && sessionNamed('snap-two'));
  });

  it('opens a snapshot as JSON, renames one, and deletes the broken one', async function () {
    const row = (await rowWithLabel('snap-one', 'latest'))!;
    const document = await execute<vscode.TextDocument>('openSnapshot', row);
    assert.equal(document.uri.fsPath, row.entry.file);
    assert.equal(document.languageId, 'json');
    assert.equal(JSON.parse(document.getText()).label, 'latest');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    const renamed = await execute<SnapshotEntry>('renameSnapshot', row, { label: 'renamed' });
    assert.equal(renamed.label, 'renamed');
    await eventually('the renamed row', async () => (await rowWithLabel('snap-one', 'renamed')) !== undefined);

    const broken = (await rowsOf('snap-one')).find((r) => r.entry.broken)!;
    await execute('deleteSnapshot', broken, { confirm: false });
    assert.equal(fs.existsSync(broken.entry.file), false);
    await eventually('the broken row gone', async () => !(await rowsOf('snap-one')).some((r) => r.entry.broken));
  });

  it('autosave writes "Autosave" rows and the status bar tooltip tells when it last ran', async function () {
    await config().update('autosaveMinutes', 5, vscode.ConfigurationTarget.Global);
    const autosaver = await eventually('the autosaver', () => tsm.autosaver());
    assert.match(tsm.statusBar.tooltipText, /last autosave \| (none yet|.*saved)/);
    const record: AutosaveRecord = await autosaver.saveNow();
    assert.equal(record.error, undefined);
    assert.ok(record.sessionsWritten >= 2, `wrote ${record.sessionsWritten}`);
    assert.match(tsm.statusBar.tooltipText, /last autosave \| .*\d+ sessions saved/);
    await eventually('"Autosave" rows', async () => (await rowsOf('snap-two')).some((r) => tsm.snapshotTree.getTreeItem(r).label === 'Autosave' && r.entry.kind === 'auto'));
    const manifest = await tsm.store().readManifest();
    assert.ok(manifest && manifest.sessions['snap-one'] && manifest.sessions['snap-two']);
    await config().update('autosaveMinutes', 0, vscode.ConfigurationTarget.Global);
    await eventually('autosave off', () => tsm.autosaver() === undefined);
    assert.match(tsm.statusBar.tooltipText, /last autosave \| off/);
  });

  /** The offer runs once per activation, so it is driven here directly, with the extension's own service and store. */
  function startupContext(restoreOnStartup: 'ask' | 'always' | 'never'): ExtensionContextServices {
    const quiet = { info() {}, warn() {}, error() {}, trace() {}, debug() {}, show() {} } as unknown as vscode.LogOutputChannel;
    return {
      extension: undefined as unknown as vscode.ExtensionContext,
      log: quiet,
      terminals: undefined as never,
      treeProvider: tsm.treeProvider,
      statusBar: tsm.statusBar,
      snapshotTree: tsm.snapshotTree,
      followers: tsm.followers,
      service: () => tsm.service(),
      settings: () => ({ ...readSettings(), restoreOnStartup }),
      store: () => tsm.store(),
      autosaver: () => undefined,
      layoutKeeper: () => tsm.layoutKeeper(),
      metrics: tsm.metrics,
    };
  }

  it('after a reboot, restoreOnStartup "always" restores every session the last autosave listed', async function () {
    const manifest = await tsm.store().readManifest();
    assert.deepEqual(Object.keys(manifest?.sessions ?? {}).sort(), ['snap-one', 'snap-two']);
    await killServer();
    await eventually('no server', () => tsm.service().state.kind === 'noServer');
    let read = false;
    const offer = offerRestoreAfterReboot(startupContext('always'), () => (read = true));
    try {
      await eventually('the manifest read', () => read);
      await eventually('both sessions back', () => sessionNamed('snap-one') && sessionNamed('snap-two'), 15_000);
      assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}').sort(), ['snap-one', 'snap-two']);
      assert.deepEqual(windowsOf('snap-two'), ['editor 1', 'logs 2']);
    } finally {
      offer.dispose();
    }
  });

  it('two windows accepting the offer at once restore each session once, never a "-restored" copy', async function () {
    await killServer();
    await eventually('no server', () => tsm.service().state.kind === 'noServer');
    const manifest = (await tsm.store().readManifest())!;
    const listing = await tsm.store().list();
    const entries = Object.values(manifest.sessions).map((id) => listing.find((e) => e.id === id)!);
    assert.equal(entries.length, 2);
    // Both "windows" share the service and the data folder's lock, as two VS Code windows share tmux and the disk.
    const [first, second] = await Promise.all([restoreMany(startupContext('ask'), entries), restoreMany(startupContext('ask'), entries)]);
    assert.deepEqual([...first, ...second].sort(), ['snap-one', 'snap-two'], 'each session restored by exactly one of them');
    // A third window whose user clicks Restore later still finds them running.
    assert.deepEqual(await restoreMany(startupContext('ask'), entries), []);
    assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}').sort(), ['snap-one', 'snap-two']);
  });

  it('offers nothing when the server already has one of the listed sessions', async function () {
    tmux('kill-session', '-t', '=snap-two');
    await eventually('snap-two gone', () => !sessionNamed('snap-two'));
    let read = false;
    const offer = offerRestoreAfterReboot(startupContext('always'), () => (read = true));
    try {
      await eventually('the manifest read', () => read);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}'), ['snap-one']);
    } finally {
      offer.dispose();
    }
  });

  it('restoring several sessions asks once about the programs of all of them; dismissing restores none', async function () {
    await killServer();
    const names = ['snap-ask-a', 'snap-ask-b'];
    for (const name of names) {
      tmux('new-session', '-d', '-s', name, '-n', 'work', '-c', folder);
      tmux('send-keys', '-t', `=${name}:work.0`, 'sleep 3600', 'Enter');
    }
    const sleeping = (name: string) => tmux('display-message', '-p', '-t', `=${name}:work.0`, '#{pane_current_command}').trim() === 'sleep';
    await eventually('sleep running in both', () => names.every(sleeping));
    await eventually('both in the tree', () => names.every((name) => sessionNamed(name)));
    const entries: SnapshotEntry[] = [];
    for (const name of names) entries.push(...(await execute<SnapshotEntry[]>('saveSession', sessionNamed(name), { label: 'with sleep' })));
    await killServer();
    await eventually('no server', () => tsm.service().state.kind === 'noServer');
    // "all" restores any program, and asks before starting one outside the safe list.
    const ctx: ExtensionContextServices = { ...startupContext('ask'), settings: () => ({ ...readSettings(), restorePrograms: 'all' }) };

    const dismissed = await restoreMany(ctx, entries, async () => {
      throw new Cancelled();
    });
    assert.deepEqual(dismissed, []);
    assert.equal(tsm.service().state.kind, 'noServer', 'a dismissed question builds nothing, not even a server');

    const questions: string[][] = [];
    const restored = await restoreMany(ctx, entries, async (programs) => {
      questions.push(programs.map((p) => `${p.window} · pane ${p.paneIndex}: ${p.command}`));
      return true;
    });
    assert.deepEqual(restored, names);
    assert.deepEqual(questions, [['snap-ask-a › work · pane 0: sleep 3600', 'snap-ask-b › work · pane 0: sleep 3600']], 'one question, naming each session');
    await eventually('sleep started again in both', () => names.every(sleeping), 8000);
  });

  it('with no server, Restore Autosaved Sessions brings back the autosaved sessions that are not running', async function () {
    const manifest = await tsm.store().readManifest();
    assert.deepEqual(Object.keys(manifest?.sessions ?? {}).sort(), ['snap-one', 'snap-two']);
    await killServer();
    await eventually('no server', () => tsm.service().state.kind === 'noServer');
    await eventually('the status bar tooltip offers the autosave', () => tsm.statusBar.tooltipText.includes('(command:tmuxSessionManager.restoreAutosaved)'));
    const both = ['snap-one', 'snap-two'];
    assert.deepEqual(await execute<string[]>('restoreAutosaved', { sessions: both }), both);
    assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}').sort(), both);
    assert.deepEqual(windowsOf('snap-two'), ['editor 1', 'logs 2']);
    await eventually('both in the tree', () => both.every((name) => sessionNamed(name)));
    assert.ok(!tsm.statusBar.tooltipText.includes('restoreAutosaved'), 'with a server up the tooltip does not offer it');

    // A session killed by mistake: only it comes back; the running one is not touched.
    const keptId = sessionNamed('snap-two')!.id;
    tmux('kill-session', '-t', '=snap-one');
    await eventually('snap-one gone from the tree', () => !sessionNamed('snap-one'));
    assert.deepEqual(await execute<string[]>('restoreAutosaved', { sessions: both }), ['snap-one']);
    assert.deepEqual(tmuxLines('list-sessions', '-F', '#{session_name}').sort(), both);
    assert.ok(tmuxLines('list-sessions', '-F', '#{session_name} #{session_id}').includes(`snap-two ${keptId}`), 'snap-two is the same session as before');
    assert.deepEqual(await execute<string[]>('restoreAutosaved', { sessions: both }), [], 'everything is running: nothing to restore');
  });
});
