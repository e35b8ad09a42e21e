import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PaneOutputHub } from '../../src/core/output/outputHub';
import { importedProfileText, importFormatOf, importProfile, ImportResult, profileOfImport, readAnyProfile } from '../../src/core/profiles/import';
import { parseProfile, ProfileError } from '../../src/core/profiles/parse';
import { diffIsEmpty, ProfileRuntime } from '../../src/core/profiles/runtime';
import { isShell, listProcesses, processTree, readArgv } from '../../src/core/processes';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'import');
const fixture = (...parts: string[]) => path.join(FIXTURES, ...parts);
const importFixture = (...parts: string[]): ImportResult => importProfile(fs.readFileSync(fixture(...parts), 'utf8'), fixture(...parts));
const warningKeys = (result: ImportResult) => result.warnings.map((warning) => warning.key);
const run = promisify(execFile);

/** The error a bad file gives, as `line:column: message` lines. */
function problems(text: string, file: string): string[] {
  try {
    importProfile(text, file);
  } catch (error) {
    assert.ok(error instanceof ProfileError, `expected a ProfileError, got ${String(error)}`);
    return error.issues.map((issue) => `${issue.line}:${issue.column}: ${issue.message}`);
  }
  assert.fail('the file was accepted');
}

describe('profile import: tmuxinator and tmuxp files as profiles', function () {
  describe('which files are imported', function () {
    it('knows both tools’ file names, and leaves our own file and other YAML to our parser', function () {
      assert.equal(importFormatOf('/p/.tmuxinator.yml'), 'tmuxinator');
      assert.equal(importFormatOf('/p/.tmuxinator.yaml'), 'tmuxinator');
      assert.equal(importFormatOf('/home/u/.config/tmuxinator/shop.yml'), 'tmuxinator');
      assert.equal(importFormatOf('/home/u/.tmuxinator/shop.yml'), 'tmuxinator');
      assert.equal(importFormatOf('/p/.tmuxp.yaml'), 'tmuxp');
      assert.equal(importFormatOf('/p/.tmuxp.yml'), 'tmuxp');
      assert.equal(importFormatOf('/p/.tmuxp.json'), 'tmuxp');
      assert.equal(importFormatOf('/home/u/.tmuxp/shop.yaml'), 'tmuxp');
      assert.equal(importFormatOf('/p/.tmux-session.yaml'), undefined);
      assert.equal(importFormatOf('/p/docker-compose.yml'), undefined);
      // A file named otherwise (a profileFiles glob of the user's) is told by its top-level keys.
      assert.equal(importFormatOf('/p/dev/session.yaml', 'session_name: a\nwindows: []\n'), 'tmuxp');
      assert.equal(importFormatOf('/p/dev/session.json', '{\n  "session_name": "a"\n}\n'), 'tmuxp');
      assert.equal(importFormatOf('/p/dev/session.yaml', 'name: a\nwindows: []\n'), 'tmuxinator');
      assert.equal(importFormatOf('/p/dev/session.yaml', 'session: a\nwindows:\n  - name: w\n    panes: [{}]\n'), undefined);
    });

    it('reads our own format unchanged and an imported file into the same Profile that Up takes', function () {
      const own = 'session: own\nwindows:\n  - panes: [{ command: sleep 1 }]\n';
      assert.deepEqual(readAnyProfile(own, '/p/.tmux-session.yaml').profile, parseProfile(own, '/p/.tmux-session.yaml'));
      const file = fixture('tmuxp', '.tmuxp.yaml');
      const { profile, warnings, format } = readAnyProfile(fs.readFileSync(file, 'utf8'), file);
      assert.equal(format, 'tmuxp');
      assert.equal(profile.session, 'imported-tmuxp');
      assert.equal(profile.file, file);
      assert.equal(profile.windows[1].panes[1].cwd, path.join(fixture('tmuxp'), 'api', 'sub'));
      assert.ok(warnings.length > 0);
    });

    it('writes a file that reads back as the same profile, with the warnings as comments on top', function () {
      const file = fixture('tmuxinator', '.tmuxinator.yml');
      const result = importFixture('tmuxinator', '.tmuxinator.yml');
      const text = importedProfileText(result, file);
      assert.match(text, /^# Imported from \.tmuxinator\.yml \(tmuxinator\)/);
      assert.match(text, /^# {3}\.tmuxinator\.yml:7:1 socket_name:\n# {7}not in a profile: /m);
      assert.doesNotMatch(text, /[&*]a\d/, 'no YAML anchors: every pane reads on its own');
      const written = path.join(fixture('tmuxinator'), '.tmux-session.yaml');
      assert.deepEqual({ ...parseProfile(text, written), file }, profileOfImport(result, file));
    });
  });

  describe('tmuxp', function () {
    it('maps session_name, start_directory, before_script, environment, shell_command_before at every level, focus, layout, window_shell and every pane form', function () {
      const result = importFixture('tmuxp', '.tmuxp.yaml');
      assert.equal(result.format, 'tmuxp');
      const before = 'export STAGE=dev';
      assert.deepEqual(result.document, {
        session: 'imported-tmuxp',
        root: './',
        env: { PROJECT_KIND: 'demo' },
        hooks: { onStart: './prepare.sh' },
        windows: [
          {
            name: 'editor',
            layout: 'main-vertical',
            focus: true,
            panes: [
              { command: `${before} && export ROLE=editor && sleep 3001`, cwd: './src', env: { WINDOW_ENV: 'editor' } },
              { command: `${before} && export ROLE=editor && sleep 3002`, cwd: './src', env: { WINDOW_ENV: 'editor' } },
              { command: `${before} && export ROLE=editor && sleep 0.2 && sleep 3003`, cwd: './src', env: { WINDOW_ENV: 'editor' }, focus: true },
              { command: `${before} && export ROLE=editor`, cwd: './src', env: { WINDOW_ENV: 'editor' } },
            ],
          },
          {
            name: 'services',
            layout: 'tiled',
            panes: [
              { command: `${before} && sleep 3004`, cwd: './api' },
              { command: `${before} && export ROLE=worker && sleep 3005`, cwd: 'api/sub', env: { PANE_ENV: 'own' } },
              { command: before, cwd: './api' },
            ],
          },
          { name: 'monitor', panes: [{ command: 'sleep 3006' }] },
          { name: 'single', panes: [{ command: `${before} && sleep 3007` }] },
        ],
      });
    });

    it('warns for every key it cannot carry over, naming the key path, line and column', function () {
      const result = importFixture('tmuxp', '.tmuxp.yaml');
      assert.deepEqual(
        result.warnings.map((warning) => `${warning.line}:${warning.column} ${warning.key}`),
        [
          '7:1 before_script',
          '13:3 global_options.history-limit',
          '15:3 options.renumber-windows',
          '26:7 windows[0].options.main-pane-width',
          '28:7 windows[0].options_after.synchronize-panes',
          '51:5 windows[2].window_shell',
        ],
      );
      assert.ok(result.warnings.every((warning) => warning.file === fixture('tmuxp', '.tmuxp.yaml')));
      assert.match(result.warnings[1].message, /history-limit 5000.*tmux\.conf/);
    });

    it('reads the JSON form, the shell and window_shell programs, cmd entries with enter and sleeps, and names what it drops', function () {
      const result = importFixture('tmuxp-forms', '.tmuxp.json');
      assert.deepEqual(result.document, {
        session: 'forms-json',
        root: '~/projects/forms',
        windows: [
          { name: 'shells', panes: [{ command: 'htop' }, { command: 'echo typed' }, { command: 'top' }] },
          { name: '2', panes: [{ command: 'sleep 2 && make watch' }, { command: 'vim' }, { command: 'less', focus: true }] },
        ],
      });
      assert.deepEqual(warningKeys(result), [
        'session_name',
        'suppress_history',
        'plugins',
        'windows[0].window_index',
        'windows[0].window_shell',
        'windows[1]',
        'windows[1].panes',
        'windows[1].panes[0].shell_command[0].enter',
        'windows[1].panes[0].shell_command[1].sleep_after',
        'windows[1].panes[2].colour',
      ]);
      const enter = result.warnings.find((warning) => warning.key.endsWith('.enter'))!;
      assert.deepEqual([enter.line, enter.column], [21, 36]);
      assert.match(enter.message, /"git status" was typed without Enter/);
      assert.match(result.warnings[0].message, /"forms\.json" is named "forms-json"/);
    });

    it('a key it does not know is a warning, never dropped in silence', function () {
      const result = importProfile('session_name: s\nconfig: ~/.tmux.conf\nwindows:\n  - window_name: w\n    pane_title: x\n    panes: [sleep 1]\n', '/p/.tmuxp.yaml');
      assert.deepEqual(
        result.warnings.map((warning) => `${warning.line}:${warning.column} ${warning.key}: ${warning.message}`),
        ['2:1 config: not a tmuxp key this import knows; it is left out', '5:5 windows[0].pane_title: not a tmuxp window key this import knows; it is left out'],
      );
    });

    it('sets environment values as written, and says so where tmuxp would have expanded them', function () {
      const result = importProfile('session_name: s\nenvironment:\n  PLAIN: one\n  CACHE: ~/.cache/app\n  DATA: $HOME/data\nwindows:\n  - panes: [sleep 1]\n', '/p/.tmuxp.yaml');
      assert.deepEqual(result.document.env, { PLAIN: 'one', CACHE: '~/.cache/app', DATA: '$HOME/data' });
      assert.deepEqual(
        result.warnings.filter((warning) => warning.key.startsWith('environment')).map((warning) => `${warning.line}:${warning.column} ${warning.key}`),
        ['4:3 environment.CACHE', '5:3 environment.DATA'],
      );
    });
  });

  describe('tmuxinator', function () {
    it('maps name, root, pre_window, hooks, startup_window, startup_pane and every window and pane form', function () {
      const result = importFixture('tmuxinator', '.tmuxinator.yml');
      assert.equal(result.format, 'tmuxinator');
      const pre = 'export STAGE=dev';
      assert.deepEqual(result.document, {
        session: 'imported-tmuxinator',
        root: './',
        hooks: { onStart: './prepare.sh start && ./prepare.sh first-start', onStop: './prepare.sh stop' },
        windows: [
          {
            name: 'editor',
            layout: 'main-vertical',
            panes: [
              { command: `${pre} && sleep 3001`, cwd: 'src' },
              { command: `${pre} && sleep 3002`, cwd: 'src' },
              { command: pre, cwd: 'src' },
            ],
          },
          { name: 'server', panes: [{ command: `${pre} && sleep 3003` }] },
          {
            name: 'logs',
            layout: 'even-horizontal',
            focus: true,
            panes: [
              { command: `${pre} && export ROLE=logs && sleep 3004`, cwd: 'logs' },
              { command: `${pre} && export ROLE=logs && sleep 3005`, cwd: 'logs', focus: true },
            ],
          },
          { name: 'multi', panes: [{ command: `${pre} && export ROLE=multi && sleep 3006` }] },
          { name: 'empty', panes: [{ command: pre }] },
        ],
      });
      assert.deepEqual(
        result.warnings.map((warning) => `${warning.line}:${warning.column} ${warning.key}`),
        [
          '7:1 socket_name',
          '9:1 enable_pane_titles',
          '13:1 on_project_start',
          '14:1 on_project_first_start',
          '15:1 on_project_restart',
          '16:1 on_project_exit',
          '22:7 windows[0].editor.synchronize',
          '33:11 windows[2].logs.panes[0].follow',
        ],
      );
      assert.match(result.warnings[0].message, /tmuxSessionManager\.socketName to "tsm-import"/);
    });

    it('reads a project file of the config folder with the older key names, and names what it changes or drops', function () {
      const result = importFixture('tmuxinator-forms', 'tmuxinator', 'legacy.yml');
      const pre = 'nvm use 20';
      assert.deepEqual(result.document, {
        session: 'legacy',
        root: '~/code/legacy',
        hooks: { onStart: 'docker compose up -d', onStop: 'docker compose stop' },
        windows: [
          { name: 'editor', layout: '9a4b,200x50,0,0{100x50,0,0,0,99x50,101,0,1}', panes: [{ command: `${pre} && vim` }, { command: `${pre} && git fetch && git status` }] },
          { name: 'console', focus: true, panes: [{ command: `${pre} && rails console` }] },
          { name: 'console-2', panes: [{ command: `${pre} && tail -f log/development.log` }] },
          { name: 'bad-name', panes: [{ command: `${pre} && htop` }] },
        ],
      });
      assert.deepEqual(warningKeys(result), [
        'cli_args',
        'tmux_command',
        'pre',
        'post',
        'startup_window',
        'tabs[0].editor.synchronize',
        'tabs[2]',
        'tabs[2].console.synchronize',
        'tabs[2].console.panes[0].title',
        'tabs[3]',
      ]);
      assert.match(result.warnings[0].message, /socketName to "legacy"/);
      assert.match(result.warnings[4].message, /counted from 0.*selects "console"/);
    });

    it('says that ERB templates are read as plain text, and where the first one is', function () {
      const result = importProfile('name: app\nroot: <%= @settings["root"] %>\nwindows:\n  - main: vim\n', '/p/.tmuxinator.yml');
      assert.deepEqual(result.warnings.map((warning) => `${warning.line}:${warning.column} ${warning.key}`), ['2:7 <% %>']);
    });
  });

  describe('bad files', function () {
    it('bad YAML and bad JSON are reported at their line and column', function () {
      assert.deepEqual(problems(fs.readFileSync(fixture('bad', '.tmuxp.yaml'), 'utf8'), fixture('bad', '.tmuxp.yaml')), ['6:1: not valid YAML: Missing closing "quote']);
      const [json] = problems('{\n  "session_name": "s",\n  "windows": [ { "window_name": "w" } \n}\n', '/p/.tmuxp.json');
      assert.match(json, /^4:1: not valid JSON: /);
    });

    it('a wrong shape says where and what is expected', function () {
      assert.deepEqual(problems(fs.readFileSync(fixture('bad', '.tmuxinator.yml'), 'utf8'), fixture('bad', '.tmuxinator.yml')), [
        '2:1: windows: "windows" must be a list with at least one window, like "- editor: vim"',
      ]);
      assert.deepEqual(problems('name: a\nwindows:\n  - editor\n', '/p/.tmuxinator.yml'), ['3:5: windows[0]: a window is written "- name: command" or "- name:" with layout, panes and root under it']);
      assert.deepEqual(problems('name: a\nwindows:\n  - editor:\n      panes: vim\n', '/p/.tmuxinator.yml'), ['4:7: windows[0].editor.panes: panes must be a list: "- command", "- [command, command]" or "- title: command"']);
      assert.deepEqual(problems('session_name: a\nwindows:\n  - window_name: w\n    panes:\n      - shell_command: { cmd: x }\n', '/p/.tmuxp.yaml'), [
        '5:9: windows[0].panes[0].shell_command: commands are a string, or a list of strings or of "cmd:" entries',
      ]);
      assert.deepEqual(problems('session_name: a\nwindows: []\n', '/p/.tmuxp.yaml'), ['2:1: windows: "windows" must be a list with at least one window, like "- window_name: editor"']);
      assert.deepEqual(problems('', '/p/.tmuxp.yaml'), ['1:1: the file is empty; a project file needs its windows']);
      assert.deepEqual(problems('- a\n- b\n', '/p/.tmuxp.yaml'), ['1:1: (top level): the file must be a map of keys (session name, windows…), not a list or a single value']);
    });
  });

  describe('the same structure as the tools build (real tmux, private servers)', function () {
    this.timeout(120_000);
    const savedShell = process.env.SHELL;
    const cleanups: (() => Promise<void> | void)[] = [];

    beforeEach(function () {
      // A plain shell everywhere: login bash reads slow profiles, and the CPU is shared.
      process.env.SHELL = '/bin/sh';
    });

    afterEach(async function () {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      if (savedShell === undefined) delete process.env.SHELL;
      else process.env.SHELL = savedShell;
    });

    /** A copy of a fixture folder, and a home whose tmux.conf gives both servers the same size and shell. */
    function workspace(name: string): { folder: string; home: string; env: NodeJS.ProcessEnv } {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-import-'));
      cleanups.push(() => fs.rmSync(base, { recursive: true, force: true }));
      const folder = path.join(base, name);
      fs.cpSync(fixture(name), folder, { recursive: true });
      const home = path.join(base, 'home');
      fs.mkdirSync(path.join(home, '.config'), { recursive: true });
      fs.writeFileSync(path.join(home, '.tmux.conf'), 'set -g default-shell /bin/sh\nset -g default-size 200x50\n');
      return { folder: fs.realpathSync(folder), home, env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), SHELL: '/bin/sh', TMUX: '', TMUX_PANE: '' } };
    }

    /** Our Up of the imported file on a private server; gives its tmux. */
    async function upOurs(file: string): Promise<(...args: string[]) => string> {
      const server = new PrivateTmux();
      cleanups.push(() => server.kill());
      server.newSession('base');
      const service = new TmuxService(server.address);
      await service.start();
      const hub = new PaneOutputHub((argv) => service.run(argv), server.address);
      cleanups.push(async () => {
        await hub.dispose();
        await service.dispose();
      });
      const { profile } = readAnyProfile(fs.readFileSync(file, 'utf8'), file);
      const host = { run: (argv: readonly string[]) => service.run(argv), address: server.address, onTree: service.onDidChangeTree, tree: () => service.tree, output: hub.open };
      const runtime = await ProfileRuntime.up(host, profile);
      cleanups.push(() => runtime.dispose());
      // Applying the same imported file to its own session changes nothing.
      assert.ok(diffIsEmpty(await runtime.plan(profile)), 'a second Apply of the imported file would change the session');
      return (...args) => server.tmux(...args);
    }

    it('tmuxp load -d and Up of the imported .tmuxp.yaml give the same windows, layouts, folders, commands and environment', async function () {
      const ours = workspace('tmuxp');
      const theirs = workspace('tmuxp');
      const oursTmux = await upOurs(path.join(ours.folder, '.tmuxp.yaml'));
      const socket = path.join(theirs.home, 'tmuxp.sock');
      const theirsTmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', env: theirs.env });
      cleanups.push(() => void runQuietly(() => theirsTmux('kill-server')));
      await run('tmuxp', ['load', '-d', '-y', '-S', socket, '-f', path.join(theirs.home, '.tmux.conf'), path.join(theirs.folder, '.tmuxp.yaml')], { cwd: theirs.folder, env: theirs.env, timeout: 60_000 });
      await compare(oursTmux, ours.folder, theirsTmux, theirs.folder, 'imported-tmuxp', 'tmuxp load', { editor: '{1,[1,1,1]}', services: '[{1,1},1]' });
      assert.equal(fs.readFileSync(path.join(ours.folder, 'hooks.log'), 'utf8'), fs.readFileSync(path.join(theirs.folder, 'hooks.log'), 'utf8'), 'before_script ran as the onStart hook');
    });

    it('tmuxinator start and Up of the imported .tmuxinator.yml give the same windows, layouts, folders, commands and environment', async function () {
      const found = runQuietly(() => execFileSync('sh', ['-c', 'command -v tmuxinator'], { encoding: 'utf8' }).trim());
      if (!found) {
        console.log('      tmuxinator is not on PATH (Debian package "tmuxinator"): the tmuxinator comparison is skipped');
        this.skip();
      }
      const ours = workspace('tmuxinator');
      const theirs = workspace('tmuxinator');
      const oursTmux = await upOurs(path.join(ours.folder, '.tmuxinator.yml'));
      // The fixture's socket_name puts tmuxinator's server under TMUX_TMPDIR, a temporary folder of this test run.
      const theirsTmux = (...args: string[]) => execFileSync('tmux', ['-L', 'tsm-import', ...args], { encoding: 'utf8', env: theirs.env });
      cleanups.push(() => void runQuietly(() => theirsTmux('kill-server')));
      // tmuxinator's script runs `tmux start-server` and then `new-session`: on a loaded machine the
      // empty server can exit in between, and the script still exits 0. One more start covers that race.
      let output = '';
      for (let attempt = 1; attempt <= 2 && runQuietly(() => theirsTmux('has-session', '-t', '=imported-tmuxinator')) === undefined; attempt++) {
        if (attempt > 1) fs.rmSync(path.join(theirs.folder, 'hooks.log'), { force: true });
        const started = await run('tmuxinator', ['start', '-p', path.join(theirs.folder, '.tmuxinator.yml'), '--no-attach', '--suppress-tmux-version-warning=true'], { cwd: theirs.folder, env: theirs.env, timeout: 60_000 });
        output += `attempt ${attempt}:\n${started.stdout}\n${started.stderr}\n`;
      }
      assert.ok(runQuietly(() => theirsTmux('has-session', '-t', '=imported-tmuxinator')) !== undefined, `tmuxinator start made no session:\n${output}`);
      await compare(oursTmux, ours.folder, theirsTmux, theirs.folder, 'imported-tmuxinator', 'tmuxinator start', { editor: '{1,[1,1]}', logs: '{1,1}' });
      // tmuxinator also runs on_project_exit when its script ends (no attach); that key is a warning here.
      const theirHooks = fs.readFileSync(path.join(theirs.folder, 'hooks.log'), 'utf8');
      assert.equal(theirHooks, 'start\nfirst-start\nexit\n');
      assert.equal(fs.readFileSync(path.join(ours.folder, 'hooks.log'), 'utf8'), 'start\nfirst-start\n', 'on_project_start and on_project_first_start ran as the onStart hook');
    });
  });
});

