// UI test: the real extension in a real VS Code workbench (code-server), driven through headless
// chromium like a user would, against a private tmux server. Screenshots of every check go to
// artifacts/screenshots/. Exit code 0 only when every check passed.
//
//   npm run build && node test/e2e/run-ui.mjs
//
// What the extension shows is described in UI and TEXT below, and every user action is one small
// function: when a prompt changes, adjust it there. A failing step prints what was on screen.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureWorkbench } from './install.mjs';
import {
  SCREENSHOT_DIR,
  extensionDir,
  missingBuildOutputs,
  newRunDir,
  readManifest,
  runEnvironment,
  testEnv,
  testSettings,
  timedLogger,
} from './project.mjs';
import { createPrivateTmux } from './tmux-server.mjs';
import { startWorkbench } from './workbench.mjs';

// ------------------------------------------------------------------ what we look for

/** DOM selectors (VS Code 1.139.1 / code-server 4.139.1). */
const UI = {
  activityBarIcon: '.part.activitybar a.action-label[aria-label="Tmux"]',
  view: '[id="workbench.view.extension.tmuxSessionManager"]',
  // The container holds two views; each one's tree is a list labelled with the view's name.
  sessionsTree: '[id="workbench.view.extension.tmuxSessionManager"] .monaco-list[aria-label="Sessions"]',
  snapshotsTree: '[id="workbench.view.extension.tmuxSessionManager"] .monaco-list[aria-label="Snapshots"]',
  // a view's header is labelled "<name> Section"
  paneHeader: '[id="workbench.view.extension.tmuxSessionManager"] .pane-header',
  // view-title and inline row actions, labelled with their command's title (maybe + keybinding)
  actionLabel: '.actions .action-label',
  treeRow: '.monaco-list-row[role="treeitem"]',
  rowLabel: '.label-name',
  rowTwistie: '.monaco-tl-twistie',
  // "<publisher>.<name>.<status item id>", an id with dots: only the attribute form matches it
  statusItem: '[id="tmux-session-manager.tmux-session-manager.tmuxSessionManager.health"]',
  servicesStatusItem: '[id="tmux-session-manager.tmux-session-manager.tmuxSessionManager.services"]',
  agentsTree: '[id="workbench.view.extension.tmuxSessionManager"] .monaco-list[aria-label="Agents"]',
  agentsStatusItem: '[id="tmux-session-manager.tmux-session-manager.tmuxSessionManager.agentsWaiting"]',
  activeTerminalTab: '.terminal-tabs-entry.is-active, .single-terminal-tab',
  quickInput: '.quick-input-widget',
  contextMenu: '.context-view .monaco-menu',
  contextMenuItem: '.action-item .action-label',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickInputTitle: '.quick-input-widget .quick-input-title',
  quickInputMessage: '.quick-input-widget .quick-input-message',
  quickInputRow: '.quick-input-widget .quick-input-list .monaco-list-row',
  notificationToast: '.notifications-toasts .notification-toast',
  notificationBell: '[id="status.notifications"]',
  notificationCenter: '.notifications-center.visible',
  notificationItem: '.notifications-center .notification-list-item',
  notificationMessage: '.notification-list-item-message',
  notificationButton: '.notification-list-item-buttons-container .monaco-button',
  activeEditorTab: '.editor-group-container.active .tab.active',
  activeEditorLines: '.editor-group-container.active .monaco-editor .view-lines',
  // the terminal panel's rows, as xterm's DOM renderer draws them (gpuAcceleration off)
  terminalRows: '.terminal-wrapper.active .xterm-rows',
  terminalTab: '.terminal-tabs-entry, .single-terminal-tab',
  // Developer: Show Running Extensions (an editor listing each extension with its activation time)
  runningExtensionRow: '.runtime-extensions-editor .monaco-list-row',
};

/** Words on screen. Command titles are matched as prefixes (the real ones end in "…"). */
const TEXT = {
  newSession: 'Tmux: New Session',
  sendKeys: 'Tmux: Send Keys',
  capturePane: 'Tmux: Capture Pane Output',
  followPane: 'Tmux: Follow Pane Output',
  waitForOutput: 'Tmux: Wait for Output',
  waitPatternMode: 'Text matching a pattern',
  waiting: /Waiting for \/done-\\d\+\/m in from-palette/,
  waitMatched: /from-palette:\d+\.\d+ \S+ printed "done-42" after/,
  runningExtensions: 'Developer: Show Running Extensions',
  extensionName: /Tmux Session Manager|tmux-session-manager\.tmux-session-manager/,
  sendWithEnter: /send with enter/i,
  statusAny: /tmux/i,
  statusNoServer: /no server/i,
  welcomeNoServer: 'No tmux server is running.',
  sessionMenu: ['Attach to Session', 'New Window', 'Send Keys', 'Capture Pane Output', 'Rename', 'Kill'],
  rename: /^Rename/,
  healthAllPass: /all checks pass/i,
  statusSessions: (count) => new RegExp(`\\b${count} sessions?\\b`, 'i'),
  saveAll: 'Save All Sessions',
  showMetrics: 'Tmux: Show Metrics',
  savedAll: /Saved \d+ tmux sessions/,
  restore: 'Restore',
  manualSave: 'Manual save',
  restored: (name) => `Restored tmux session "${name}"`,
  reloadWindow: 'Developer: Reload Window',
  // src/vscode/snapshots/startup.ts: "Restore 2 sessions saved at 10:42?" (1 session: its name)
  rebootOffer: (count) => `Restore ${count} sessions saved at`,
  restoredMany: (count) => `Restored ${count} tmux sessions:`,
  // package.json viewsWelcome (no server, an autosave to restore) and restoreAutosaved's pick
  restoreAutosaved: 'Restore Autosaved Sessions',
  restoreAutosavedTitle: 'Restore Sessions Autosaved at',
  // src/vscode/serverEnd.ts and statusBar.ts
  // src/vscode/gc/commands.ts and package.json
  cleanUp: 'Tmux: Clean Up…', // with its ellipsis: "Tmux: Clean Up Agents…" starts the same
  cleanUpTitle: /^Clean Up: \d+ candidates?/,
  protect: /^Protect$/,
  folderGone: (folder) => `its folder ${folder} no longer exists`,
  halfWritten: /half-written by a save that was interrupted, 2 days old/,
  cleanedUp: /Cleaned up: .*killed 1 session whose folder is gone/,
  crashNotice: /The tmux server stopped unexpectedly at .+; your sessions were last autosaved at/,
  statusCrashed: /server stopped unexpectedly/i,
  // src/vscode/profiles/controller.ts (lookOf, the services status item, the failure notification)
  up: 'Tmux: Up',
  down: 'Tmux: Down',
  serviceStarting: /starting · /, // the label and its description run together in innerText
  serviceReady: /ready · /,
  serviceRestarting: /restarting in \d+ s · /,
  breakerOpenRow: /failed \(breaker open, trial at \d\d:\d\d:\d\d\)/,
  breakerOpenStatus: /tmux: flaky failing \(breaker open\)/,
  breakerOpenNotice: /Service "flaky" failing \(breaker open, trial at \d\d:\d\d:\d\d\)/,
  // src/vscode/agents/ (describe.ts, commands.ts, controller.ts) and package.json
  spawnAgents: 'Tmux: Spawn Agents',
  agentWorking: /working/,
  agentPermission: /waiting: permission Bash/,
  agentDone: /\bdone\b/,
  agentIdle: /\bidle\b/,
  agentsWaiting: /1 agent waiting/,
  permissionNotice: /Agent "scripted-alpha" asks permission to use Bash/,
  focus: 'Focus',
  sendPrompt: 'Send Prompt',
  sendSubmitted: /scripted-gamma: .*submitted/i,
  // src/vscode/profiles/importProfile.ts
  importProfile: 'Tmux: Import as Profile…',
  importedNotice: /Imported \.tmuxp\.yaml \(tmuxp\) as \.tmux-session\.yaml\. 2 keys did not carry over exactly/,
  // src/vscode/profiles/switchProject.ts and commands/showHealth.ts
  switchProject: 'Tmux: Switch Project',
  healthServiceRow: /flaky.*failing \(breaker open, trial at \d\d:\d\d:\d\d\)/,
};

/** How long a reloaded workbench may take until the extension's status item shows. */
const RELOAD_TIMEOUT_MS = 60_000;

/** The spec's latency budget for outside changes (tree row, status bar). */
const LIVE_LIMIT_MS = 1000;
const STEP_TIMEOUT_MS = 10_000;

const log = timedLogger('ui');

// ------------------------------------------------------------------ the checks

/**
 * Each check gets { page, tmux, killServer, screenshot, home, dataDir } and throws on failure. Order
 * matters: later checks reuse what earlier ones left (the from-palette session, the server).
 */
const CHECKS = [
  { id: 'a', title: 'a session made outside VS Code shows in the tree within 1 s', run: checkOutsideSession },
  { id: 'b', title: '"Tmux: New Session…" from the palette creates a session', run: checkNewSessionFromPalette },
  { id: 'c1', title: 'Send Keys types `echo hello` + Enter into a pane of from-palette', run: checkSendKeys, needs: 'b' },
  { id: 'c2', title: 'Capture Pane Output shows "hello" in an editor', run: checkCapturePane, needs: 'b' },
  { id: 'o1', title: 'Follow Pane Output from the palette shows the pane\'s new output live in a read-only terminal', run: checkFollowPane, needs: 'b' },
  { id: 'o2', title: 'Wait for Output… from the palette shows its progress and resolves when the pane prints the pattern', run: checkWaitForOutput, needs: 'b' },
  { id: 'o3', title: 'Developer: Show Running Extensions shows the extension\'s activation time', run: checkActivationTime },
  { id: 'f', title: 'a session row\'s context menu renames the session', run: checkRenameFromContextMenu },
  { id: 'g', title: 'clicking the status bar opens the health report', run: checkHealthReport },
  { id: 'd', title: 'status bar follows the server dying (within 1 s) and coming back', run: checkServerDeathAndReturn },
  { id: 'e', title: 'screenshot of the tree and status bar for the README', run: checkFinalScreenshot },
  { id: 'h', title: 'Save All from the Sessions title bar, kill the server, Restore from a Snapshots row: the session is back', run: checkSaveAndRestore, needs: 'e' },
  { id: 'i', title: 'after a reboot (server gone, window reloaded) the offer "Restore N sessions saved at HH:MM?" brings them back', run: checkRestoreAfterReboot },
  { id: 'j', title: 'after kill-server, the Sessions view\'s "Restore Autosaved Sessions" button and its pick bring the sessions back', run: checkRestoreFromWelcome, needs: 'i' },
  { id: 'k', title: 'the server dies (SIGSEGV): a notice says so with the last autosave, and its button brings the sessions back', run: checkServerCrash, needs: 'j' },
  { id: 'l', title: 'Reload Window while a script churns a 20-session server: the server survives, each reload shows it within 2 s, and a later server is found', run: checkReloadUnderChurn },
  { id: 'gc', title: 'Clean Up…: its dry run lists the candidates with their reasons (a protected session not among them), Escape changes nothing, Enter acts', run: checkCleanUp },
  { id: 'm', title: '"Tmux: Show Metrics" lists every pane; sorted by memory a 150 MB pane comes first, by CPU a busy loop', run: checkShowMetrics },
  { id: 'p1', title: 'Tmux: Up from the palette: services go starting → ready in the tree; a killed one restarts; a crash-looping one shows its breaker open in the tree, the status bar and a notification; a reload adopts them', run: checkProfileUp },
  { id: 'a1', title: 'Spawn Agents from the palette (3 stand-ins with worktrees): the Agents view shows them working, one waiting with its permission, one done; the notification\'s Focus attaches to the pane; Send Prompt from a row arrives', run: checkAgents },
  { id: 'p2', title: 'Tmux: Switch Project… from the palette builds the project\'s session (agent beside a shell) in a terminal', run: checkSwitchProject },
  { id: 'p3', title: 'a click on the failing service in the status bar opens the health report listing it with its last exit and breaker trial time', run: checkServiceHealthReport },
  { id: 'p4', title: 'Tmux: Import as Profile… from the palette: pick a .tmuxp.yaml, .tmux-session.yaml opens beside it, one notification names what did not carry over', run: checkImportProfile },
];

