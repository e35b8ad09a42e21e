import * as assert from 'node:assert/strict';
import { profileHostOf } from './helpers/supervision';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PaneOutputHub } from '../../src/core/output/outputHub';
import { parseProfile } from '../../src/core/profiles/parse';
import {
  expandHome,
  findProfileIn,
  PROJECT_OPTION,
  projectChoices,
  ProjectHost,
  projectSessionName,
  ProjectSwitcher,
  RECENT_PROJECTS_KEPT,
  rememberProject,
  SwitchResult,
  UntrustedProjectError,
} from '../../src/core/profiles/projects';
import { ProfileHost, ProfileRuntime } from '../../src/core/profiles/runtime';
import { SnapshotStore } from '../../src/core/snapshots/store';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

/** The agent the template starts: prints a line a test can wait for, then waits like an agent at its prompt. */
const AGENT = 'echo agent-started-in-$(pwd); exec sleep 300';

describe('projects: choosing a project', function () {
  it('offers the workspace folders, then the configured ones, then the recent ones, each once, marking the current', function () {
    const choices = projectChoices(['/w/a'], ['/w/b', '~/c', '', '/w/a/'], ['/w/c', '/w/b'], '/w/b');
    assert.deepEqual(
      choices.map((choice) => [choice.folder, choice.sources.join('+'), choice.current]),
      [
        ['/w/a', 'workspace+setting', false],
        ['/w/b', 'setting+recent', true],
        [expandHome('~/c'), 'setting', false],
        ['/w/c', 'recent', false],
      ],
    );
  });

  it('keeps the most recent project first, each once, and at most the last few', function () {
    let recent: string[] = [];
    for (let i = 0; i < RECENT_PROJECTS_KEPT + 5; i++) recent = rememberProject(recent, `/p/${i}`);
    recent = rememberProject(recent, '/p/10/');
    assert.equal(recent.length, RECENT_PROJECTS_KEPT);
    assert.equal(recent[0], '/p/10');
    assert.equal(recent.filter((folder) => folder === '/p/10').length, 1);
  });

  it('names the session <prefix><folder name> in a form tmux keeps', function () {
    assert.equal(projectSessionName('claude-', '/src/shop'), 'claude-shop');
    assert.equal(projectSessionName('', '/src/my.app/'), 'my-app');
    assert.equal(projectSessionName('x:', '/src/a'), 'x-a');
  });

  it('expands ~ in configured folders and finds the profile at a folder root by name or pattern', function () {
    assert.equal(expandHome('~/work', '/home/u'), '/home/u/work');
    assert.equal(expandHome('/a/~', '/home/u'), '/a/~');
    const folder = fs.mkdtempSync(path.join(process.env.HOME!, 'profile-'));
    fs.writeFileSync(path.join(folder, 'dev.tmux.yaml'), 'windows: [{panes: [{}]}]\n');
    assert.equal(findProfileIn(folder, ['.tmux-session.yaml']), undefined);
    assert.equal(findProfileIn(folder, ['.tmux-session.yaml', '*.tmux.yaml']), path.join(folder, 'dev.tmux.yaml'));
    fs.rmSync(folder, { recursive: true, force: true });
  });
});