function runQuietly<T>(action: () => T): T | undefined {
  try {
    return action();
  } catch {
    return undefined;
  }
}

interface PaneShape {
  folder: string;
  /** The program the pane runs, as its argument list, or "shell" at a prompt. */
  program: string;
  env: Record<string, string>;
  active?: boolean;
}
interface WindowShape {
  name: string;
  active: boolean;
  layout: string;
  panes: PaneShape[];
}

/** Waits until both sessions settle into the same structure (the tools type their commands a little later), then asserts it. */
async function compare(
  ours: (...args: string[]) => string,
  ourFolder: string,
  theirs: (...args: string[]) => string,
  theirFolder: string,
  session: string,
  tool: string,
  shapes: Record<string, string>,
): Promise<void> {
  let last: [WindowShape[], WindowShape[]] | undefined;
  let failure: unknown;
  await eventually(
    `the session of ${tool} to match ours`,
    async () => {
      last = [await structure(ours, session, ourFolder), await structure(theirs, session, theirFolder)];
      return JSON.stringify(last[0]) === JSON.stringify(last[1]);
    },
    30_000,
  ).catch((error) => (failure = error));
  assert.ok(last, `the sessions could not be read: ${String(failure)}`);
  const [mine, other] = last;
  assert.ok(mine.flatMap((window) => window.panes).some((pane) => pane.program === 'sleep 3001'), `our session runs the fixture's programs: ${JSON.stringify(mine)}`);
  for (const [name, shape] of Object.entries(shapes)) assert.equal(mine.find((window) => window.name === name)?.layout, shape, `the layout of window ${name}`);
  assert.deepEqual(mine, other, `Up of the imported file and ${tool} differ`);
}

