// A real VS Code workbench for tests, offline: code-server (VS Code on npm) on 127.0.0.1, opened
// in Debian's headless chromium through playwright-core. Everything it writes stays in `runDir`.
//
//   const wb = await startWorkbench({ runDir, extensionDevelopmentPath, settings, env });
//   try { await wb.page.click(...); await wb.screenshot('x'); } finally { await wb.stop(); }
//
// With `extensionTestsPath`, the workbench runs that suite in the extension host (what
// @vscode/test-electron does) and `exitCode` resolves to the suite's result.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import util from 'node:util';
import { TOOLS, loadPlaywright, tail } from './install.mjs';
import { SCREENSHOT_DIR, cleanEnv, onInterrupt, processStatus, runEnvironment } from './project.mjs';

/** User settings for every run: no welcome page, tips, AI features, telemetry or update checks. */
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
};

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const VIEWPORT = { width: 1400, height: 900 };
const SERVER_START_TIMEOUT_MS = 60_000;
const WORKBENCH_RENDER_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

/**
 * Extension-host console lines nobody needs to read: offline marketplace lookups, workbench
 * start-up chatter. (Matched against each forwarded line.)
 */
const NOISE = [
  /GalleryExtensions/, // failed marketplace queries (no network), matched by their stack trace
  /authentication provider 'github'/,
  /vsda/,
  /\[: unexpected operator/,
  /^Resolv/,
  /Updating additional/,
  /Service Worker/,
  /AgentHost/,
  /AccountPolicy/,
  /grace time/,
  /Creating a socket/,
];

export function isNoise(line) {
  return NOISE.some((re) => re.test(line));
}

/**
 * Starts code-server and a browser on it. Options:
 *   runDir                   fresh folder for this run (created if needed)
 *   extensionDevelopmentPath extension folder loaded from source
 *   extensionTestsPath       compiled suite index without ".js" (optional)
 *   workspaceDir             folder to open (default <runDir>/workspace, created)
 *   settings                 merged over DEFAULT_SETTINGS
 *   env                      merged into code-server's environment, which the extension host inherits
 *                            (HOME and XDG_* already point into runDir, see runEnvironment())
 *   onExtHostLog(type, line) extension-host console lines (all lines also go to <runDir>/logs/exthost.log)
 *   workspaceTrust           true: Workspace Trust on, so the folder opens untrusted (restricted mode)
 */
export async function startWorkbench(options) {
  const dirs = prepareRunDir(options);
  const trust = options.workspaceTrust ? { 'security.workspace.trust.enabled': true } : {};
  writeSettings(dirs.userData, { ...DEFAULT_SETTINGS, ...options.settings, ...trust });
  const server = await startCodeServer(dirs, options.env ?? {}, { workspaceTrust: !!options.workspaceTrust });
  let browser;
  try {
    browser = await openBrowser(dirs, server.baseUrl, options);
  } catch (error) {
    await server.stop();
    throw error;
  }
  // One stop for everyone (the caller's finally, a Ctrl-C): a second caller waits for the first.
  let stopping;
  const forget = onInterrupt(() => stop());
  function stop() {
    stopping ??= (async () => {
      forget();
      await browser.close();
      await server.stop();
    })();
    return stopping;
  }
  return {
    page: browser.page,
    baseUrl: server.baseUrl,
    exitCode: browser.exitCode,
    /** Resolves with code-server's exit status if it dies while we still need it. */
    serverExit: server.exited,
    logs: dirs.logs,
    screenshot: (name) => screenshot(browser.page, name),
    stop,
  };
}

// ------------------------------------------------------------------ run folder and settings

function prepareRunDir({ runDir, workspaceDir }) {
  const dirs = {
    root: runDir,
    userData: path.join(runDir, 'user-data'),
    extensions: path.join(runDir, 'extensions'),
    workspace: workspaceDir ?? path.join(runDir, 'workspace'),
    profile: path.join(runDir, 'chromium-profile'),
    logs: path.join(runDir, 'logs'),
    home: runEnvironment(runDir), // HOME and XDG_* inside the run folder
  };
  for (const dir of [dirs.userData, dirs.extensions, dirs.workspace, dirs.logs]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  return dirs;
}

/**
 * code-server is a *remote* window: VS Code drops machine-scoped settings (the extension's
 * socketName, dataDir, ...) from the User file there and reads them from the Machine file
 * instead. Writing both files makes every scope land.
 */
function writeSettings(userData, settings) {
  const json = `${JSON.stringify(settings, null, 2)}\n`;
  for (const scope of ['User', 'Machine']) {
    fs.mkdirSync(path.join(userData, scope), { recursive: true });
    fs.writeFileSync(path.join(userData, scope, 'settings.json'), json);
  }
}

// ------------------------------------------------------------------ code-server

async function startCodeServer(dirs, extraEnv, { workspaceTrust = false } = {}) {
  if (!fs.existsSync(TOOLS.codeServerEntry)) {
    throw new Error('code-server is not installed: run `node test/e2e/setup.mjs`');
  }
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const configFile = path.join(dirs.root, 'code-server.yaml');
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const logFile = path.join(dirs.logs, 'code-server.log');
  const logFd = fs.openSync(logFile, 'w');
  const args = [
    TOOLS.codeServerEntry,
    '--config', configFile,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
    // A built VS Code ignores extensionDevelopmentPath/extensionTestsPath from the URL unless
    // the smoke-test driver is on; it also provides window.codeAutomationExit/Log.
    '--vscode-option', 'enable-smoke-test-driver',
  ];
  // detached: its own process group, so stop() reaches the extension host and the other helpers
  // code-server starts, without ever looking processes up by name.
  const child = spawn(TOOLS.nodeBin, args, {
    env: codeServerEnv(dirs, extraEnv),
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const forget = onInterrupt(() => stopProcessGroup(child.pid, exited));
  const stop = () => {
    forget();
    return stopProcessGroup(child.pid, exited);
  };
  try {
    await waitForHealthz(baseUrl, exited);
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n--- ${logFile} (tail)\n${tail(logFile, 30)}`);
  }
  return { baseUrl, exited, stop };
}

function codeServerEnv(dirs, extraEnv) {
  const env = cleanEnv();
  // Variables code-server reads as options (a password, a GitHub token, an idle timeout...).
  for (const key of Object.keys(env)) {
    if (/^(PASSWORD|HASHED_PASSWORD|GITHUB_TOKEN)$|^(CS|CODE_SERVER)_/.test(key)) delete env[key];
  }
  return {
    ...env,
    ...dirs.home, // code-server writes config and data under XDG (or the home folder) on every start
    PATH: `${TOOLS.nodeBinDir}${path.delimiter}${env.PATH ?? ''}`, // its helpers expect Node 24
    // Makes VS Code skip "resolving the shell environment" (running `$SHELL -ilc env`) before the
    // extension host starts: that can take its full 10 s timeout here, and it would merge the
    // user's login-shell environment into the extension host's. Without it, the extension host
    // sees exactly this environment.
    VSCODE_CLI: '1',
    ...extraEnv,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealthz(baseUrl, exited) {
  let gone = null;
  exited.then((status) => (gone = status));
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone !== null) throw new Error(`code-server exited during start-up (${gone})`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`code-server did not answer on ${baseUrl} within ${SERVER_START_TIMEOUT_MS / 1000}s`);
}

/** SIGTERM to the whole group, up to 10 s to go, then SIGKILL to whatever is left. */
async function stopProcessGroup(pgid, exited) {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (groupIsAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupIsAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  await Promise.race([exited, sleep(2000)]);
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

/** True while a live (non-zombie) process is in group `pgid`. */
function groupIsAlive(pgid) {
  return fs.readdirSync('/proc').some((entry) => /^\d+$/.test(entry) && processStatus(entry)?.pgrp === pgid);
}

// ------------------------------------------------------------------ browser

async function openBrowser(dirs, baseUrl, options) {
  const { chromium } = loadPlaywright();
  const context = await chromium.launchPersistentContext(dirs.profile, {
    executablePath: TOOLS.chromium,
    headless: true,
    viewport: VIEWPORT,
    args: CHROMIUM_ARGS,
    // Playwright would otherwise exit the process on these signals itself, before our cleanup
    // (project.mjs onInterrupt) has stopped code-server and the tmux server.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    // chromium writes crash reports and caches under XDG folders even with its own profile dir
    env: { ...cleanEnv(), ...dirs.home },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const { exitCode } = await exposeAutomationHooks(page, dirs, options.onExtHostLog);
    recordBrowserConsole(page, path.join(dirs.logs, 'browser-console.log'));
    await page.goto(workbenchUrl(baseUrl, dirs.workspace, options));
    await page.locator('.monaco-workbench').waitFor({ state: 'attached', timeout: WORKBENCH_RENDER_TIMEOUT_MS });
    return { page, exitCode, close: () => context.close().catch(() => {}) };
  } catch (error) {
    await context.close().catch(() => {});
    throw error;
  }
}

/**
 * The workbench calls window.codeAutomationExit(code) when an extension-test run ends and
 * window.codeAutomationLog(type, args) for each extension-host console call. Both must exist
 * before the page loads, hence before goto(). Returns `{ exitCode }` wrapped in an object: an
 * async function returning the bare promise would make the caller wait for the suite's end.
 */
async function exposeAutomationHooks(page, dirs, onExtHostLog) {
  let resolveExit;
  const exitCode = new Promise((resolve) => (resolveExit = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(Number(code)));
  const logFile = path.join(dirs.logs, 'exthost.log');
  const t0 = Date.now();
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = util.format(...(Array.isArray(args) ? args : [args]));
    fs.appendFileSync(logFile, `+${((Date.now() - t0) / 1000).toFixed(1)}s [${type}] ${line}\n`);
    onExtHostLog?.(type, line);
  });
  return { exitCode };
}

function recordBrowserConsole(page, logFile) {
  page.on('console', (message) => fs.appendFileSync(logFile, `[${message.type()}] ${message.text()}\n`));
  page.on('pageerror', (error) => fs.appendFileSync(logFile, `[pageerror] ${error.stack ?? error}\n`));
}

/** `/?folder=...&payload=...`; code-server's remote authority is literally "remote". */
function workbenchUrl(baseUrl, workspace, { extensionDevelopmentPath, extensionTestsPath }) {
  const payload = [['extensionDevelopmentPath', remoteUri(extensionDevelopmentPath)]];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remoteUri(extensionTestsPath)]);
  // encodeURIComponent, not URLSearchParams: the workbench does not read "+" as a space
  return `${baseUrl}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

function remoteUri(absolutePath) {
  const encoded = path.resolve(absolutePath).split('/').map(encodeURIComponent).join('/');
  return `vscode-remote://remote${encoded}`;
}

// ------------------------------------------------------------------ screenshots

/** Writes <project>/artifacts/screenshots/<name>.png and returns its path. */
async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