async function checkSwitchProject({ page, tmux, screenshot, workspace, afterCheck }) {
  const name = path.basename(workspace);
  // The template applies only to a folder without a profile of its own.
  fs.rmSync(path.join(workspace, '.tmux-session.yaml'), { force: true });
  afterCheck(() => killSessionsIfThere(tmux, [name]));
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  await openTmuxView(page);
  await runPaletteCommand(page, TEXT.switchProject);
  await pickRowMentioning(page, name);
  await waitFor(`the session "${name}" with two panes`, async () => {
    const panes = await tmux('list-panes', '-t', `=${name}`, '-F', '#{pane_width}').catch(() => '');
    return panes.trim().split('\n').filter(Boolean).length === 2;
  }, 20_000);
  const widths = (await tmux('list-panes', '-t', `=${name}`, '-F', '#{pane_width}')).trim().split('\n').map(Number);
  report(`tmux: "${name}" panes ${widths.join(' + ')} columns wide`);
  if (!(widths[0] > widths[1] * 5)) throw new Error(`the agent pane is not about 90% of the width: ${widths.join(', ')}`);
  await waitFor('a terminal attached to it', async () => (await page.locator(UI.terminalTab).allInnerTexts()).some((t) => t.includes(`tmux: ${name}`)));
  await page.waitForTimeout(1000); // the terminal draws the attached session
  report(`wrote ${await screenshot('ui-p2-switch-project')}`);
  await tmux('kill-session', '-t', `=${name}`);
  // Its terminal closes when the attach ends; closing takes the focus, and a palette opened
  // meanwhile would close with it.
  await waitFor('its terminal closed', async () => !(await page.locator(UI.terminalTab).allInnerTexts()).some((t) => t.includes(`tmux: ${name}`)));
  await page.waitForTimeout(500);
}