const ENV_SEEN = ['STAGE', 'ROLE', 'PROJECT_KIND', 'WINDOW_ENV', 'PANE_ENV'];

/** `list-panes` of one session, in window and pane order, with each pane's program and part of its environment. */
async function structure(tmux: (...args: string[]) => string, session: string, folder: string): Promise<WindowShape[]> {
  const lines = tmux('list-panes', '-s', '-t', `=${session}`, '-F', ['#{window_index}', '#{window_name}', '#{window_active}', '#{window_layout}', '#{pane_index}', '#{pane_active}', '#{pane_current_path}', '#{pane_pid}'].join('\t'))
    .trim()
    .split('\n');
  const processes = await listProcesses();
  const windows = new Map<number, WindowShape>();
  for (const line of lines) {
    const [windowIndex, name, windowActive, layout, , paneActive, folderNow, pid] = line.split('\t');
    let window = windows.get(Number(windowIndex));
    if (!window) windows.set(Number(windowIndex), (window = { name, active: windowActive === '1', layout: layoutShape(layout), panes: [] }));
    const programs = processTree(processes, Number(pid)).filter((info) => !isShell(info.command));
    let program = 'shell';
    let env: Record<string, string> = {};
    if (programs.length > 0) {
      const argvs = await Promise.all(programs.map((info) => readArgv(info.pid)));
      program = argvs.map((argv) => argv?.join(' ') ?? '?').join(' | ');
      env = environmentOf(programs[programs.length - 1].pid);
    }
    window.panes.push({ folder: path.relative(folder, folderNow) || '.', program, env, ...(windowActive === '1' ? { active: paneActive === '1' } : {}) });
  }
  return [...windows.entries()].sort(([a], [b]) => a - b).map(([, window]) => window);
}

function environmentOf(pid: number): Record<string, string> {
  const raw = runQuietly(() => fs.readFileSync(`/proc/${pid}/environ`, 'utf8')) ?? '';
  const entries = raw.split('\u0000').map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries.filter(([name]) => ENV_SEEN.includes(name)).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * A window_layout without its sizes: `1` a pane, `{…}` side by side, `[…]` one above another. The
 * two servers may differ in size options (main-pane-width), never in this shape.
 */
function layoutShape(layout: string): string {
  let at = layout.indexOf(',') + 1;
  const cell = (): string => {
    const size = /^\d+x\d+,\d+,\d+/.exec(layout.slice(at));
    if (!size) throw new Error(`unreadable layout ${layout} at ${at}`);
    at += size[0].length;
    const open = layout[at];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      at++;
      const children = [cell()];
      while (layout[at] === ',') {
        at++;
        children.push(cell());
      }
      assert.equal(layout[at], close);
      at++;
      return `${open}${children.join(',')}${close}`;
    }
    const id = /^,\d+/.exec(layout.slice(at));
    if (id) at += id[0].length;
    return '1';
  };
  return cell();
}
