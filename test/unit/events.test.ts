import * as assert from 'node:assert/strict';
import { allPanes, findById, Pane, Tree } from '../../src/tmux/model';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux } from './helpers/tmux';

/**
 * Changes made by a separate tmux process, as a user's shell or script would make them, must reach
 * the model without anyone asking for a refresh. Each blind spot of control mode has its own test.
 */
/**
 * Both ways of following a server: hooks with no control client (the default on tmux through
 * 3.7c, whose control mode can crash the server), and a control client. "hooks only" turns off the
 * program watch, so those tests prove that the hooks alone close control mode's blind spots.
 */
const MODES = [
  { name: 'hooks, the default here', connection: 'hooks', watchPrograms: true },
  { name: 'hooks only, no program watch', connection: 'hooks', watchPrograms: false },
  { name: 'control mode', connection: 'control', watchPrograms: true },
  { name: 'control mode, hooks only', connection: 'control', watchPrograms: false },
] as const;

for (const mode of MODES)
describe(`live model (${mode.name}): changes made outside reach the tree`, function () {
  let server: PrivateTmux;
  let service: TmuxService;
  let attachedId: string;
  let otherId: string;

  beforeEach(async function () {
    server = new PrivateTmux();
    const first = server.newSession('first');
    const second = server.newSession('second');
    const log = process.env.TSM_TEST_LOG ? (m: string) => console.log(`    [${Date.now() % 100000}] ${m}`) : () => undefined;
    service = new TmuxService({ ...server.address }, { connection: mode.connection, watchPrograms: mode.watchPrograms, programWatchMs: 500, log: { trace: log, info: log, warn: log, error: log } });
    await service.start();
    await eventually('connected', () => service.state.kind === 'ok');
    await eventually('both sessions', () => service.tree.sessions.length === 2);
    assert.equal(service.getStats().mode, mode.connection);
    // tmux chooses which session the control client attaches to; the other one is its blind side.
    // With no control client, "attached" is just the first session.
    const control = server.tmux('list-clients', '-F', '#{client_control_mode} #{session_id}').split('\n').find((l) => l.startsWith('1 '));
    assert.equal(!!control, mode.connection === 'control', 'a control client only in control mode');
    attachedId = control ? control.slice(2) : first;
    otherId = attachedId === first ? second : first;
  });

  afterEach(async function () {
    await service.dispose();
    server.kill();
  });

  const sessionNamed = (tree: Tree, name: string) => tree.sessions.find((s) => s.name === name);
  const panesOf = (id: string) => {
    const session = findById(service.tree, id);
    assert.ok(session && session.kind === 'session');
    return session.windows.flatMap((w) => w.panes);
  };

  it('sees a new session', async function () {
    server.newSession('brand new');
    await eventually('the new session', () => sessionNamed(service.tree, 'brand new'));
  });

  it('sees a killed session', async function () {
    server.tmux('kill-session', '-t', otherId);
    await eventually('the session gone', () => !findById(service.tree, otherId));
  });

  it('survives the session it is attached to being killed', async function () {
    server.tmux('kill-session', '-t', attachedId);
    server.tmux('kill-session', '-t', otherId);
    const third = server.newSession('third');
    await eventually('only the third session', () => service.tree.sessions.length === 1 && findById(service.tree, third));
    assert.equal(service.state.kind, 'ok');
  });

  for (const which of ['attached', 'unattached'] as const) {
    const pick = () => (which === 'attached' ? attachedId : otherId);

    it(`sees a new window in the ${which} session`, async function () {
      const windowId = server.tmux('new-window', '-d', '-t', pick(), '-n', 'logs', '-P', '-F', '#{window_id}').trim();
      await eventually('the window', () => findById(service.tree, windowId)?.kind === 'window');
    });

    it(`sees a killed window in the ${which} session`, async function () {
      const windowId = server.tmux('new-window', '-d', '-t', pick(), '-P', '-F', '#{window_id}').trim();
      await eventually('the window', () => findById(service.tree, windowId));
      server.tmux('kill-window', '-t', windowId);
      await eventually('the window gone', () => !findById(service.tree, windowId));
    });

    it(`sees split-window -d in the ${which} session`, async function () {
      const paneId = server.tmux('split-window', '-d', '-t', pick(), '-P', '-F', '#{pane_id}').trim();
      await eventually('the new pane', () => findById(service.tree, paneId)?.kind === 'pane');
    });

    it(`sees an inactive pane killed in the ${which} session`, async function () {
      const paneId = server.tmux('split-window', '-d', '-t', pick(), '-P', '-F', '#{pane_id}').trim();
      await eventually('the new pane', () => findById(service.tree, paneId));
      server.tmux('kill-pane', '-t', paneId);
      await eventually('the pane gone', () => !findById(service.tree, paneId));
      assert.equal(panesOf(pick()).length, 1);
    });

    it(`sees an inactive pane's program exit in the ${which} session`, async function () {
      const paneId = server.tmux('split-window', '-d', '-t', pick(), '-P', '-F', '#{pane_id}', 'sleep 0.3').trim();
      await eventually('the new pane', () => findById(service.tree, paneId));
      await eventually('the pane gone after its program exits', () => !findById(service.tree, paneId));
    });

    // tmux 3.3a sometimes marks a pane dead before it has reaped the program, and then never
    // reports the status (pane_dead_status stays empty), so the status is checked only when known.
    it(`sees a dead pane (remain-on-exit) and its exit status in the ${which} session`, async function () {
      // When that race happens tmux runs no pane-died hook and sends no notification either: only
      // the program watch (pane_dead is in its format) sees the pane die, so hooks alone cannot.
      if (!mode.watchPrograms) this.skip();
      const paneId = server.tmux('split-window', '-d', '-t', pick(), '-P', '-F', '#{pane_id}', 'sleep 0.2; exit 3').trim();
      server.tmux('set-option', '-p', '-t', paneId, 'remain-on-exit', 'on');
      const pane = await eventually('the pane dead', () => {
        const found = findById(service.tree, paneId);
        return found?.kind === 'pane' && found.dead ? found : undefined;
      });
      const reported = server.tmux('display-message', '-p', '-t', paneId, '#{pane_dead_status}').trim();
      const status = () => (findById(service.tree, paneId) as Pane | undefined)?.deadStatus;
      if (reported !== '') await eventually('exit status 3', () => status() === 3);
      else assert.equal(status(), undefined);
      assert.equal(pane?.kind, 'pane');
    });

    it(`sees a renamed window in the ${which} session`, async function () {
      const windowId = panesOf(pick())[0].windowId;
      server.tmux('rename-window', '-t', windowId, 'renamed: it; "quoted"');
      await eventually('the new window name', () => {
        const window = findById(service.tree, windowId);
        return window?.kind === 'window' && window.name === 'renamed: it; "quoted"';
      });
    });

    it(`sees a program start in a pane of the ${which} session`, async function () {
      if (!mode.watchPrograms) this.skip();
      const [pane] = panesOf(pick());
      assert.ok(pane);
      server.tmux('send-keys', '-t', pane.id, 'exec sleep 30', 'Enter');
      await eventually('sleep as the current command', () => {
        const found = findById(service.tree, pane.id);
        return found?.kind === 'pane' && found.currentCommand === 'sleep';
      }, 5000);
    });
  }

  it('sees a renamed session', async function () {
    server.tmux('rename-session', '-t', otherId, 'new name #1 "q"');
    await eventually('the new session name', () => findById(service.tree, otherId)?.kind === 'session' && (findById(service.tree, otherId) as { name: string }).name === 'new name #1 "q"');
  });

  it('counts only real clients as attached', function () {
    // Our waiting `tmux wait-for` client, and in control mode our control client, are not attachments.
    for (const session of service.tree.sessions) assert.equal(session.attachedClients, 0, `${session.name} should not count our control client`);
    assert.ok(allPanes(service.tree).length >= 2);
  });
});