async function checkServiceHealthReport({ page, tmux, screenshot, home, workspace, afterCheck }) {
  afterCheck(() => killSessionsIfThere(tmux, ['health']));
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  await openTmuxView(page);
  const file = path.join(workspace, '.tmux-session.yaml');
  fs.writeFileSync(file, `session: health
root: ${JSON.stringify(home)}
windows:
  - panes:
      - name: web
        command: "exec sleep 3600"
      - name: flaky
        command: "sleep 0.3; echo flaky crashed; exit 3"
        backoff: { initialDelay: 200ms, maxDelay: 500ms }
        breaker: { failures: 2, window: 60s, cooldown: 5m }
`);
  try {
    await runPaletteCommand(page, TEXT.up);
    await page.locator(UI.servicesStatusItem).waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator(UI.servicesStatusItem).click();
    const state = await waitFor('the health report listing flaky', async () => {
      const current = await quickInputState(page);
      return current.visible && current.rows.some((r) => TEXT.healthServiceRow.test(r.text)) && current;
    });
    const row = state.rows.find((r) => TEXT.healthServiceRow.test(r.text)).text;
    report(`health report: ${describePrompt(state)}; "${row}"`);
    if (!/last exit: exited 3/.test(row)) throw new Error(`the row does not give the last exit: "${row}"`);
    if (!state.rows.some((r) => /Open Profile/.test(r.text))) throw new Error('the report offers no Open Profile');
    await page.waitForTimeout(300); // the quick pick fades in
    report(`wrote ${await screenshot('ui-p3-service-health-report')}`);
    await closeQuickInput(page);
    await runPaletteCommand(page, TEXT.down);
    await waitFor('the session "health" closed', async () => !(await sessionNames(tmux).catch(() => [])).includes('health'), 20_000);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function checkShowMetrics({ page, tmux, screenshot }) {
  // A pane that holds 150 MB (every page written, so it is resident), under a shell.
  const hold = `const b = Buffer.alloc(150 * 1024 * 1024, 1); setInterval(() => b[0]++, 1e6);`;
  await tmux('new-session', '-d', '-s', 'metrics-demo', 'sh', '-c', `node -e '${hold}'; sleep 1000`);
  await tmux('new-session', '-d', '-s', 'metrics-busy', 'sh', '-c', `node -e 'for (;;) {}'; sleep 1000`);
  await tmux('split-window', '-d', '-t', '=metrics-busy:');
  await openTmuxView(page);
  await runPaletteCommand(page, TEXT.showMetrics);
  // The table is a webview: an iframe holding the page's own iframe.
  const table = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
  const panes = (await tmux('list-panes', '-a', '-F', '#{pane_id}')).split('\n').filter(Boolean).length;
  const rows = await waitFor(`a row for each of the ${panes} panes`, async () => {
    const texts = await table.locator('#metrics tbody tr').allInnerTexts().catch(() => []);
    return texts.length === panes && texts.some((text) => /metrics-demo:0\.0/.test(text) && /\b1[5-9]\d MB|\b[2-9]\d\d MB/.test(text)) && texts;
  }, 15_000);
  await table.locator('th', { hasText: 'Memory' }).click();
  const first = await waitFor('the 150 MB pane first when sorted by memory', async () => {
    const text = await table.locator('#metrics tbody tr').first().innerText();
    return /metrics-demo:0\.0/.test(text) && text;
  });
  await table.locator('th', { hasText: 'CPU' }).click();
  const busiest = await waitFor('the busy loop first when sorted by CPU (from the second sample on)', async () => {
    const text = await table.locator('#metrics tbody tr').first().innerText();
    return /metrics-busy:0\.0/.test(text) && /\b\d+%/.test(text) && text;
  });
  report(`${rows.length} rows; sorted by memory, first: ${first.replace(/\s+/g, ' ')}; by CPU: ${busiest.replace(/\s+/g, ' ')}`);
  await screenshot('metrics-table');
  await tmux('kill-session', '-t', '=metrics-busy');
  await tmux('kill-session', '-t', '=metrics-demo');
}

async function checkOutsideSession({ page, tmux, screenshot }) {
  const rowSeen = watch(sessionRowSeenAt(page, 'outside-1')); // watch first, so no moment is missed
  await tmux('new-session', '-d', '-s', 'outside-1');
  const since = Date.now();
  const elapsed = Math.max(0, (await rowSeen) - since);
  await screenshot('ui-a-outside-session');
  report(`row "outside-1" visible ${elapsed} ms after tmux returned`);
  if (elapsed > LIVE_LIMIT_MS) throw new Error(`the row took ${elapsed} ms (limit ${LIVE_LIMIT_MS} ms)`);
}

async function checkNewSessionFromPalette({ page, tmux, screenshot }) {
  await runPaletteCommand(page, TEXT.newSession);
  await answerInputBox(page, 'from-palette');
  const since = Date.now();
  const elapsed = Math.max(0, (await sessionRowSeenAt(page, 'from-palette')) - since);
  const names = await waitFor('tmux to list "from-palette"', async () => {
    const out = await tmux('list-sessions', '-F', '#{session_name}');
    return out.split('\n').includes('from-palette') && out;
  });
  await screenshot('ui-b-new-session');
  report(`row "from-palette" visible ${elapsed} ms after Enter; tmux ls: ${names.trim().split('\n').join(', ')}`);
}

async function checkSendKeys({ page, tmux }) {
  await runPaletteCommand(page, TEXT.sendKeys);
  const panePrompt = await pickRowMentioning(page, 'from-palette');
  await sendTextWithEnter(page, 'echo hello', panePrompt);
  await waitFor('"hello" on its own line in `tmux capture-pane -p -t from-palette`', async () => paneShowsHello(tmux));
  report('tmux capture-pane shows the output line "hello"');
}

/** Independent of c1: when Send Keys failed, the line is typed with tmux itself first. */
async function checkCapturePane({ page, tmux, screenshot }) {
  if (!(await paneShowsHello(tmux))) {
    await tmux('send-keys', '-t', 'from-palette', 'echo hello', 'Enter');
    await waitFor('"hello" in the pane (typed with tmux send-keys)', async () => paneShowsHello(tmux));
    report('typed `echo hello` with tmux send-keys (Send Keys did not)');
  }
  await runPaletteCommand(page, TEXT.capturePane);
  await pickRowMentioning(page, 'from-palette');
  const editorText = await waitFor('an editor showing the line "hello"', async () => {
    const text = await activeEditorText(page);
    return hasLine(text, 'hello') && text;
  });
  const tab = await page.locator(UI.activeEditorTab).first().textContent().catch(() => '?');
  await screenshot('ui-c-send-keys-capture');
  report(`capture editor "${tab?.trim()}" shows "hello" (${editorText.split('\n').length} visible lines)`);
}

/** Right-click a session row, as a user would, and rename the session from its context menu. */
/** The terminal opens on the pane's screen; what the pane prints next appears in it. */
async function checkFollowPane({ page, tmux, screenshot }) {
  await runPaletteCommand(page, TEXT.followPane);
  await pickRowMentioning(page, 'from-palette');
  await waitFor('the follow terminal with its header', async () => /Following from-palette:\d+\.\d+ .*read-only/.test(await terminalText(page)));
  await tmux('send-keys', '-t', 'from-palette', 'echo followed-$((6*7))', 'Enter');
  const since = Date.now();
  await waitFor('"followed-42" in the follow terminal', async () => (await terminalText(page)).split('\n').some((line) => line.trim() === 'followed-42'));
  await screenshot('ui-o1-follow-pane');
  report(`the follow terminal showed "followed-42" ${Date.now() - since} ms after tmux send-keys returned`);
  const pipes = await tmux('list-panes', '-a', '-F', '#{pane_pipe}');
  if (!pipes.split('\n').includes('1')) throw new Error('no pipe is open on any pane while following');
  await page.keyboard.press('Escape');
}

async function terminalText(page) {
  return page.locator(UI.terminalRows).first().innerText().catch(() => '');
}

/** Pattern mode, a pattern typed in the box, the pane prints it: the progress toast is replaced by the outcome. */
async function checkWaitForOutput({ page, tmux, screenshot }) {
  await runPaletteCommand(page, TEXT.waitForOutput);
  await pickRowMentioning(page, 'from-palette');
  await clickRowMatching(page, TEXT.waitPatternMode, STEP_TIMEOUT_MS);
  await answerInputBox(page, 'done-\\d+');
  await waitForNotification(page, TEXT.waiting);
  await screenshot('ui-o2-waiting');
  await tmux('send-keys', '-t', 'from-palette', 'echo done-$((40+2))', 'Enter');
  const found = await waitForNotification(page, TEXT.waitMatched);
  await waitFor('the progress notification to close', async () => {
    const texts = [...(await page.locator(UI.notificationToast).allInnerTexts()), ...(await page.locator(UI.notificationItem).allInnerTexts())];
    return !texts.some((t) => TEXT.waiting.test(t.replace(/\s+/g, ' ')));
  });
  await screenshot('ui-o2-wait-matched');
  report(`notification: "${found}"`);
  await closeNotificationCenter(page);
}

/**
 * The extension host's own measure of our activation, as a user reads it: the Running Extensions
 * editor's row for this extension ("Startup Activation: 12ms" or "Activation: 12ms").
 */
async function checkActivationTime({ page, screenshot }) {
  await runPaletteCommand(page, TEXT.runningExtensions);
  await page.locator(UI.runningExtensionRow).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  // The list draws only the rows in view, and ours may be far down among the built-in extensions.
  await page.locator(UI.runningExtensionRow).first().click();
  const row = await waitFor('our row in Running Extensions, with a time', async () => {
    const rows = await page.locator(UI.runningExtensionRow).allInnerTexts();
    // Named by its display name, or by its id when run from source in a remote window.
    const ours = rows.map((t) => t.replace(/\s+/g, ' ')).find((t) => TEXT.extensionName.test(t) && /\d+\s*ms/.test(t));
    if (!ours) await page.keyboard.press('PageDown');
    return ours;
  }, 30_000);
  await screenshot('ui-o3-running-extensions');
  report(`Running Extensions: "${row}"`);
  const ms = /(\d+)\s*ms/.exec(row)[1];
  report(`activation in the real workbench: ${ms} ms (the extension host's own measure)`);
  await page.keyboard.press('Control+W');
}

async function checkRenameFromContextMenu({ page, tmux, screenshot }) {
  await openTmuxView(page);
  const row = page.locator(`${UI.sessionsTree} ${UI.treeRow}`).filter({ has: page.locator(UI.rowLabel, { hasText: /^outside-1$/ }) }).first();
  await row.click({ button: 'right' });
  const menu = page.locator(UI.contextMenu);
  await menu.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  const entries = (await menu.locator(UI.contextMenuItem).allTextContents()).map((t) => t.trim()).filter(Boolean);
  report(`context menu: ${entries.join(' | ')}`);
  for (const wanted of TEXT.sessionMenu) {
    if (!entries.some((entry) => entry.startsWith(wanted))) throw new Error(`the session's context menu has no "${wanted}" (it has: ${entries.join(', ')})`);
  }
  await page.waitForTimeout(200); // the menu fades in
  await screenshot('ui-f-context-menu');
  await menu.locator(UI.contextMenuItem).filter({ hasText: TEXT.rename }).first().click();
  await answerInputBox(page, 'renamed-in-tree');
  await sessionRowSeenAt(page, 'renamed-in-tree');
  const names = (await tmux('list-sessions', '-F', '#{session_name}')).split('\n');
  if (!names.includes('renamed-in-tree')) throw new Error(`tmux lists ${names.join(', ')}, not "renamed-in-tree"`);
  report('tmux and the tree show "renamed-in-tree"');
}

/** The status bar item opens the health report; every check passes while the server runs. */
async function checkHealthReport({ page, screenshot }) {
  await closeQuickInput(page);
  await page.locator(UI.statusItem).click();
  const state = await waitFor('the health report', async () => {
    const current = await quickInputState(page);
    return current.visible && current.rows.length >= 6 && current;
  });
  report(`health report: ${describePrompt(state)}; ${state.rows.map((r) => r.text.split(',')[0]).join(' | ')}`);
  if (!TEXT.healthAllPass.test(describePrompt(state))) throw new Error(`the health report does not say all checks pass: ${describePrompt(state)}`);
  await page.waitForTimeout(300); // the quick pick fades in
  await screenshot('ui-g-health-report');
  await closeQuickInput(page);
}

async function paneShowsHello(tmux) {
  return hasLine(await tmux('capture-pane', '-p', '-t', 'from-palette'), 'hello');
}

async function checkServerDeathAndReturn({ page, tmux, killServer, screenshot, home }) {
  const downSeen = watch(statusSeenAt(page, TEXT.statusNoServer));
  const { killedAt } = await killServer(); // `tmux kill-server`, then waits for the process to end
  const downMs = Math.max(0, (await downSeen) - killedAt);
  // The view empties and its welcome message offers to start a session, as a user would see it.
  await waitFor('the no-server welcome view', async () => (await page.locator(UI.view).innerText()).includes(TEXT.welcomeNoServer) && (await page.locator(`${UI.sessionsTree} ${UI.treeRow}`).count()) === 0);
  await screenshot('ui-d-no-server');
  report(`status "${await statusText(page)}" ${downMs} ms after kill-server`);
  if (downMs > LIVE_LIMIT_MS) throw new Error(`the status bar took ${downMs} ms to show "no server" (limit ${LIVE_LIMIT_MS} ms)`);

  const upSeen = watch(statusSeenAt(page, TEXT.statusSessions(1)));
  const rowSeen = watch(sessionRowSeenAt(page, 'back'));
  await tmux('new-session', '-d', '-s', 'back', '-c', home);
  const since = Date.now();
  const upMs = Math.max(0, (await upSeen) - since);
  const rowMs = Math.max(0, (await rowSeen) - since);
  await screenshot('ui-d-server-back');
  const text = await statusText(page);
  report(`status "${text}" ${upMs} ms and row "back" ${rowMs} ms after new-session`);
  if (!TEXT.statusAny.test(text)) throw new Error(`the status bar item reads "${text}", without ${TEXT.statusAny}`);
}

async function checkFinalScreenshot({ page, tmux, screenshot, home }) {
  await populateForScreenshot(tmux, home);
  const sessions = (await tmux('list-sessions', '-F', '#{session_name}')).trim().split('\n');
  for (const name of sessions) await sessionRowSeenAt(page, name);
  await statusSeenAt(page, TEXT.statusSessions(sessions.length));
  await expandTree(page);
  // Clear the tree's selection (Escape), focus the editor group and park the mouse: no focus
  // ring, selected row, hover or tooltip in the picture.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+1');
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  const file = await screenshot('tree-and-status');
  report(`wrote ${file}`);
}

/** A small, realistic server: three sessions, several windows, a split window, running programs. */
async function populateForScreenshot(tmux, home) {
  await tmux('new-window', '-t', 'back', '-n', 'logs', '-c', home);
  await tmux('split-window', '-h', '-t', 'back:logs', '-c', home);
  await tmux('new-session', '-d', '-s', 'agents', '-n', 'build', '-c', home);
  await tmux('split-window', '-v', '-t', 'agents:build', '-c', home, 'sleep 3600');
  await tmux('new-window', '-t', 'agents', '-n', 'watch', '-c', home, 'top');
  await tmux('new-session', '-d', '-s', 'notes', '-c', home);
}

/**
 * The save/restore round trip a user makes before and after a reboot: Save All from the Sessions
 * view's title bar, the server dies, and the inline Restore button on a Snapshots row brings the
 * session back with its windows.
 */
async function checkSaveAndRestore({ page, tmux, killServer, screenshot }) {
  await closeQuickInput(page);
  await openTmuxView(page);
  const windowsBefore = (await tmux('list-windows', '-t', '=agents', '-F', '#{window_name}')).trim().split('\n');
  await clickViewTitleAction(page, 'Sessions', TEXT.saveAll);
  const saved = await waitForNotification(page, TEXT.savedAll);
  await closeNotificationCenter(page);
  const savedRow = `${UI.snapshotsTree} ${UI.treeRow}[aria-label^="snapshot ${TEXT.manualSave} of agents,"]`;
  await page.locator(savedRow).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  const rows = await snapshotRowLabels(page);
  report(`notification: ${saved}`);
  report(`Snapshots view: ${rows.join(' | ')}`);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  await screenshot('snapshots-view');

  await killServer();
  await statusSeenAt(page, TEXT.statusNoServer);
  await waitFor('the Sessions view to empty', async () => (await page.locator(`${UI.sessionsTree} ${UI.treeRow}`).count()) === 0);
  const row = page.locator(savedRow).first();
  await row.hover();
  await row.locator(`${UI.actionLabel}[aria-label^="${TEXT.restore}"]`).click();
  const since = Date.now();
  const seenMs = Math.max(0, (await sessionRowSeenAt(page, 'agents', STEP_TIMEOUT_MS)) - since);
  await statusSeenAt(page, TEXT.statusSessions(1));
  const windowsAfter = (await tmux('list-windows', '-t', '=agents', '-F', '#{window_name}')).trim().split('\n');
  if (windowsAfter.join(',') !== windowsBefore.join(',')) throw new Error(`tmux lists windows ${windowsAfter.join(', ')} for the restored "agents", not ${windowsBefore.join(', ')}`);
  const toast = await waitForNotification(page, TEXT.restored('agents'));
  report(`row "agents" back ${seenMs} ms after the click; windows ${windowsAfter.join(', ')}; notification: ${toast}`);
  await clearTreeSelectionAndShowNotification(page, TEXT.restored('agents'));
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  await screenshot('restored'); // the notification center stays open in the picture, showing the message
  await closeNotificationCenter(page);
}

/**
 * After a reboot: the tmux server is gone and VS Code starts again. The extension reads the
 * manifest the last autosave left (<dataDir>/autosave.json), offers "Restore N sessions saved at
 * HH:MM?", and its Restore button brings every listed session back. The reboot is played by
 * killing the private server and reloading the window.
 */
async function checkRestoreAfterReboot({ page, tmux, killServer, screenshot, home, dataDir }) {
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  // Two sessions or more, so the offer counts them (h leaves "agents"; whatever an earlier failure
  // left, both are made here when missing). Structural changes: autosave runs ~2 s later.
  const changedAt = Date.now();
  const present = await sessionNames(tmux).catch(() => []); // no server: none
  for (const name of ['agents', 'notes']) if (!present.includes(name)) await tmux('new-session', '-d', '-s', name, '-c', home);
  await tmux('new-window', '-d', '-t', '=agents', '-c', home);
  const before = await sessionShapes(tmux);
  const names = Object.keys(before).sort();
  const manifestFile = path.join(dataDir, 'autosave.json');
  // Written after the change and naming, for each session, a snapshot of its present shape (an
  // autosave that was already under way may have written the old one just after the change).
  const manifest = await waitFor(`${path.basename(manifestFile)} to list ${names.join(', ')} as they are now`, async () => {
    const current = readJsonFile(manifestFile);
    const listed = Object.keys(current?.sessions ?? {}).sort();
    if (!current || Date.parse(current.savedAt) < changedAt || listed.join(',') !== names.join(',')) return null;
    return names.every((name) => snapshotShape(path.join(dataDir, 'snapshots', current.sessions[name])) === before[name]) && current;
  });
  report(`autosave manifest: ${names.length} sessions (${names.map((n) => `${n}: ${before[n]}`).join('; ')}) saved at ${manifest.savedAt}`);

  await killServer();
  await statusSeenAt(page, TEXT.statusNoServer);
  await runPaletteCommand(page, TEXT.reloadWindow); // VS Code starts again
  const reloadedAt = Date.now();
  await page.locator(UI.statusItem).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS }); // the old page is gone
  await page.locator(UI.statusItem).waitFor({ state: 'visible', timeout: RELOAD_TIMEOUT_MS });
  const upMs = Date.now() - reloadedAt;
  await waitForNotification(page, TEXT.rebootOffer(names.length), RELOAD_TIMEOUT_MS);
  const offerMs = Date.now() - reloadedAt;
  const item = page.locator(UI.notificationItem).filter({ hasText: TEXT.rebootOffer(names.length) }).first();
  const offer = (await item.locator(UI.notificationMessage).innerText()).replace(/\s+/g, ' ').trim();
  const expected = `${TEXT.rebootOffer(names.length)} ${savedAtTextLike(new Date(manifest.savedAt))}?`;
  if (offer !== expected) throw new Error(`the offer reads "${offer}", not "${expected}" (the manifest's time)`);
  report(`status item back ${upMs} ms after the reload; offer seen ${offerMs} ms after it: "${offer}"`);
  await openTmuxView(page);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  await screenshot('after-reboot-offer'); // the notification center open, showing the offer

  await item.hover(); // a notification shows its buttons while the pointer is over it
  await item.locator(UI.notificationButton).filter({ hasText: new RegExp(`^${TEXT.restore}$`) }).first().click();
  const clickedAt = Date.now();
  for (const name of names) await sessionRowSeenAt(page, name, STEP_TIMEOUT_MS);
  await statusSeenAt(page, TEXT.statusSessions(names.length));
  await sessionsBackAsBefore(tmux, before);
  const backMs = Date.now() - clickedAt;
  const done = await waitForNotification(page, TEXT.restoredMany(names.length));
  report(`sessions back ${backMs} ms after the click on Restore (tree rows, tmux ls, status "${await statusText(page)}"); notification: ${done}`);
  await clearTreeSelectionAndShowNotification(page, TEXT.restoredMany(names.length));
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  await screenshot('after-reboot-restored'); // the notification center open, showing "Restored N tmux sessions"
  await closeNotificationCenter(page);
}