describe('projects: switching between project sessions against real tmux', function () {
  this.timeout(60_000);
  let server: PrivateTmux;
  let services: TmuxService[];
  let hub: PaneOutputHub;
  let store: SnapshotStore;
  let projects: string;
  let results: SwitchResult[];
  let trusted: boolean;
  const savedShell = process.env.SHELL;

  beforeEach(async function () {
    process.env.SHELL = '/bin/sh';
    server = new PrivateTmux();
    server.newSession('base');
    services = [];
    hub = new PaneOutputHub((argv) => window().run(argv), server.address);
    store = new SnapshotStore(path.join(server.folder, 'data'));
    projects = fs.mkdtempSync(path.join(server.folder, 'projects-'));
    results = [];
    trusted = true;
  });

  afterEach(async function () {
    results.forEach((result) => result.runtime?.dispose());
    await hub.dispose();
    await Promise.all(services.map((service) => service.dispose()));
    server.kill();
    if (savedShell === undefined) delete process.env.SHELL;
    else process.env.SHELL = savedShell;
  });

  /** One VS Code window's view of the server (the first one made, unless asked for another). */
  function window(fresh = false): TmuxService {
    if (fresh || services.length === 0) services.push(new TmuxService(server.address));
    return services[services.length - 1];
  }

  /**
   * `lookedUp`: resolves after the switch looked for the session, so a test can hold two switches
   * until both have seen it missing (the race two windows run into).
   */
  async function switcher(service = window(), lookedUp?: () => Promise<void>): Promise<ProjectSwitcher> {
    await service.start();
    const run = async (argv: readonly string[]) => {
      const lines = await service.run(argv);
      if (argv[0] === 'list-sessions' && lookedUp) await lookedUp();
      return lines;
    };
    const profileHost = (): ProfileHost => profileHostOf(service, hub);
    const host: ProjectHost = {
      run,
      runStartingServer: (argv) => service.runStartingServer(argv),
      sessions: async () => (await service.refresh()).sessions,
      profileOf: async (folder) => {
        const file = findProfileIn(folder, ['.tmux-session.yaml']);
        return file ? parseProfile(fs.readFileSync(file, 'utf8'), file) : undefined;
      },
      profileHost,
      store,
      scrollbackLines: 100,
      autosaveKeep: 3,
      tmuxVersion: 'test',
      mayRunCommands: () => trusted,
    };
    return new ProjectSwitcher(host);
  }

  const project = (name: string): string => {
    const folder = path.join(projects, name);
    fs.mkdirSync(folder, { recursive: true });
    return folder;
  };
  const go = async (switching: ProjectSwitcher, folder: string, leaving?: string): Promise<SwitchResult> => {
    const result = await switching.switchTo({ folder, prefix: 'claude-', agentCommand: AGENT, leaving });
    results.push(result);
    return result;
  };
  const sessionsNamed = (name: string) => server.tmux('list-sessions', '-F', '#{session_name}').split('\n').filter((line) => line === name);
  const panesOf = (session: string) =>
    server
      .tmux('list-panes', '-s', '-t', `=${session}`, '-F', '#{pane_id}\t#{pane_width}\t#{pane_current_path}')
      .trim()
      .split('\n')
      .map((line) => {
        const [id, width, cwd] = line.split('\t');
        return { id, width: Number(width), cwd };
      });

  it('creates the template session: the agent beside a shell, 90% to 10%, both in the project folder', async function () {
    const shop = project('shop');
    const result = await go(await switcher(), shop);
    assert.equal(result.how, 'template');
    assert.equal(result.session, 'claude-shop');
    const panes = panesOf('claude-shop');
    assert.equal(panes.length, 2);
    const share = panes[0].width / (panes[0].width + panes[1].width + 1);
    assert.ok(share > 0.85 && share < 0.93, `the agent pane has ${Math.round(share * 100)}% of the width`);
    for (const pane of panes) assert.equal(fs.realpathSync(pane.cwd), fs.realpathSync(shop));
    await eventually('the agent command ran in the project folder', () => server.tmux('capture-pane', '-p', '-t', panes[0].id).includes(`agent-started-in-${shop}`));
    assert.equal(server.tmux('show-options', '-v', '-t', result.sessionId, PROJECT_OPTION).trim(), shop);
  });

  it('switching away saves the session being left; switching back attaches to it as it was', async function () {
    const switching = await switcher();
    const shop = project('shop');
    const blog = project('blog');
    const first = await go(switching, shop);
    const [agentPane] = panesOf('claude-shop');
    await eventually('the agent printed its line', () => server.tmux('capture-pane', '-p', '-t', agentPane.id).includes('agent-started'));

    const away = await go(switching, blog, 'claude-shop');
    assert.equal(away.how, 'template');
    assert.ok(away.saved, 'the session left was saved');
    assert.equal(away.saved.sessionName, 'claude-shop');
    assert.equal(away.saved.kind, 'auto');
    const snapshot = await store.read(away.saved);
    assert.equal(snapshot.session.windows[0].panes.length, 2);
    assert.deepEqual(away.warnings, []);

    const back = await go(switching, shop, 'claude-blog');
    assert.equal(back.how, 'attached');
    assert.equal(back.sessionId, first.sessionId);
    assert.equal(panesOf('claude-shop').length, 2, 'nothing was added to the running session');
    assert.equal(panesOf('claude-shop')[0].id, agentPane.id, 'the agent pane is the one that ran before');
    assert.equal(back.saved?.sessionName, 'claude-blog');
    assert.equal((await store.list()).filter((entry) => entry.sessionName === 'claude-blog').length, 1);
  });

  it('two switches at once build the session once: from two windows, and from a double click in one', async function () {
    const shop = project('shop');
    // Both windows look, both find nothing, and only then do both try to create it.
    let arrived = 0;
    let release!: () => void;
    const bothLooked = new Promise<void>((resolve) => (release = resolve));
    const barrier = () => {
      if (++arrived === 2) release();
      return bothLooked;
    };
    const [a, b] = [await switcher(window(true), barrier), await switcher(window(true), barrier)];
    const both = await Promise.all([go(a, shop), go(b, shop)]);
    assert.deepEqual(both.map((result) => result.how).sort(), ['attached', 'template']);
    assert.equal(both[0].sessionId, both[1].sessionId);
    assert.equal(sessionsNamed('claude-shop').length, 1);
    assert.equal(panesOf('claude-shop').length, 2);

    const blog = project('blog');
    const twice = await Promise.all([go(a, blog), go(a, blog)]);
    assert.equal(twice[0].sessionId, twice[1].sessionId);
    assert.equal(sessionsNamed('claude-blog').length, 1);
    assert.equal(panesOf('claude-blog').length, 2);
  });

  it('a project with a profile is built from it, and its beforeSwitch / afterSwitch hooks run around the switch', async function () {
    const api = project('api');
    const log = path.join(projects, 'hooks.log');
    fs.writeFileSync(
      path.join(api, '.tmux-session.yaml'),
      `session: api-dev
hooks:
  beforeSwitch: echo "before $TSM_SESSION" >> ${log}
  afterSwitch: echo "after $TSM_SESSION" >> ${log}
windows:
  - name: work
    panes:
      - { name: server, command: "echo serving; exec sleep 300" }
      - {}
`,
    );
    const switching = await switcher();
    const to = await go(switching, api);
    assert.equal(to.how, 'profile');
    assert.equal(to.session, 'api-dev', "the profile's session name wins over the prefix");
    assert.ok(to.runtime);
    await eventually('server running', () => to.runtime!.statuses().find((status) => status.name === 'server')?.state.phase === 'running');
    assert.equal(fs.readFileSync(log, 'utf8'), 'after api-dev\n');

    const away = await go(switching, project('blog'), 'api-dev');
    assert.equal(away.saved?.sessionName, 'api-dev');
    assert.equal(fs.readFileSync(log, 'utf8'), 'after api-dev\nbefore api-dev\n');
  });

  it("switching away from a session that Tmux: Up built (not a switch) still runs its project's beforeSwitch hook", async function () {
    const api = project('api');
    const log = path.join(projects, 'hooks.log');
    const file = path.join(api, '.tmux-session.yaml');
    fs.writeFileSync(file, `hooks: { beforeSwitch: echo "leaving $TSM_SESSION" >> ${log} }\nwindows: [{ panes: [{}] }]\n`);
    const service = window();
    const switching = await switcher(service);
    const runtime = await ProfileRuntime.up(
      { run: (argv) => service.run(argv), address: server.address, onTree: service.onDidChangeTree, tree: () => service.tree, output: hub.open },
      parseProfile(fs.readFileSync(file, 'utf8'), file),
    );
    try {
      const away = await go(switching, project('blog'), 'api');
      assert.equal(away.saved?.sessionName, 'api');
      assert.equal(fs.readFileSync(log, 'utf8'), 'leaving api\n');
    } finally {
      runtime.dispose();
    }
  });

  it('in an untrusted workspace nothing is started, a running session is still attached, and skipped hooks are named', async function () {
    trusted = false;
    const switching = await switcher();
    const shop = project('shop');
    await assert.rejects(go(switching, shop), (error: Error) => error instanceof UntrustedProjectError && /not trusted: nothing was started/.test(error.message) && error.message.includes(AGENT));
    assert.equal(sessionsNamed('claude-shop').length, 0);

    const api = project('api');
    fs.writeFileSync(path.join(api, '.tmux-session.yaml'), `hooks: { afterSwitch: touch ${path.join(api, 'ran')} }\nwindows: [{ panes: [{}] }]\n`);
    server.newSession('api');
    const attached = await go(switching, api);
    assert.equal(attached.how, 'attached');
    assert.equal(fs.existsSync(path.join(api, 'ran')), false);
    assert.match(attached.warnings.join('\n'), /afterSwitch hook .* was not run: this workspace is not trusted/);
  });

  it('a folder that does not exist is an error that says what to do', async function () {
    const switching = await switcher();
    await assert.rejects(go(switching, path.join(projects, 'gone')), /is not a folder: remove it from tmuxSessionManager.projects, or create it/);
  });
});
