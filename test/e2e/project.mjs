// Where things are, for every e2e script. All paths come from this file's own location, so
// the harness works from any checkout and any working directory.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The repository root (test/e2e/../..). */
export const PROJECT_ROOT = path.resolve(HERE, '..', '..');

/** Git-ignored cache of everything the harness installs (Node 24, code-server, playwright-core). */
export const INSTALL_DIR = path.join(PROJECT_ROOT, '.vscode-test', 'e2e');

/** One folder per run (user data, logs, chromium profile, tmux data dir); git-ignored. */
export const RUNS_DIR = path.join(PROJECT_ROOT, '.vscode-test', 'runs');

/** Screenshots land here (git-ignored; CI uploads the folder as an artifact). */
export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, 'artifacts', 'screenshots');

/** How many old run folders of one kind to keep: each holds a chromium profile of a few MB. */
const RUNS_TO_KEEP = 5;

/**
 * The extension under test: the project itself. TSM_E2E_EXTENSION_DIR points the runners at
 * another extension folder instead; it exists to test the harness itself (a throwaway extension
 * with the same ids), not for everyday use.
 */
export function extensionDir() {
  const override = process.env.TSM_E2E_EXTENSION_DIR;
  return override ? path.resolve(override) : PROJECT_ROOT;
}

/**
 * Creates `.vscode-test/runs/<kind>-<timestamp>/` and prunes older runs of the same kind.
 * A fresh folder per run is what makes runs independent of each other.
 */
export function newRunDir(kind) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(RUNS_DIR, `${kind}-${stamp}`);
  fs.mkdirSync(dir, { recursive: true });
  pruneOldRuns(kind);
  return dir;
}

function pruneOldRuns(kind) {
  const mine = fs.readdirSync(RUNS_DIR).filter((name) => name.startsWith(`${kind}-`)).sort();
  for (const old of mine.slice(0, Math.max(0, mine.length - RUNS_TO_KEEP))) {
    fs.rmSync(path.join(RUNS_DIR, old), { recursive: true, force: true });
  }
}

/**
 * The settings every test run gives the extension: a private tmux socket, a data dir inside the
 * run folder, and short kill timeouts so kill tests do not wait seconds per pane.
 */
export function testSettings({ socketName, runDir }) {
  return {
    'tmuxSessionManager.socketName': socketName,
    'tmuxSessionManager.dataDir': path.join(runDir, 'data'),
    'tmuxSessionManager.kill.interruptWaitMs': 300,
    'tmuxSessionManager.kill.terminateWaitMs': 500,
  };
}

/**
 * HOME and the XDG folders of a run, all inside `runDir` (folders created). code-server,
 * chromium, the extension host and both kinds of tmux clients get these, so nothing is written
 * to the real home folder, and shells in tmux panes start without the user's ~/.bashrc or
 * ~/.tmux.conf: an rc file that prompts, hangs or prints would make pane contents unpredictable.
 * Give the private tmux helper the same values: whichever client starts the server, its panes
 * then see the same environment.
 */
export function runEnvironment(runDir) {
  const env = {
    HOME: path.join(runDir, 'home'),
    XDG_CONFIG_HOME: path.join(runDir, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg', 'data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg', 'cache'),
    XDG_STATE_HOME: path.join(runDir, 'xdg', 'state'),
  };
  for (const dir of Object.values(env)) fs.mkdirSync(dir, { recursive: true });
  // Panes start login shells: a prompt with the folder's last part only, so screenshots show no
  // path of the machine that ran the test.
  const prompt = "PS1='\\W \\$ '\n";
  for (const file of ['.bash_profile', '.bashrc']) fs.writeFileSync(path.join(env.HOME, file), prompt);
  return env;
}

/** Environment for the extension host, so a suite can find its private tmux server. */
export function testEnv({ socketName, runDir }) {
  return { TSM_TEST_SOCKET_NAME: socketName, TSM_TEST_RUN_DIR: runDir };
}

/**
 * Checks that the files a runner needs were built, and says which npm script builds each
 * missing one. Returns the list of problems (empty when all is there).
 */
export function missingBuildOutputs(extDir, { withTests }) {
  const problems = [];
  const main = readManifest(extDir).main ?? './dist/extension.js';
  if (!fileExists(path.join(extDir, main))) {
    problems.push(`${path.relative(PROJECT_ROOT, path.join(extDir, main)) || main} is missing: run \`npm run build\``);
  }
  if (withTests && !fileExists(exthostSuiteIndex(extDir) + '.js')) {
    problems.push('out/test/exthost/index.js is missing: run `npm run compile-tests`');
  }
  return problems;
}

/** The compiled extension-host suite, without ".js" (the form extensionTestsPath expects). */
export function exthostSuiteIndex(extDir) {
  return path.join(extDir, 'out', 'test', 'exthost', 'index');
}

export function readManifest(extDir) {
  return JSON.parse(fs.readFileSync(path.join(extDir, 'package.json'), 'utf8'));
}

function fileExists(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A logger that prefixes seconds since `t0`, so slow steps stand out in CI logs. */
export function timedLogger(tag, t0 = Date.now()) {
  return (...parts) => console.log(`[${tag} ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...parts);
}

/**
 * process.env without the variables that leak in when the tests are started from inside tmux
 * or a VS Code terminal: $TMUX would make tmux treat our private server's clients as nested,
 * and VSCODE_IPC_HOOK_CLI makes code-server hand its arguments to the *outer* VS Code and exit.
 */
export function cleanEnv(base = process.env) {
  const env = { ...base };
  for (const key of Object.keys(env)) {
    // npm_* and NODE come from an outer `npm test`: an inner `npm install` would take them as its
    // own config (npm_config_user_agent names the outer Node, which code-server's postinstall
    // reads as the Node it runs on).
    if (key === 'TMUX' || key === 'TMUX_PANE' || key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE' || /^npm_/i.test(key) || key === 'NODE' || key === 'INIT_CWD') {
      delete env[key];
    }
  }
  return env;
}

/**
 * `{ state, pgrp }` of a process from /proc, or null when it is gone. A zombie ("Z") counts as
 * gone: in a container whose init does not reap orphans it would otherwise linger forever.
 */
export function processStatus(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "(comm) ": state ppid pgrp ...; comm itself may contain spaces or parentheses
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? null : { state, pgrp: Number(pgrp) };
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ cleanup on Ctrl-C / kill

const cleanups = new Set();
let signalsHooked = false;

/**
 * Registers `fn` to run if the process is interrupted (SIGINT, SIGTERM, SIGHUP) before the
 * caller's own `finally` gets to it: code-server runs in its own process group and the tmux
 * server is a daemon, so neither would die with us. Returns a function that unregisters.
 */
export function onInterrupt(fn) {
  if (!signalsHooked) {
    signalsHooked = true;
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
      process.on(signal, () => runCleanupsAndExit(signal, code));
    }
  }
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

async function runCleanupsAndExit(signal, code) {
  console.error(`\n[e2e] ${signal}: cleaning up`);
  // The interrupted test keeps running meanwhile and fails against a closing browser: its
  // errors must not end the process before the cleanups are done.
  process.on('uncaughtException', () => {});
  process.on('unhandledRejection', () => {});
  for (const fn of [...cleanups].reverse()) {
    if (!cleanups.has(fn)) continue; // an earlier cleanup already did this one
    await Promise.resolve().then(fn).catch((error) => console.error(`[e2e] cleanup failed: ${error.message}`));
  }
  process.exit(code);
}