/**
 * A mistaken kill-server while VS Code stays open: no reboot offer comes, but the Sessions view's
 * welcome message offers the last autosave; its pick lists the sessions, all picked, and Enter
 * restores them.
 */
async function checkRestoreFromWelcome({ page, tmux, killServer, screenshot, dataDir }) {
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  await openTmuxView(page);
  const before = await sessionShapes(tmux);
  const names = Object.keys(before).sort();
  if (names.length < 2) throw new Error(`expected the sessions (i) restored, found ${names.join(', ') || 'none'}`);
  await waitFor(`the autosave manifest to list ${names.join(', ')}`, async () => {
    const listed = Object.keys(readJsonFile(path.join(dataDir, 'autosave.json'))?.sessions ?? {}).sort();
    return listed.join(',') === names.join(',');
  });

  await killServer();
  await statusSeenAt(page, TEXT.statusNoServer);
  const button = page.locator(UI.view).getByRole('button', { name: TEXT.restoreAutosaved });
  await button.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  const welcome = (await page.locator(UI.view).innerText()).split('\n').filter((line) => line.includes(TEXT.welcomeNoServer));
  report(`welcome view: "${welcome[0]}", with a "${TEXT.restoreAutosaved}" button`);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  await screenshot('no-server-restore-autosaved');

  await button.click();
  const pick = await waitFor('the pick of autosaved sessions', async () => {
    const state = await quickInputState(page);
    return state.visible && state.title.startsWith(TEXT.restoreAutosavedTitle) && state.rows.length === names.length && state;
  });
  const rows = pick.rows.map((r) => r.text);
  report(`pick: ${describePrompt(pick)}; rows ${rows.join(' | ')}`);
  for (const name of names) if (!rows.some((text) => text.includes(name))) throw new Error(`the pick does not list "${name}": ${rows.join(' | ')}`);
  await page.waitForTimeout(300); // the widget fades in
  await screenshot('restore-autosaved-pick');
  await page.locator(UI.quickInputBox).press('Enter'); // every row starts picked
  const acceptedAt = Date.now();
  for (const name of names) await sessionRowSeenAt(page, name, STEP_TIMEOUT_MS);
  await sessionsBackAsBefore(tmux, before);
  const done = await waitForNotification(page, TEXT.restoredMany(names.length));
  report(`sessions back ${Date.now() - acceptedAt} ms after Enter; notification: ${done}`);
  await closeNotificationCenter(page);
}

async function checkServerCrash({ page, tmux, screenshot, dataDir }) {
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  await openTmuxView(page);
  const before = await sessionShapes(tmux);
  const names = Object.keys(before).sort();
  await waitFor(`the autosave manifest to list ${names.join(', ')}`, async () => {
    const listed = Object.keys(readJsonFile(path.join(dataDir, 'autosave.json'))?.sessions ?? {}).sort();
    return listed.join(',') === names.join(',');
  });
  const pid = Number((await tmux('display-message', '-p', '#{pid}')).trim());
  // A crash in the first second after the window connected is not named one (src/tmux/hooks.ts,
  // the sentinel); the restore just before may have started this server that recently.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  process.kill(pid, 'SIGSEGV'); // what tmux's control-mode bug, or an OOM kill, does to a user
  const killedAt = Date.now();
  const notice = await waitForNotification(page, TEXT.crashNotice);
  report(`notice ${Date.now() - killedAt} ms after the signal: "${notice}"`);
  await statusSeenAt(page, TEXT.statusCrashed);
  report(`status bar: "${await statusText(page)}"`);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  await screenshot('server-crashed');

  const toast = page.locator(UI.notificationToast).filter({ hasText: 'stopped unexpectedly' });
  const center = page.locator(UI.notificationItem).filter({ hasText: 'stopped unexpectedly' });
  const button = (await toast.count()) > 0 ? toast.getByRole('button', { name: TEXT.restoreAutosaved }) : center.getByRole('button', { name: TEXT.restoreAutosaved });
  await button.click();
  await waitFor('the pick of autosaved sessions', async () => {
    const state = await quickInputState(page);
    return state.visible && state.title.startsWith(TEXT.restoreAutosavedTitle) && state.rows.length === names.length && state;
  });
  await page.waitForTimeout(300); // the widget fades in
  await page.locator(UI.quickInputBox).press('Enter'); // every row starts picked
  const acceptedAt = Date.now();
  for (const name of names) await sessionRowSeenAt(page, name, STEP_TIMEOUT_MS);
  await sessionsBackAsBefore(tmux, before);
  report(`sessions back ${Date.now() - acceptedAt} ms after Enter`);
  await closeNotificationCenter(page);
}

