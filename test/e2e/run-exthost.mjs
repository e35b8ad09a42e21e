// Runs the extension-host mocha suite (out/test/exthost/index.js) inside a real VS Code
// (code-server) with a private tmux server, offline. Exit code = the suite's.
//
//   npm run build && npm run compile-tests && node test/e2e/run-exthost.mjs
//
// The suite finds its tmux server through TSM_TEST_SOCKET_NAME; no session is started here, the
// suite decides what the server holds.
//
//   node test/e2e/run-exthost.mjs --untrusted
//
// runs only the suite's "untrusted workspace" tests, with Workspace Trust on, so the folder opens
// in restricted mode (the default run turns Workspace Trust off).
import { ensureWorkbench, tail } from './install.mjs';
import {
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
import { isNoise, startWorkbench } from './workbench.mjs';

const SUITE_TIMEOUT_MS = 5 * 60_000;
const UNTRUSTED = process.argv.includes('--untrusted');
const log = timedLogger('exthost');

async function main() {
  const extDir = extensionDir();
  const problems = missingBuildOutputs(extDir, { withTests: true });
  if (problems.length) {
    for (const problem of problems) console.error(`[exthost] ${problem}`);
    return 1;
  }
  await ensureWorkbench();

  const runDir = newRunDir('exthost');
  const tmux = createPrivateTmux({ env: runEnvironment(runDir) });
  log(`run folder ${runDir}`);
  log(`private tmux socket ${tmux.socketName}`);
  let workbench;
  try {
    workbench = await startWorkbench({
      runDir,
      extensionDevelopmentPath: extDir,
      extensionTestsPath: exthostSuiteIndex(extDir),
      settings: testSettings({ socketName: tmux.socketName, runDir }),
      env: { ...testEnv({ socketName: tmux.socketName, runDir }), ...(UNTRUSTED ? { TSM_EXTHOST_GREP: 'untrusted workspace' } : {}) },
      workspaceTrust: UNTRUSTED,
      onExtHostLog: printExtHostLine,
    });
    log('workbench up, suite running');
    const outcome = await waitForSuite(workbench);
    if (outcome.kind !== 'exit') {
      console.error(`[exthost] ${outcome.message}`);
      console.error(`--- ${workbench.logs}/code-server.log (tail)\n${tail(`${workbench.logs}/code-server.log`, 30)}`);
      return 1;
    }
    log(`suite finished with exit code ${outcome.code}`);
    return outcome.code === 0 ? 0 : 1;
  } finally {
    await workbench?.stop();
    await tmux.kill();
    await tmux.killRelated(); // servers the suite started beside ours
    log('workbench stopped, private tmux server killed');
  }
}

/** The suite's exit code, unless code-server dies or the suite hangs first. */
function waitForSuite(workbench) {
  let timer;
  return Promise.race([
    workbench.exitCode.then((code) => ({ kind: 'exit', code })),
    workbench.serverExit.then((status) => ({ kind: 'crash', message: `code-server exited (${status}) before the suite ended` })),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout', message: `suite did not finish within ${SUITE_TIMEOUT_MS / 1000}s` }), SUITE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Mocha's reporter output arrives here line by line; workbench chatter is dropped. */
function printExtHostLine(type, line) {
  if (isNoise(line)) return;
  const stream = type === 'error' ? process.stderr : process.stdout;
  stream.write(`${line}\n`);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[exthost] FAILED: ${error.stack ?? error}`);
    process.exit(1);
  },
);
