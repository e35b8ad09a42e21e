import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installLaunchers, isOurLauncher, launcherFolder, launcherText, pathAdvice } from '../../src/cli/install';
import { buildCli, CLI } from './helpers/cli';

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
  });
}

/** "Install Command-Line Tool" without VS Code: HOME is a temporary folder (helpers/isolate.ts). */
describe('command-line tool: install on PATH', function () {
  this.timeout(60_000);
  let home: string;
  let env: NodeJS.ProcessEnv;
  before(() => buildCli());
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-install-'));
    env = { ...process.env, HOME: home, PATH: `/usr/local/bin:/usr/bin:/bin` };
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('writes tmux-session-manager and tsm into ~/.local/bin, runnable, and says the folder is not on PATH', async function () {
    const result = installLaunchers({ cliPath: CLI, runtimePath: process.execPath, env });
    const folder = path.join(home, '.local', 'bin');
    assert.equal(result.folder, folder);
    assert.deepEqual(result.written, [path.join(folder, 'tmux-session-manager'), path.join(folder, 'tsm')]);
    assert.equal(result.onPath, false);
    for (const file of result.written) {
      assert.equal(fs.statSync(file).mode & 0o111, 0o111, `${file} is executable`);
      const version = await run(file, ['--version'], env);
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, /^tmux-session-manager \d/);
    }
    assert.equal(installLaunchers({ cliPath: CLI, runtimePath: process.execPath, env: { ...env, PATH: `${folder}:/usr/bin` } }).onPath, true);
    assert.deepEqual(pathAdvice(folder, { ...env, SHELL: '/bin/zsh' }), { line: 'export PATH="$HOME/.local/bin:$PATH"', file: '~/.zshrc' });
  });

  it('is idempotent, and rewrites its own launcher when the extension moved', function () {
    installLaunchers({ cliPath: CLI, runtimePath: process.execPath, env });
    const again = installLaunchers({ cliPath: CLI, runtimePath: process.execPath, env });
    assert.deepEqual(again.written, []);
    assert.equal(again.unchanged.length, 2);
    const moved = installLaunchers({ cliPath: '/new/place/dist/cli.js', runtimePath: process.execPath, env, onlyRefresh: true });
    assert.equal(moved.written.length, 2);
    assert.match(fs.readFileSync(path.join(launcherFolder(env), 'tsm'), 'utf8'), /^cli='\/new\/place\/dist\/cli\.js'$/m);
  });

  it('never overwrites a file it did not write, and a refresh creates nothing', function () {
    const folder = launcherFolder(env);
    assert.deepEqual(installLaunchers({ cliPath: CLI, runtimePath: process.execPath, env, onlyRefresh: true }).written, []);
    assert.equal(fs.existsSync(folder), false);
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'tsm'), '#!/bin/sh\necho another tsm\n', { mode: 0o755 });
    const result = installLaunchers({ cliPath: CLI, runtimePath: process.execPath, env });
    assert.deepEqual(result.refused, [path.join(folder, 'tsm')]);
    assert.deepEqual(result.written, [path.join(folder, 'tmux-session-manager')]);
    assert.equal(fs.readFileSync(path.join(folder, 'tsm'), 'utf8'), '#!/bin/sh\necho another tsm\n');
  });

  it("without node on PATH runs the editor's runtime as Node (ELECTRON_RUN_AS_NODE=1), with paths that need quoting", async function () {
    const odd = path.join(home, "it's a \"dir\" $x");
    fs.mkdirSync(odd);
    const runtime = path.join(odd, 'runtime');
    fs.writeFileSync(runtime, '#!/bin/sh\necho "ELECTRON_RUN_AS_NODE=$ELECTRON_RUN_AS_NODE"; for a in "$@"; do echo "arg: $a"; done\n', { mode: 0o755 });
    const cli = path.join(odd, 'cli.js');
    fs.writeFileSync(cli, '');
    const { written } = installLaunchers({ cliPath: cli, runtimePath: runtime, env });
    const emptyPath = path.join(home, 'empty-path');
    fs.mkdirSync(emptyPath);
    const result = await run(written[1], ['ls', 'two words'], { HOME: home, PATH: emptyPath });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `ELECTRON_RUN_AS_NODE=1\narg: ${cli}\narg: ls\narg: two words\n`);
    fs.rmSync(cli);
    const gone = await run(written[1], ['ls'], { HOME: home, PATH: emptyPath });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /is gone \(the extension was updated or removed\)/);
    assert.equal(isOurLauncher(launcherText(cli, runtime)), true);
  });
});