async function checkReloadUnderChurn({ page, tmux, killServer, socketName }) {
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  const present = await sessionNames(tmux).catch(() => []);
  for (let i = present.length; i < 20; i++) await tmux('new-session', '-d', '-s', `load-${i}`);
  const pid = Number((await tmux('display-message', '-p', '#{pid}')).trim());
  // What a project script does, without pause: sessions made, split, renamed, selected, killed.
  const stopFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-ui-churn-'));
  const stopFile = path.join(stopFolder, 'stop');
  const script = `i=0; while [ ! -e "$STOP" ]; do s=churn-$i; tmux -L "$SOCK" new-session -d -s $s \\; new-window -d -t $s: \\; split-window -d -t $s: \\; ` +
    `select-window -t $s:1 \\; rename-window -t $s:1 w$i \\; kill-session -t $s >/dev/null 2>&1; i=$((i+1)); done; echo $i`;
  const env = { ...process.env, SOCK: socketName, STOP: stopFile };
  delete env.TMUX;
  const churn = spawn('sh', ['-c', script], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let iterations = '';
  churn.stdout.on('data', (chunk) => (iterations += chunk));
  const churned = new Promise((resolve) => churn.on('exit', resolve));
  const shownMs = [];
  try {
    for (let round = 0; round < 3; round++) {
      await runPaletteCommand(page, TEXT.reloadWindow);
      await page.locator(UI.statusItem).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
      await page.locator(UI.statusItem).waitFor({ state: 'visible', timeout: RELOAD_TIMEOUT_MS });
      const upAt = Date.now();
      const seenAt = await statusSeenAt(page, TEXT.statusSessions('\\d+'), 2000);
      shownMs.push(seenAt - upAt);
    }
  } finally {
    fs.writeFileSync(stopFile, '');
    await churned;
    fs.rmSync(stopFolder, { recursive: true, force: true });
  }
  if (!processAlive(pid)) throw new Error(`the server (pid ${pid}) died during the reloads`);
  report(`3 reloads while a script ran ${iterations.trim()} rounds of changes: the status bar showed the server ${shownMs.join(', ')} ms after the extension came up; server pid ${pid} alive`);
  await killServer();
  await statusSeenAt(page, TEXT.statusNoServer);
  const startedAt = Date.now();
  await tmux('new-session', '-d', '-s', 'after-reloads');
  await sessionRowSeenAt(page, 'after-reloads', 2000);
  report(`a server started afterwards: its session in the tree ${Date.now() - startedAt} ms later`);
}

/**
 * Two sessions whose project folders were deleted, one of them protected from its row's context
 * menu, and a temporary file an interrupted save left two days ago. Clean Up… must list the other
 * session and the file, each with its reason, all ticked; Escape leaves tmux and the file as they
 * were; Enter ends the session and removes the file, and the protected one stays.
 */
async function checkCleanUp({ page, tmux, screenshot, home, dataDir, afterCheck }) {
  afterCheck(() => killSessionsIfThere(tmux, ['old-project', 'kept-project']));
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  await openTmuxView(page);
  const oldFolder = fs.mkdtempSync(path.join(home, 'old-project-'));
  const keptFolder = fs.mkdtempSync(path.join(home, 'kept-project-'));
  await tmux('new-session', '-d', '-s', 'old-project', '-c', oldFolder);
  await tmux('new-session', '-d', '-s', 'kept-project', '-c', keptFolder);
  fs.rmSync(oldFolder, { recursive: true });
  fs.rmSync(keptFolder, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const leftover = path.join(dataDir, 'autosave.json.1234567');
  fs.writeFileSync(leftover, '{"format":"tmux-sess');
  const twoDaysAgo = new Date(Date.now() - 50 * 3600_000);
  fs.utimesSync(leftover, twoDaysAgo, twoDaysAgo);
  await sessionRowSeenAt(page, 'kept-project', STEP_TIMEOUT_MS);

  // Protect from the row's context menu, as a user would.
  const keptRow = page.locator(`${UI.sessionsTree} ${UI.treeRow}`).filter({ has: page.locator(UI.rowLabel, { hasText: /^kept-project$/ }) }).first();
  await keptRow.click({ button: 'right' });
  const menu = page.locator(UI.contextMenu);
  await menu.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.waitForTimeout(300); // the menu fades in, and takes no click before it has
  await menu.locator(UI.contextMenuItem).filter({ hasText: TEXT.protect }).first().click();
  await waitFor('tmux to hold the protected mark', async () => (await tmux('show-options', '-v', '-t', 'kept-project', '@tmux-session-manager-protected')).trim() === '1');
  await waitFor('the row to say "protected"', async () => /protected/.test(await keptRow.innerText()));

  const sessionsBefore = await tmux('list-sessions', '-F', '#{session_name}');
  await runPaletteCommand(page, TEXT.cleanUp);
  const state = await waitFor('the Clean Up pick with its candidates', async () => {
    const current = await quickInputState(page);
    return current.visible && TEXT.cleanUpTitle.test(current.title) && current.rows.length >= 2 && current;
  });
  const rows = state.rows.map((r) => r.text);
  report(`pick: ${describePrompt(state)}`);
  for (const row of rows) report(`  row: ${row}`);
  const folderRow = rows.find((r) => r.includes('session "old-project"'));
  if (!folderRow || !folderRow.includes(TEXT.folderGone(`~/${path.basename(oldFolder)}`))) throw new Error(`no row for "old-project" saying ${TEXT.folderGone(`~/${path.basename(oldFolder)}`)}`);
  if (!rows.some((r) => TEXT.halfWritten.test(r))) throw new Error(`no row for the half-written file matching ${TEXT.halfWritten}`);
  if (rows.some((r) => r.includes('kept-project'))) throw new Error('the protected session "kept-project" is listed');
  const ticked = await page.locator(UI.quickInputRow).evaluateAll((list) =>
    list.filter((row) => row.getAttribute('aria-checked') === 'true' || row.querySelector('input[type="checkbox"]')?.checked || row.querySelector('[aria-checked="true"]')).length,
  );
  report(`${ticked} of ${rows.length} rows ticked`);
  if (ticked !== rows.length) throw new Error(`${ticked} of ${rows.length} candidates are ticked; all should be`);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300); // the quick pick fades in
  await screenshot('ui-m-clean-up-dry-run');

  await closeQuickInput(page);
  const sessionsAfter = await tmux('list-sessions', '-F', '#{session_name}');
  if (sessionsAfter !== sessionsBefore || !fs.existsSync(leftover)) throw new Error(`Escape changed something: sessions ${sessionsBefore.trim()} → ${sessionsAfter.trim()}; leftover file ${fs.existsSync(leftover) ? 'kept' : 'gone'}`);
  report('Escape: tmux lists the same sessions, the leftover file is still there');

  await runPaletteCommand(page, TEXT.cleanUp);
  await waitFor('the Clean Up pick again', async () => TEXT.cleanUpTitle.test((await quickInputState(page)).title));
  await page.keyboard.press('Enter');
  const done = await waitForNotification(page, TEXT.cleanedUp, 20_000);
  const names = (await tmux('list-sessions', '-F', '#{session_name}')).trim().split('\n');
  if (names.includes('old-project') || !names.includes('kept-project')) throw new Error(`after Enter tmux lists ${names.join(', ')}`);
  if (fs.existsSync(leftover)) throw new Error('the leftover file is still there after Enter');
  report(`Enter: "${done}"; tmux lists ${names.join(', ')}`);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  await screenshot('ui-m-clean-up-done');
  await closeNotificationCenter(page);
}

/**
 * A workspace profile brought up from the palette: `db` becomes ready when it prints its line 8 s
 * in (time to see it starting, even on a busy machine), `api` waits for it, and `flaky` exits 3,
 * every time, until its breaker
 * (3 failures in a minute) opens.
 */
async function checkProfileUp({ page, tmux, screenshot, home, workspace, afterCheck }) {
  const file = path.join(workspace, '.tmux-session.yaml');
  afterCheck(async () => {
    fs.rmSync(file, { force: true });
    await killSessionsIfThere(tmux, ['shop']);
  });
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  await openTmuxView(page);
  fs.writeFileSync(file, `session: shop
root: ${JSON.stringify(home)}
windows:
  - name: services
    panes:
      - name: db
        command: "sleep 8; echo db accepting connections; exec sleep 3600"
        ready: { output: "accepting connections", interval: 200ms }
      - name: api
        command: "echo api listening; exec sleep 3601"
        dependsOn: { db: ready }
      - name: flaky
        command: "sleep 0.5; echo flaky crashed; exit 3"
        backoff: { initialDelay: 300ms, maxDelay: 1s }
        breaker: { failures: 3, window: 60s, cooldown: 5m }
`);
  await runPaletteCommand(page, TEXT.up);
  const rowTexts = async () => {
    await expandOnly(page, 'shop');
    return (await page.locator(`${UI.sessionsTree} ${UI.treeRow}`).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  };
  const history = new Set();
  const starting = await waitFor('a service row saying "starting"', async () => {
    const rows = await rowTexts();
    rows.forEach((t) => history.add(t));
    return rows.find((t) => TEXT.serviceStarting.test(t));
  }, 20_000).catch((error) => {
    throw new Error(`${error.message}; rows seen: ${[...history].map((t) => `"${t}"`).join(', ')}`);
  });
  report(`tree: "${starting}"`);
  await screenshot('ui-p1-starting');
  let seen = [];
  const ready = await waitFor('two service rows saying "ready"', async () => {
    seen = await rowTexts();
    const rows = seen.filter((t) => TEXT.serviceReady.test(t));
    return rows.length >= 2 && rows;
  }, 30_000).catch((error) => {
    throw new Error(`${error.message}; rows: ${seen.map((t) => `"${t}"`).join(', ')}`);
  });
  report(`tree: ${ready.map((t) => `"${t}"`).join(', ')}`);
  // A service whose process is killed restarts (after its backoff) and becomes ready again.
  const apiPid = Number((await tmux('list-panes', '-t', '=shop:services', '-F', '#{@tsm-profile-pane} #{pane_pid}')).match(/^api (\d+)$/m)?.[1]);
  if (!apiPid) throw new Error('no pane of api in tmux');
  process.kill(apiPid, 'SIGKILL');
  const restarting = await waitFor('the api row saying "restarting in N s"', async () => (await rowTexts()).find((t) => /api/.test(t) && TEXT.serviceRestarting.test(t)), 10_000);
  report(`after SIGKILL of api's process: "${restarting}"`);
  await screenshot('ui-p1-restarting');
  const again = await waitFor('api ready again', async () => (await rowTexts()).find((t) => /api/.test(t) && TEXT.serviceReady.test(t)), 20_000);
  report(`then: "${again}"`);
  const alive = await waitFor('the api row no longer saying its pane exited', async () => (await rowTexts()).find((t) => /^api/.test(t) && TEXT.serviceReady.test(t) && !/exited/.test(t)), 5_000).catch(async (error) => {
    throw new Error(`${error.message}; rows: ${(await rowTexts()).join(' | ')}; tmux: ${(await tmux('list-panes', '-t', '=shop:services', '-F', '#{@tsm-profile-pane} #{pane_id} #{pane_pid} dead=#{pane_dead} #{pane_current_command}')).trim().replace(/\n/g, ' | ')}`);
  });
  report(`and its pane alive: "${alive}"`);
  const open = await waitFor('the flaky row saying its breaker is open', async () => (await rowTexts()).find((t) => TEXT.breakerOpenRow.test(t)), 40_000);
  report(`tree: "${open}"`);
  const status = await waitFor('the services status item', async () => {
    const text = ((await page.locator(UI.servicesStatusItem).textContent({ timeout: 1000 }).catch(() => '')) ?? '').trim();
    return TEXT.breakerOpenStatus.test(text) && text;
  });
  report(`status bar: "${status}"`);
  const panes = (await tmux('list-panes', '-t', '=shop:services', '-F', '#{@tsm-profile-pane} #{pane_dead} #{pane_dead_status}')).trim();
  if (!/^flaky 1 3$/m.test(panes)) throw new Error(`tmux does not show flaky dead with status 3:\n${panes}`);
  await clearTreeSelectionAndShowNotification(page, TEXT.breakerOpenNotice, (p) => expandOnly(p, 'shop'));
  const notice = await waitForNotification(page, TEXT.breakerOpenNotice);
  for (const button of ['Restart', 'Show Output', 'Open Profile']) {
    if (!notice.includes(button)) throw new Error(`the notification "${notice}" has no ${button} button`);
  }
  report(`notification: "${notice}"`);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  const picture = await screenshot('ui-p1-breaker-open');
  report(`wrote ${picture}`);
  await closeNotificationCenter(page);
  // A reloaded window adopts the running services: same processes, the breaker still open.
  const processesBefore = (await tmux('list-panes', '-t', '=shop:services', '-F', '#{@tsm-profile-pane} #{pane_id} #{pane_pid}')).trim();
  await runPaletteCommand(page, TEXT.reloadWindow);
  const reloadedAt = Date.now();
  await page.locator(UI.statusItem).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
  await page.locator(UI.statusItem).waitFor({ state: 'visible', timeout: RELOAD_TIMEOUT_MS });
  const activeAt = Date.now();
  await openTmuxView(page);
  const adopted = await waitFor('after the reload: two services ready and flaky with its breaker open', async () => {
    const rows = await rowTexts();
    return rows.filter((t) => TEXT.serviceReady.test(t)).length >= 2 && rows.some((t) => TEXT.breakerOpenRow.test(t)) && rows;
  }, 20_000);
  report(`reload: services adopted ${Date.now() - activeAt} ms after the extension's status item showed again (${Date.now() - reloadedAt} ms after Reload Window): ${adopted.filter((t) => /ready|breaker/.test(t)).map((t) => `"${t}"`).join(', ')}`);
  const processesAfter = (await tmux('list-panes', '-t', '=shop:services', '-F', '#{@tsm-profile-pane} #{pane_id} #{pane_pid}')).trim();
  if (processesAfter !== processesBefore) throw new Error(`the reload started something again:\nbefore:\n${processesBefore}\nafter:\n${processesAfter}`);
  await runPaletteCommand(page, TEXT.down);
  await waitFor('the session "shop" closed', async () => !(await sessionNames(tmux).catch(() => [])).includes('shop'), 20_000);
}

/**
 * Three scripted stand-in agents (test/fixtures/agents/scripted, configured as the custom kind
 * "scripted"; each follows the scenario named after its session, and moves on when the check
 * writes its ".go" file) spawned from the palette in the workspace, made a git repository here.
 */
async function checkAgents({ page, tmux, screenshot, workspace, agentScripts }) {
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  const git = (...args) => execFileText('git', args, workspace);
  if (!fs.existsSync(path.join(workspace, '.git'))) {
    await git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(workspace, 'README.md'), '# shop\n');
    await git('add', 'README.md');
    await git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'start');
  }
  const go = (task) => fs.writeFileSync(path.join(agentScripts, `scripted-${task}.go`), '');
  const wait = (task) => `wait ${path.join(agentScripts, `scripted-${task}.go`)}`;
  const scenario = (name, lines) => fs.writeFileSync(path.join(agentScripts, name), lines.join('\n'));
  scenario('scripted-alpha.txt', ['hook SessionStart', 'hook UserPromptSubmit', 'hook PreToolUse', wait('alpha'), 'hook PermissionRequest', 'hook Notification.permission_prompt', 'hang']);
  scenario('scripted-beta.txt', ['hook SessionStart', 'hook UserPromptSubmit', wait('beta'), 'hook Stop', 'hook SessionEnd', 'exit 0']);
  scenario('scripted-gamma.txt', ['hook SessionStart', 'hook UserPromptSubmit', wait('gamma'), 'hook Stop']);
  scenario('scripted-gamma.after', ['hook UserPromptSubmit', 'sleep 300', 'hook Stop']);

  // Agents run in the user's tmux server; one with a plain session runs when this check runs alone.
  if (!(await sessionNames(tmux).catch(() => [])).length) await tmux('new-session', '-d', '-s', 'notes', '-c', workspace);
  await openTmuxView(page);
  await runPaletteCommand(page, TEXT.spawnAgents);
  await pickRowMentioning(page, 'scripted');
  await answerInputBoxThenMore(page, 'alpha, beta, gamma');
  await pickRowMentioning(page, 'Yes'); // a worktree per agent
  await answerInputBox(page, ''); // no first prompt
  // A row's accessible name: "<task>, <state> · <time> · <branch>" (its label and description run together on screen).
  const agentRows = async () => page.locator(`${UI.agentsTree} ${UI.treeRow}`).evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
  const rowOf = async (task) => (await agentRows()).find((t) => t.startsWith(`${task}, `));
  const working = await waitFor('three agent rows saying "working"', async () => {
    const rows = await agentRows();
    return rows.filter((t) => TEXT.agentWorking.test(t)).length === 3 && rows;
  }, 30_000);
  report(`Agents view: ${working.map((t) => `"${t}"`).join(', ')}`);
  const worktrees = await git('worktree', 'list');
  if (worktrees.trim().split('\n').length !== 4) throw new Error(`git lists no worktree per agent:\n${worktrees}`);
  report(`git worktree list: ${worktrees.trim().split('\n').length - 1} agent worktrees`);
  await page.mouse.move(1, 1);
  await screenshot('ui-a1-agents-working');

  go('alpha');
  const waiting = await waitFor('alpha waiting for permission', async () => {
    const text = await rowOf('alpha');
    return text && TEXT.agentPermission.test(text) && text;
  });
  report(`row: "${waiting}"`);
  const status = await waitFor('the waiting agents in the status bar', async () => {
    const text = ((await page.locator(UI.agentsStatusItem).textContent({ timeout: 1000 }).catch(() => '')) ?? '').trim();
    return TEXT.agentsWaiting.test(text) && text;
  });
  report(`status bar: "${status}"`);
  go('beta');
  const done = await waitFor('beta done', async () => {
    const text = await rowOf('beta');
    return text && TEXT.agentDone.test(text) && text;
  });
  report(`row: "${done}"`);
  // The picture: Sessions and Agents, with the Snapshots view folded out of the way.
  const snapshotsHeader = page.locator(`${UI.paneHeader}[aria-label^="Snapshots"]`);
  if ((await snapshotsHeader.getAttribute('aria-expanded')) === 'true') await snapshotsHeader.click();
  await page.keyboard.press('Escape');
  await page.mouse.move(1, 1);
  const notice = await waitForNotification(page, TEXT.permissionNotice);
  report(`notification: "${notice}"`);
  await page.waitForTimeout(300);
  const picture = await screenshot('agents-view');
  report(`wrote ${picture}`);

  // The status bar's count shows the Agents view with the first waiting agent selected.
  await page.locator(UI.agentsStatusItem).click();
  const selected = await waitFor('the waiting agent selected in the Agents view', async () => {
    const rows = await page.locator(`${UI.agentsTree} ${UI.treeRow}[aria-selected="true"]`).evaluateAll((r) => r.map((row) => row.getAttribute('aria-label')));
    return rows.length === 1 && rows[0].startsWith('alpha, ') && rows[0];
  });
  report(`status bar click: selected "${selected}"`);
  await waitForNotification(page, TEXT.permissionNotice);

  // The notification's Focus: an attach terminal on alpha's own pane.
  const item = page.locator(UI.notificationItem).filter({ hasText: TEXT.permissionNotice }).first();
  await item.hover();
  await item.locator(UI.notificationButton).filter({ hasText: new RegExp(`^${TEXT.focus}$`) }).first().click();
  const alphaPane = (await tmux('list-panes', '-t', '=scripted-alpha', '-F', '#{pane_id}')).trim().split('\n')[0];
  const client = await waitFor('a client attached to scripted-alpha, on its agent pane', async () => {
    const clients = (await tmux('list-clients', '-F', '#{client_session} #{pane_id}')).trim().split('\n');
    return clients.find((line) => line === `scripted-alpha ${alphaPane}`);
  });
  const tab = await page.locator(UI.activeTerminalTab).first().innerText().catch(() => '?');
  report(`tmux client: "${client}"; terminal tab "${tab.replace(/\s+/g, ' ').trim()}"`);
  await page.mouse.move(1, 1); // the button's hover would cover the bell
  await page.waitForTimeout(300);
  await closeNotificationCenter(page);
  await page.waitForTimeout(300);
  await screenshot('ui-a1-focused');

  // Send Prompt from gamma's row, once it is idle.
  go('gamma');
  await waitFor('gamma idle', async () => TEXT.agentIdle.test((await rowOf('gamma')) ?? ''));
  const gammaRow = page.locator(`${UI.agentsTree} ${UI.treeRow}`).filter({ has: page.locator(UI.rowLabel, { hasText: /^gamma$/ }) }).first();
  await gammaRow.hover(); // inline actions show on hover
  // The row's tooltip opens under the pointer and takes the click; the button gets it directly.
  await gammaRow.locator(`${UI.actionLabel}[aria-label^="${TEXT.sendPrompt}"]`).dispatchEvent('click');
  const text = 'Add a test for `parse()` and keep $(echo this) as written';
  await answerInputBox(page, text);
  const sent = await waitForNotification(page, TEXT.sendSubmitted);
  const received = path.join(agentScripts, 'scripted-gamma.received');
  await waitFor('the prompt in the agent', () => fs.existsSync(received));
  const got = fs.readFileSync(received, 'utf8');
  if (got !== `${text}\n`) throw new Error(`the agent received ${JSON.stringify(got)}, not the prompt`);
  report(`notification: "${sent}"; the agent received the prompt byte for byte`);
  await closeNotificationCenter(page);
}

