import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { paneOutputWatcher } from '../../src/core/supervision/paneOutputProbe';
import { ProbeContext, realProbes } from '../../src/core/supervision/probes';
import { Supervisor } from '../../src/core/supervision/supervisor';
import { ProbeCheck } from '../../src/core/supervision/types';
import { TmuxService } from '../../src/tmux/service';
import { FakeDriver } from './helpers/supervision';
import { PrivateTmux, processAlive } from './helpers/tmux';

/** Each kind of probe against the real thing: servers on 127.0.0.1, shell commands, a tmux pane's output. */
describe('supervision probes (real checks)', function () {
  this.timeout(20_000);
  const closers: (() => unknown)[] = [];
  afterEach(async function () {
    for (const close of closers.splice(0).reverse()) await close();
  });

  const context = (timeoutMs = 2000, handle = 'h'): ProbeContext & { controller: AbortController } => {
    const controller = new AbortController();
    return { unit: 'svc', handle, timeoutMs, signal: controller.signal, controller };
  };
  const check = (probe: ProbeCheck, ctx = context()) => realProbes()(probe, ctx);

  /** A port that refuses connections: one we had and let go. */
  async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  async function httpServer(handler: http.RequestListener): Promise<number> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return (server.address() as net.AddressInfo).port;
  }

  it('http: passes on 2xx only, and says what it got', async function () {
    const port = await httpServer((request, response) => {
      response.statusCode = request.url === '/ok' ? 204 : 503;
      response.end('body');
    });
    assert.deepEqual(await check({ kind: 'http', url: `http://127.0.0.1:${port}/ok` }), { ok: true, message: `HTTP 204 from http://127.0.0.1:${port}/ok` });
    assert.deepEqual(await check({ kind: 'http', url: `http://127.0.0.1:${port}/down` }), { ok: false, message: `HTTP 503 from http://127.0.0.1:${port}/down` });
    const refused = await closedPort();
    assert.deepEqual(await check({ kind: 'http', url: `http://127.0.0.1:${refused}/` }), { ok: false, message: `http://127.0.0.1:${refused}/: connection refused (nothing listens there yet)` });
  });

  it('tcp: passes when the port accepts, fails when refused', async function () {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as net.AddressInfo;
    assert.deepEqual(await check({ kind: 'tcp', port }), { ok: true, message: `127.0.0.1:${port} accepted a connection` });
    const refused = await closedPort();
    assert.equal((await check({ kind: 'tcp', port: refused })).ok, false);
  });

  it('command: passes on exit 0; otherwise its code and last error line; an abort ends it and its children', async function () {
    assert.deepEqual(await check({ kind: 'command', command: 'test 1 -eq 1' }), { ok: true, message: '`test 1 -eq 1` exited 0' });
    assert.deepEqual(await check({ kind: 'command', command: 'echo "db not ready" >&2; exit 3' }), { ok: false, message: '`echo "db not ready" >&2; exit 3` exited 3: db not ready' });
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-probe-'));
    closers.push(() => fs.rmSync(folder, { recursive: true, force: true }));
    const pidFile = path.join(folder, 'pid');
    const ctx = context();
    const running = check({ kind: 'command', command: `sleep 30 & echo $! > ${pidFile}; wait` }, ctx);
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8').trim() === '') await new Promise((resolve) => setTimeout(resolve, 10));
    const sleeper = Number(fs.readFileSync(pidFile, 'utf8'));
    ctx.controller.abort();
    const outcome = await running;
    assert.equal(outcome.ok, false);
    assert.match(outcome.message, /ended by SIGKILL/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(processAlive(sleeper), false, 'the command’s child was killed with it');
  });

  it('a supervised unit becomes ready when its http server starts answering, with the real clock', async function () {
    let healthy = false;
    const port = await httpServer((_request, response) => {
      response.statusCode = healthy ? 200 : 503;
      response.end();
    });
    const driver = new FakeDriver({ now: Date.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) });
    const supervisor = new Supervisor({ units: [{ name: 'api', ready: { check: { kind: 'http', url: `http://127.0.0.1:${port}/health` }, intervalMs: 20 } }], driver });
    closers.push(() => supervisor.dispose());
    const ready = new Promise<number>((resolve) => supervisor.onDidChangeState((event) => event.state.phase === 'running' && resolve(Date.now())));
    await supervisor.up();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(supervisor.status('api').state.phase, 'starting');
    assert.equal(supervisor.status('api').lastProbe?.message, `HTTP 503 from http://127.0.0.1:${port}/health`);
    const madeHealthy = Date.now();
    healthy = true;
    const readyAt = await ready;
    assert.ok(readyAt >= madeHealthy);
  });

  describe('output, on a real tmux pane', function () {
    let server: PrivateTmux;
    let service: TmuxService;
    beforeEach(function () {
      server = new PrivateTmux();
      server.newSession('main');
      service = new TmuxService(server.address);
    });
    afterEach(async function () {
      await service.dispose();
      server.kill();
    });

    it('passes on a pattern printed after the probe began, not on what was already there', async function () {
      const pane = server.tmux('new-window', '-d', '-P', '-F', '#{pane_id}', 'echo "listening on :8080 (old)"; tmux wait-for go; echo "listening on :9090"; sleep 30').trim();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const watch = paneOutputWatcher((argv) => service.run(argv), server.address);
      const old = await watch(pane, /listening on :8080/, 500, new AbortController().signal);
      assert.equal(old.ok, false, 'output already on screen does not count');
      assert.match(old.message, /nothing printed matched \/listening on :8080\/ within 500 ms/);
      const waiting = watch(pane, /listening on :(\d+)/, 5000, new AbortController().signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await service.run(['wait-for', '-S', 'go']);
      assert.deepEqual(await waiting, { ok: true, message: 'printed "listening on :9090"' });
    });
  });
});
