// Runs the extension-host mocha suite in desktop VS Code through @vscode/test-electron: the usual
// way on a machine with internet access (it downloads VS Code into .vscode-test/ on first use).
// Offline machines use run-exthost.mjs (code-server) instead; this runner then fails at once.
//
//   npm run build && npm run compile-tests && node test/e2e/run-electron.mjs
//   TSM_VSCODE_VERSION=1.85.2 node test/e2e/run-electron.mjs   # oldest supported VS Code
//
// On Linux without a display, run it under `xvfb-run -a`.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  PROJECT_ROOT,
  cleanEnv,
  exthostSuiteIndex,
  extensionDir,
  missingBuildOutputs,
  newRunDir,
  runEnvironment,
  testEnv,
  testSettings,
  timedLogger,
} from './project.mjs';
import { createPrivateTmux } from './tmux-server.mjs';
import { DEFAULT_SETTINGS } from './workbench.mjs';

const require = createRequire(path.join(PROJECT_ROOT, 'package.json'));
const { downloadAndUnzipVSCode, runTests } = require('@vscode/test-electron');

/** Idle timeout of the download: without a network, fail in seconds rather than minutes. */
const DOWNLOAD_IDLE_TIMEOUT_MS = 15_000;
const log = timedLogger('electron');

async function main() {
  const extDir = extensionDir();
  const problems = missingBuildOutputs(extDir, { withTests: true });
  if (problems.length) {
    for (const problem of problems) console.error(`[electron] ${problem}`);
    return 1;
  }
  const vscodeExecutablePath = await downloadVSCode();
  if (!vscodeExecutablePath) return 1;

  const runDir = newRunDir('electron');
  const home = runEnvironment(runDir);
  const tmux = createPrivateTmux({ env: home });
  log(`run folder ${runDir}`);
  log(`private tmux socket ${tmux.socketName}`);
  const userDataDir = path.join(runDir, 'user-data');
  const workspace = path.join(runDir, 'workspace');
  writeUserSettings(userDataDir, { ...DEFAULT_SETTINGS, ...testSettings({ socketName: tmux.socketName, runDir }) });
  fs.mkdirSync(workspace, { recursive: true });
  scrubProcessEnv();
  try {
    const code = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: extDir,
      extensionTestsPath: exthostSuiteIndex(extDir),
      // the same HOME/XDG_* as the tmux helper, so panes behave alike whoever starts the server
      extensionTestsEnv: { ...home, ...testEnv({ socketName: tmux.socketName, runDir }) },
      launchArgs: [
        workspace,
        '--disable-extensions', // only the extension under test
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir', userDataDir,
        '--extensions-dir', path.join(runDir, 'extensions'),
      ],
    });
    log(`suite finished with exit code ${code}`);
    return code === 0 ? 0 : 1;
  } catch (error) {
    // runTests rejects when VS Code exits non-zero, which is also how failing tests end.
    console.error(`[electron] ${error.message ?? error}`);
    if (process.platform === 'linux' && !process.env.DISPLAY) {
      console.error('[electron] no $DISPLAY: desktop VS Code needs one; try `xvfb-run -a node test/e2e/run-electron.mjs`');
    }
    return 1;
  } finally {
    await tmux.kill();
    await tmux.killRelated(); // servers the suite started beside ours
    log('private tmux server killed');
  }
}

/** Downloads (or finds cached) VS Code; on failure explains the offline alternative, returns null. */
async function downloadVSCode() {
  const version = process.env.TSM_VSCODE_VERSION || 'stable';
  try {
    return await downloadAndUnzipVSCode({
      version,
      cachePath: path.join(PROJECT_ROOT, '.vscode-test'),
      timeout: DOWNLOAD_IDLE_TIMEOUT_MS,
    });
  } catch (error) {
    console.error(`[electron] could not download VS Code (${version}): ${error.message ?? error}`);
    console.error('[electron] this runner needs internet access; offline, run the same suite with `npm run test:exthost`.');
    return null;
  }
}

/**
 * A local (Electron) window reads all settings from the User file, machine-scoped ones included,
 * so one file is enough here (code-server also needs the Machine file, see workbench.mjs).
 */
function writeUserSettings(userDataDir, settings) {
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
}

/**
 * runTests passes our whole environment on to VS Code: drop what would leak in from an enclosing
 * tmux or VS Code terminal ($TMUX, VSCODE_IPC_HOOK_CLI, ...), see cleanEnv().
 */
function scrubProcessEnv() {
  const keep = cleanEnv();
  for (const key of Object.keys(process.env)) {
    if (!(key in keep)) delete process.env[key];
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[electron] FAILED: ${error.stack ?? error}`);
    process.exit(1);
  },
);