/** Runs a program in `cwd` and resolves to its output; rejects with its stderr. */
function execFileText(program, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${program} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
  });
}

/** Import as Profile… from the palette, on a tmuxp file of the workspace. */
async function checkImportProfile({ page, screenshot, workspace }) {
  await closeQuickInput(page);
  await closeNotificationCenter(page);
  const folder = path.join(workspace, 'imported-ui');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, '.tmuxp.yaml'), `session_name: shop
start_directory: ./
shell_command_before: [export STAGE=dev]
windows:
  - window_name: editor
    layout: main-vertical
    options: { main-pane-width: 120 }
    panes: [vim, null]
  - window_name: server
    options_after: { synchronize-panes: "on" }
    panes: [npm run dev]
`);
  await runPaletteCommand(page, TEXT.importProfile);
  await pickRowMentioning(page, 'imported-ui');
  const written = path.join(folder, '.tmux-session.yaml');
  await waitFor('.tmux-session.yaml written', async () => fs.existsSync(written));
  const editor = await waitFor('the written profile in the editor', async () => {
    const text = await activeEditorText(page);
    return text.includes('session: shop') && text;
  });
  if (!editor.includes('main-pane-width')) throw new Error(`the written file does not list main-pane-width at its top:\n${editor}`);
  const notice = await waitForNotification(page, TEXT.importedNotice);
  report(`notification: "${notice}"`);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(300);
  report(`wrote ${await screenshot('ui-p2-imported')}`);
  await closeNotificationCenter(page);
  fs.rmSync(folder, { recursive: true, force: true });
}

