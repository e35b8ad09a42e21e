import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux, processAlive } from './helpers/tmux';

/**
 * A user's `tmux new-session` that starts a server must never fail because the extension is
 * watching that socket. tmux 3.3a crashes the whole server (NULL dereference in control_write)
 * when it sends a control notification, such as the %sessions-changed of a new session, to a
 * control client that is half way through its identify messages; attaching the moment a new
 * server's socket appeared hit that window in about one start in ten, and the user's
 * `new-session` died with "server exited unexpectedly". The service now attaches only once the
 * server has a session.
 */
describe('a server started outside while the service watches', function () {
  this.timeout(120_000);
  const ROUNDS = 50;
  let server: PrivateTmux;
  let service: TmuxService;

  beforeEach(function () {
    server = new PrivateTmux();
    const log = process.env.TSM_TEST_LOG ? (m: string) => console.log(`    [${Date.now() % 100000}] ${m}`) : () => undefined;
    service = new TmuxService({ ...server.address }, { log: { trace: log, info: log, warn: log, error: log } });
  });

  afterEach(async function () {
    await service.dispose();
    server.kill();
  });

  /**
   * tmux as its own process, the way a user's shell runs it. Asynchronous on purpose: a
   * synchronous child would stop our event loop, and with it the service, for the very moment
   * that matters. `verbose` starts the server with tmux's own log (-v, written into the test's
   * folder): the writing slows the server the way a busy machine does and widens the window, so
   * that without the fix most starts fail (about 4 in 5 here; 3-14% without -v, too few for 50
   * rounds to fail reliably).
   */
  function tmux(args: string[], verbose = false): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    const flags = verbose ? ['-v'] : [];
    return new Promise((resolve) => {
      execFile('tmux', [...flags, '-S', server.socketPath, '-f', '/dev/null', ...args], { cwd: server.folder, env: { ...process.env, TMUX: '' } }, (error, stdout, stderr) => {
        resolve({ ok: !error, stdout, stderr: stderr.trim() || String(error?.message ?? '') });
      });
    });
  }

  /** Until the process is gone: kill-server answers before the server has exited. */
  async function waitForExit(pid: number): Promise<void> {
    await eventually(`tmux server ${pid} to exit`, () => !processAlive(pid), 5000);
  }

  it(`every new-session that starts a server succeeds and shows up (${ROUNDS} starts)`, async function () {
    await service.start();
    await eventually('no server', () => service.state.kind === 'noServer');
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const name = `start-${round}`;
      const created = await tmux(['new-session', '-d', '-s', name], true);
      if (!created.ok) {
        failures.push(`round ${round}: new-session failed: ${created.stderr}`);
      } else {
        await eventually(`the service connected and sees "${name}" (round ${round})`, () => service.state.kind === 'ok' && service.tree.sessions.some((s) => s.name === name));
      }
      const pid = Number((await tmux(['display-message', '-p', '#{pid}'])).stdout.trim());
      await tmux(['kill-server']);
      if (pid > 0) await waitForExit(pid);
      fs.rmSync(server.socketPath, { force: true }); // left behind when the server crashed
      for (const file of fs.readdirSync(server.folder)) if (file.endsWith('.log')) fs.rmSync(path.join(server.folder, file), { force: true });
      await eventually(`the service saw the server go (round ${round})`, () => service.state.kind === 'noServer');
    }
    assert.deepEqual(failures, [], `${failures.length} of ${ROUNDS} new-session commands failed`);
  });
});