function processAlive(pid) {
  try {
    return !/\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until tmux lists exactly the sessions of `before` ({ name: shape }), then checks each one's shape. */
async function sessionsBackAsBefore(tmux, before) {
  const names = Object.keys(before).sort();
  const after = await waitFor(`tmux to list ${names.join(', ')}`, async () => {
    const shapes = await sessionShapes(tmux).catch(() => ({}));
    return Object.keys(shapes).sort().join(',') === names.join(',') && shapes;
  });
  for (const name of names) {
    if (after[name] !== before[name]) throw new Error(`session "${name}" came back with ${after[name]}, not ${before[name]}`);
  }
}

/**
 * Ends what a check made, whether it passed or not, so that one failing check does not leave
 * sessions (and their supervised services) for the next ones to trip over.
 */
async function killSessionsIfThere(tmux, names) {
  const present = await sessionNames(tmux).catch(() => []);
  for (const name of names) if (present.includes(name)) await tmux('kill-session', '-t', `=${name}`).catch(() => {});
}

async function sessionNames(tmux) {
  return (await tmux('list-sessions', '-F', '#{session_name}')).trim().split('\n').filter(Boolean);
}

/** { session name: "N windows, M panes" } of the private server. */
async function sessionShapes(tmux) {
  const shapes = {};
  for (const name of await sessionNames(tmux)) {
    const panes = (await tmux('list-panes', '-s', '-t', `=${name}`, '-F', '#{pane_id}')).trim().split('\n').filter(Boolean).length;
    const windows = (await tmux('list-windows', '-t', `=${name}`, '-F', '#{window_id}')).trim().split('\n').filter(Boolean).length;
    shapes[name] = shapeText(windows, panes);
  }
  return shapes;
}

/** A file's JSON, or null while there is none (or it is being replaced). */
function readJsonFile(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** "N windows, M panes" of a snapshot file, as sessionShapes() words it. */
function snapshotShape(file) {
  const windows = readJsonFile(file)?.session?.windows;
  if (!Array.isArray(windows)) return null;
  const panes = windows.reduce((sum, window) => sum + (window.panes?.length ?? 0), 0);
  return shapeText(windows.length, panes);
}

function shapeText(windows, panes) {
  return `${windows} window${windows === 1 ? '' : 's'}, ${panes} pane${panes === 1 ? '' : 's'}`;
}

/**
 * The time as the offer writes it (savedAtText in src/vscode/snapshots/describe.ts), with
 * whitespace folded as the notification's text is read.
 */
function savedAtTextLike(date, now = new Date()) {
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const text = date.toDateString() === now.toDateString() ? time : `${date.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}, ${time}`;
  return text.replace(/\s+/g, ' ');
}

// ------------------------------------------------------------------ user actions (one per step)

/** Clicks an action in a view's title bar (they show while the pointer is over the view). */
async function clickViewTitleAction(page, view, title) {
  const header = page.locator(`${UI.paneHeader}[aria-label^="${view}"]`);
  await header.hover();
  await header.locator(`${UI.actionLabel}[aria-label^="${title}"]`).click();
}

/**
 * Resolves to the text of the first notification matching `pattern` (a string: contained). With
 * the smoke-test driver on (how the harness loads the extension) the workbench shows no toasts,
 * so this opens the notification center from the status bar's bell and reads it there; call
 * closeNotificationCenter() when done.
 */
async function waitForNotification(page, pattern, timeoutMs = STEP_TIMEOUT_MS) {
  return waitFor(`a notification ${pattern}`, async () => {
    const texts = [...(await page.locator(UI.notificationToast).allInnerTexts()), ...(await page.locator(UI.notificationItem).allInnerTexts())].map((t) => t.replace(/\s+/g, ' ').trim());
    const found = texts.find((t) => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t)));
    if (!found && !(await page.locator(UI.notificationCenter).isVisible())) await page.locator(UI.notificationBell).click();
    return found;
  }, timeoutMs);
}

/**
 * Expands the Sessions tree and leaves no selected row or focus ring (expanding clicks the rows'
 * twisties), with the notification center open at `pattern`. Escape hides an open notification
 * center instead of clearing the tree's selection: the center is closed first, opened again after.
 */
async function clearTreeSelectionAndShowNotification(page, pattern, expand = expandTree) {
  await closeNotificationCenter(page);
  await expand(page);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+1');
  await waitForNotification(page, pattern);
}

async function closeNotificationCenter(page) {
  if (await page.locator(UI.notificationCenter).isVisible()) await page.locator(UI.notificationBell).click();
  await waitFor('the notification center to close', async () => !(await page.locator(UI.notificationCenter).isVisible()));
}

async function snapshotRowLabels(page) {
  return page.locator(`${UI.snapshotsTree} ${UI.treeRow}`).evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label')));
}


/** Opens the Tmux view from the activity bar. */
async function openTmuxView(page) {
  const view = page.locator(UI.view);
  if (await view.isVisible()) return;
  await page.locator(UI.activityBarIcon).click();
  await view.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
}

/** F1, type "><title>", click the command whose label starts with `title`. */
async function runPaletteCommand(page, title) {
  await closeQuickInput(page);
  await page.keyboard.press('F1');
  const input = page.locator(UI.quickInputBox);
  await input.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await input.fill(`>${title}`);
  const row = page.locator(UI.quickInputRow).filter({ hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await row.click();
}

/** Waits for an InputBox (a prompt with no list), replaces its value and presses Enter. */
async function answerInputBox(page, value) {
  await waitFor('an input box (quick input without the command palette)', async () => {
    const state = await quickInputState(page);
    return state.visible && !state.value.startsWith('>') && state.rows.length === 0 && state;
  });
  report(`input box: ${describePrompt(await quickInputState(page))}`);
  const input = page.locator(UI.quickInputBox);
  await input.fill(value);
  await input.press('Enter');
  await waitFor('the input box to close (accepted)', async () => !(await quickInputState(page)).visible);
}

/** Like answerInputBox, for an input box that another prompt of the same command follows. */
async function answerInputBoxThenMore(page, value) {
  const asked = await waitFor('an input box (quick input without the command palette)', async () => {
    const state = await quickInputState(page);
    return state.visible && !state.value.startsWith('>') && state.rows.length === 0 && state;
  });
  report(`input box: ${describePrompt(asked)}`);
  const input = page.locator(UI.quickInputBox);
  await input.fill(value);
  await input.press('Enter');
  await waitFor('the next prompt', async () => {
    const state = await quickInputState(page);
    return !state.visible || state.placeholder !== asked.placeholder || state.title !== asked.title;
  });
}

/**
 * Clicks the first pick whose text mentions `words` (for a pane pick: the session name, shown on
 * the pane's row or as the separator above the session's first pane, which VS Code draws on
 * that same row).
 */
async function pickRowMentioning(page, words) {
  const row = await waitFor(`a pick mentioning "${words}"`, async () => {
    const state = await quickInputState(page);
    if (!state.visible || state.value.startsWith('>')) return null;
    const index = state.rows.findIndex((r) => r.text.includes(words) && !r.separatorOnly);
    return index >= 0 ? { index, state } : null;
  });
  const prompt = describePrompt(row.state);
  report(`pick: ${prompt} -> "${row.state.rows[row.index].text}"`);
  await page.locator(UI.quickInputRow).nth(row.index).click();
  return prompt;
}

/**
 * Types `text` into the prompt that follows `previousPrompt` and chooses "Send with Enter". Works
 * whether that choice is offered in the same quick pick as you type, or in a second pick after
 * an InputBox.
 */
async function sendTextWithEnter(page, text, previousPrompt) {
  await waitFor('the prompt for the text to send', async () => {
    const state = await quickInputState(page);
    return state.visible && describePrompt(state) !== previousPrompt && state;
  });
  report(`text prompt: ${describePrompt(await quickInputState(page))}`);
  const input = page.locator(UI.quickInputBox);
  await input.fill(text);
  if (await clickRowMatching(page, TEXT.sendWithEnter, 2000)) {
    report('chose "Send with Enter" while typing');
  } else {
    await input.press('Enter'); // an InputBox: the Enter choice, if any, comes next
    if (await clickRowMatching(page, TEXT.sendWithEnter, 3000)) {
      report('chose "Send with Enter" after the input box');
    } else if ((await quickInputState(page)).visible) {
      throw new Error(`typed "${text}", but no pick matches ${TEXT.sendWithEnter} and Enter did not accept the prompt`);
    } else {
      report('Enter accepted the text; no separate "Send with Enter" choice was offered');
    }
  }
  await waitFor('the prompt to close', async () => !(await quickInputState(page)).visible);
}

async function clickRowMatching(page, pattern, timeoutMs) {
  const row = page.locator(UI.quickInputRow).filter({ hasText: pattern }).first();
  const shown = await row.waitFor({ state: 'visible', timeout: timeoutMs }).then(() => true, () => false);
  if (shown) await row.click();
  return shown;
}

async function closeQuickInput(page) {
  if ((await quickInputState(page)).visible) {
    await page.keyboard.press('Escape');
    await waitFor('the quick input to close', async () => !(await quickInputState(page)).visible);
  }
}

/** Expands every collapsed session and window row, so panes show too. */
/**
 * Collapses every session but `name` and expands all of that one. The tree draws only the rows in
 * view: with other sessions open, the rows of `name` may lie below the fold and not exist at all.
 */
async function expandOnly(page, name) {
  for (let round = 0; round < 30; round++) {
    const rows = await page.locator(`${UI.sessionsTree} ${UI.treeRow}`).evaluateAll((list, wanted) => {
      let inside = false;
      return list.map((row) => {
        const level = row.getAttribute('aria-level');
        if (level === '1') inside = (row.querySelector('.label-name')?.textContent ?? '').trim() === wanted;
        return { level, inside, expanded: row.getAttribute('aria-expanded'), id: row.getAttribute('data-index') };
      });
    }, name);
    const next = rows.find((r) => (r.level === '1' && !r.inside && r.expanded === 'true') || (r.inside && r.expanded === 'false'));
    if (!next) return;
    await page.locator(`${UI.sessionsTree} ${UI.treeRow}[data-index="${next.id}"] ${UI.rowTwistie}`).click();
    await page.waitForTimeout(100);
  }
}

async function expandTree(page) {
  for (let round = 0; round < 20; round++) {
    const collapsed = page.locator(`${UI.sessionsTree} ${UI.treeRow}[aria-expanded="false"]`);
    if ((await collapsed.count()) === 0) return;
    await collapsed.first().locator(UI.rowTwistie).click();
    await page.waitForTimeout(100);
  }
}

// ------------------------------------------------------------------ reading the screen

/**
 * Marks a watcher started before the action it watches: if the action throws first, the
 * watcher's own failure must not surface later as an unhandled rejection. Awaiting it still throws.
 */
function watch(promise) {
  promise.catch(() => {});
  return promise;
}

/**
 * Resolves to the time (Date.now()) a tree row labelled exactly `name` was first seen. The page
 * itself stamps the moment, so Playwright's round trips are not counted in latencies.
 */
async function sessionRowSeenAt(page, name, timeoutMs = 5000) {
  const handle = await page
    .waitForFunction(
      ({ ui, name }) => {
        for (const row of document.querySelectorAll(`${ui.sessionsTree} ${ui.treeRow}`)) {
          const label = row.querySelector(ui.rowLabel)?.textContent?.trim();
          if (label === name && row.getBoundingClientRect().height > 0) return Date.now();
        }
        return 0;
      },
      { ui: { sessionsTree: UI.sessionsTree, treeRow: UI.treeRow, rowLabel: UI.rowLabel }, name },
      { polling: 20, timeout: timeoutMs },
    )
    .catch((error) => {
      throw new Error(`no tree row "${name}" within ${timeoutMs} ms (${error.message.split('\n')[0]})`);
    });
  return handle.jsonValue();
}

/** Resolves to the time the status bar item's text first matched `pattern` (stamped by the page). */
async function statusSeenAt(page, pattern, timeoutMs = 5000) {
  const handle = await page
    .waitForFunction(
      ({ selector, source, flags }) => {
        const text = document.querySelector(selector)?.textContent ?? '';
        return new RegExp(source, flags).test(text) ? Date.now() : 0;
      },
      { selector: UI.statusItem, source: pattern.source, flags: pattern.flags },
      { polling: 20, timeout: timeoutMs },
    )
    .catch(async () => {
      throw new Error(`status bar did not match ${pattern} within ${timeoutMs} ms (shows "${await statusText(page)}")`);
    });
  return handle.jsonValue();
}

async function statusText(page) {
  const text = await page.locator(UI.statusItem).textContent({ timeout: 2000 }).catch(() => null);
  return text === null ? '(no status item)' : text.trim();
}

/** Everything about the quick input widget that the steps decide on. */
function quickInputState(page) {
  return page.evaluate((ui) => {
    const widget = document.querySelector(ui.quickInput);
    const visible = !!widget && widget.style.display !== 'none' && widget.getBoundingClientRect().height > 0;
    const input = document.querySelector(ui.quickInputBox);
    const rows = [...document.querySelectorAll(ui.quickInputRow)]
      .filter((row) => row.getBoundingClientRect().height > 0)
      .map((row) => ({
        text: (row.getAttribute('aria-label') || row.textContent || '').trim(),
        separatorOnly: row.classList.contains('quick-input-list-separator-as-item'),
      }));
    const text = (selector) => document.querySelector(selector)?.textContent?.trim() ?? '';
    return {
      visible,
      value: input?.value ?? '',
      placeholder: input?.getAttribute('placeholder') ?? '',
      title: text(ui.quickInputTitle),
      message: text(ui.quickInputMessage),
      rows: visible ? rows : [],
    };
  }, UI);
}

function describePrompt(state) {
  const parts = [];
  if (state.title) parts.push(`title "${state.title}"`);
  if (state.placeholder) parts.push(`placeholder "${state.placeholder}"`);
  if (state.message) parts.push(`message "${state.message}"`);
  if (state.value) parts.push(`value "${state.value}"`);
  return parts.join(', ') || '(no text)';
}

/** The active editor's visible text (VS Code renders spaces as no-break spaces). */
async function activeEditorText(page) {
  const lines = page.locator(UI.activeEditorLines).first();
  if (!(await lines.isVisible().catch(() => false))) return '';
  return (await lines.innerText()).replace(/\u00a0/g, ' ');
}

function hasLine(text, wanted) {
  return text.split('\n').some((line) => line.trim() === wanted);
}

/** A readable dump of the screen, printed when a step fails. */
async function describeScreen(page) {
  const lines = [];
  const quick = await quickInputState(page).catch(() => ({ visible: false, rows: [] }));
  lines.push(`status bar: "${await statusText(page)}"`);
  lines.push(`quick input: ${quick.visible ? describePrompt(quick) : 'closed'}`);
  for (const row of quick.rows.slice(0, 12)) lines.push(`  pick: ${row.text}`);
  for (const [name, selector] of [['sessions', UI.sessionsTree], ['snapshots', UI.snapshotsTree]]) {
    const treeRows = await page
      .locator(`${selector} ${UI.treeRow}`)
      .evaluateAll((rows) => rows.map((r) => `${'  '.repeat(Number(r.getAttribute('aria-level') || 1))}${r.getAttribute('aria-label')}`))
      .catch(() => []);
    lines.push(`${name} tree (${treeRows.length} rows):`, ...treeRows.map((r) => `  ${r}`));
  }
  const toasts = await page.locator(UI.notificationToast).allInnerTexts().catch(() => []);
  const items = await page.locator(UI.notificationItem).allInnerTexts().catch(() => []);
  for (const toast of [...toasts, ...items]) lines.push(`notification: ${toast.replace(/\s+/g, ' ').trim()}`);
  const tab = await page.locator(UI.activeEditorTab).first().textContent({ timeout: 500 }).catch(() => null);
  lines.push(`active editor: ${tab ? tab.trim() : '(none)'}`);
  return lines.map((line) => `    ${line}`).join('\n');
}

// ------------------------------------------------------------------ running

/** Polls `probe` until it returns something truthy; the error names what we waited for. */
async function waitFor(what, probe, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${lastError.message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function report(message) {
  console.log(`        ${message}`);
}

/** Runs the checks in order; a check whose prerequisite failed is skipped. */
async function runChecks(context) {
  const results = [];
  // TSM_UI_ONLY=m,e runs only those checks (and not what they need): for working on one check.
  const only = process.env.TSM_UI_ONLY?.split(',');
  for (const check of CHECKS.filter((c) => !only || only.includes(c.id))) {
    if (check.needs && results.find((r) => r.id === check.needs)?.status !== 'pass') {
      results.push({ ...check, status: 'skip', ms: 0 });
      log(`SKIP (${check.id}) ${check.title}: needs (${check.needs})`);
      continue;
    }
    log(`(${check.id}) ${check.title}`);
    const t0 = Date.now();
    const cleanups = [];
    // What a check made is ended after it, passed or not (and after a failure's context is read),
    // so that one failing check leaves nothing for the next ones to trip over.
    const afterCheck = (cleanup) => cleanups.push(cleanup);
    try {
      await check.run({ ...context, afterCheck });
      results.push({ ...check, status: 'pass', ms: Date.now() - t0 });
      log(`PASS (${check.id}) in ${Date.now() - t0} ms`);
    } catch (error) {
      const context_ = await failureContext(context).catch((e) => `(could not read: ${e.message})`);
      results.push({ ...check, status: 'fail', ms: Date.now() - t0, error, context: context_ });
      log(`FAIL (${check.id}) after ${Date.now() - t0} ms: ${error.message}`);
      log(`context: ${context_}`);
      console.log(await describeScreen(context.page));
      await context.screenshot(`ui-${check.id}-FAILED`).catch(() => {});
      // A menu or dialog the failure left open would swallow the next check's keys and clicks.
      for (let i = 0; i < 2; i++) await context.page.keyboard.press('Escape').catch(() => {});
      await closeQuickInput(context.page).catch(() => {});
    }
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup after (${check.id}) failed: ${error.message}`));
  }
  return results;
}

/**
 * What a failure's reader needs besides the screen: the server's sessions, how many of our hooks it
 * holds and how many `wait-for` clients it has (live updates stop without them), and the newest
 * lines the extension logged. Short, because a CI log may keep only its tail.
 */
async function failureContext({ tmux, runDir, socketName }) {
  const parts = [];
  const sessions = await tmux('list-sessions', '-F', '#{session_name}').catch((e) => `none (${e.message.split(': ').pop()})`);
  parts.push(`sessions: ${sessions.trim().split('\n').join(', ')}`);
  const hooks = await tmux('show-hooks', '-g').catch(() => '');
  parts.push(`our hooks: ${hooks.split('\n').filter((line) => /wait-for/.test(line)).length}`);
  const clients = await tmux('list-clients', '-F', '#{client_flags}').catch(() => '');
  parts.push(`attached clients: ${clients.trim().split('\n').filter(Boolean).length}`);
  parts.push(`wait-for processes: ${waitForProcesses(socketName)}`);
  const logs = path.join(runDir, 'user-data', 'logs');
  const files = fs.existsSync(logs)
    ? fs.readdirSync(logs, { recursive: true }).filter((f) => String(f).endsWith('Tmux.log')).map((f) => path.join(logs, String(f)))
    : [];
  const newest = files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (newest) {
    const lines = fs.readFileSync(newest, 'utf8').trim().split('\n').slice(-6).map((line) => line.replace(/^\S+ \S+ /, ''));
    parts.push(`log (${files.length} hosts): ${lines.join(' | ')}`);
  }
  return parts.join('; ');
}

/** How many `tmux -L <socket> wait-for …` processes run (read from /proc; nothing is signalled). */
function waitForProcesses(socketName) {
  let count = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes(socketName) && argv.includes('wait-for')) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

/** The commands and ids this test drives must be in the manifest, or there is nothing to test. */
function missingContributions(extDir) {
  const contributes = readManifest(extDir).contributes ?? {};
  const commands = new Set((contributes.commands ?? []).map((c) => c.command));
  const wanted = ['tmuxSessionManager.newSession', 'tmuxSessionManager.sendKeys', 'tmuxSessionManager.capturePane', 'tmuxSessionManager.saveAll', 'tmuxSessionManager.restoreSnapshot', 'tmuxSessionManager.followPane', 'tmuxSessionManager.waitForOutput'];
  const missing = wanted.filter((id) => !commands.has(id));
  if (!(contributes.views?.tmuxSessionManager ?? []).some((v) => v.id === 'tmuxSessionManager.sessions')) {
    missing.push('view tmuxSessionManager.sessions');
  }
  if (!(contributes.views?.tmuxSessionManager ?? []).some((v) => v.id === 'tmuxSessionManager.snapshots')) {
    missing.push('view tmuxSessionManager.snapshots');
  }
  return missing;
}

async function main() {
  const extDir = extensionDir();
  const problems = missingBuildOutputs(extDir, { withTests: false });
  const missing = missingContributions(extDir);
  if (missing.length) problems.push(`package.json does not contribute: ${missing.join(', ')}`);
  if (problems.length) {
    for (const problem of problems) console.error(`[ui] ${problem}`);
    return 1;
  }
  await ensureWorkbench();

  const runDir = newRunDir('ui');
  clearOldScreenshots();
  const runEnv = runEnvironment(runDir);
  const server = createPrivateTmux({ env: runEnv });
  log(`run folder ${runDir}`);
  log(`private tmux socket ${server.socketName}`);
  const settings = testSettings({ socketName: server.socketName, runDir });
  // Check a1's agents: a stand-in claude that follows the scenario named after its session.
  const agentScripts = path.join(runDir, 'agent-scripts');
  fs.mkdirSync(agentScripts, { recursive: true });
  const scripted = `${path.join(extDir, 'test', 'fixtures', 'agents', 'scripted')} ${agentScripts}`;
  let workbench;
  try {
    workbench = await startWorkbench({
      runDir,
      extensionDevelopmentPath: extDir,
      settings: {
        ...settings,
        // code-server's workspace lies inside this repository: no "open the parent's git
        // repository?" notification next to the extension's in the screenshots
        'git.openRepositoryInParentFolders': 'never',
        'workbench.secondarySideBar.defaultVisibility': 'hidden', // room for the tree in screenshots
        'terminal.integrated.gpuAcceleration': 'off', // xterm's DOM renderer: terminal text readable by the test
        'tmuxSessionManager.agents.customKinds': [{ name: 'scripted', command: scripted, resumeCommand: `${scripted} --continue`, hooksLike: 'claude' }],
        // Switch Project's template: a stand-in for the agent, which is not installed here
        'tmuxSessionManager.projectAgentCommand': 'echo agent ready in $(pwd); exec sleep 3600',
      },
      env: testEnv({ socketName: server.socketName, runDir }),
    });
    const { page } = workbench;
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    log('workbench up');
    const ready = await waitForExtension(page, workbench);
    if (!ready) return 1;
    const results = await runChecks({
      page,
      tmux: server.tmux,
      killServer: server.kill,
      screenshot: workbench.screenshot,
      home: runEnv.HOME,
      dataDir: settings['tmuxSessionManager.dataDir'],
      socketName: server.socketName,
      runDir,
      workspace: path.join(runDir, 'workspace'), // startWorkbench's default folder
      agentScripts,
    });
    printSummary(results, (await server.tmux('-V').catch(() => 'tmux ?')).trim());
    return results.every((r) => r.status === 'pass') ? 0 : 1;
  } finally {
    await workbench?.stop();
    await server.kill();
    await server.killRelated();
    log('workbench stopped, private tmux server killed');
  }
}

/** The extension is up once its status item shows; with no server yet it must say so. */
async function waitForExtension(page, workbench) {
  try {
    await page.locator(UI.statusItem).waitFor({ state: 'visible', timeout: 60_000 });
    await statusSeenAt(page, TEXT.statusNoServer, 15_000);
    const text = await statusText(page);
    if (!TEXT.statusAny.test(text)) throw new Error(`the status bar item reads "${text}", without ${TEXT.statusAny}`);
    log(`extension active, status bar: "${text}"`);
    await openTmuxView(page);
    await workbench.screenshot('ui-0-start');
    return true;
  } catch (error) {
    log(`FAIL extension did not come up: ${error.message}`);
    console.log(await describeScreen(page));
    await workbench.screenshot('ui-0-FAILED').catch(() => {});
    return false;
  }
}

/** A FAILED picture left from an earlier run would be mistaken for this run's. */
function clearOldScreenshots() {
  if (!fs.existsSync(SCREENSHOT_DIR)) return;
  for (const file of fs.readdirSync(SCREENSHOT_DIR)) {
    if (/^ui-.*\.png$|^(tree-and-status|snapshots-view|restored|after-reboot-offer|after-reboot-restored|agents-view)\.png$/.test(file)) fs.rmSync(path.join(SCREENSHOT_DIR, file));
  }
}

function printSummary(results, tmuxVersion) {
  // The machine's facts, for a failure that only some machines show.
  const user = os.userInfo();
  console.log(`\nUI test summary (${tmuxVersion}, ${os.cpus().length} CPUs, uid ${user.uid}, SHELL=${process.env.SHELL ?? 'unset'}, ${Intl.DateTimeFormat().resolvedOptions().timeZone})`);
  for (const r of results) {
    console.log(`  ${r.status.toUpperCase().padEnd(4)} (${r.id}) ${r.title}${r.status === 'skip' ? '' : ` [${r.ms} ms]`}`);
    // A CI log may keep only its tail: the reason goes here too, not only above the screen dump.
    if (r.error) console.log(`       because: ${String(r.error.message ?? r.error).replace(/\u001b\[[0-9;]*m/g, '').replace(/\s+/g, ' ').slice(0, 600)}`);
    if (r.context) console.log(`       context: ${r.context.replace(/\s+/g, ' ').slice(0, 900)}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[ui] FAILED: ${error.stack ?? error}`);
    process.exit(1);
  },
);
