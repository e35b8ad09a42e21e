import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { downSchema, errorSchema, upSchema } from '../../src/cli/schemas';
import { buildCli, CLI, runCli } from './helpers/cli';
import { eventually, PrivateTmux, processAlive } from './helpers/tmux';

function shaped<T extends z.ZodType>(schema: T, text: string): z.infer<T> {
  const value: unknown = JSON.parse(text);
  const parsed = schema.parse(value);
  assert.deepEqual(parsed, value, 'the output has fields its schema does not document');
  return parsed;
}

/** db becomes ready after printing its line; api waits for it; a plain shell pane beside them. */
const PROFILE = `session: cli-shop
windows:
  - name: services
    panes:
      - name: db
        command: "sleep 0.3; echo db accepting connections; exec sleep 300"
        ready: { output: "accepting connections", interval: 100ms }
      - name: api
        command: "exec sleep 301"
        dependsOn: { db: ready }
      - {}
`;

/** `tsm up` and `tsm down` as a user runs them: the built tool, a private server, the project folder as cwd. */
describe('command-line tool: up and down a profile', function () {
  this.timeout(60_000);
  let server: PrivateTmux;
  let folder: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runCli(['-S', server.socketPath, ...args], { cwd: folder, env });
  const panes = () =>
    server
      .tmux('list-panes', '-s', '-t', 'cli-shop', '-F', '#{@tsm-profile-pane}\t#{pane_pid}\t#{pane_dead}')
      .trim()
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([key]) => key === 'db' || key === 'api');

  before(function () {
    this.timeout(120_000);
    buildCli();
  });

  beforeEach(function () {
    server = new PrivateTmux();
    folder = fs.mkdtempSync(path.join(server.folder, 'project-'));
    // A plain login shell for `$SHELL -lc`: a login bash would read slow profiles.
    env = { ...process.env, SHELL: '/bin/sh' };
  });

  afterEach(function () {
    server.kill();
  });

  it('up starts the server and the services, waits until every one is ready, and prints them', async function () {
    fs.writeFileSync(path.join(folder, '.tmux-session.yaml'), PROFILE);
    const up = await cli('up', '--json');
    assert.equal(up.code, 0, up.stderr);
    const output = shaped(upSchema, up.stdout);
    assert.equal(output.outcome, 'ready');
    assert.equal(output.session, 'cli-shop');
    assert.deepEqual(output.services.map((service) => [service.name, service.phase]), [['db', 'running'], ['api', 'running']]);
    assert.match(server.tmux('capture-pane', '-p', '-t', output.services[0].pane!), /accepting connections/);
    // The record a VS Code window adopts is in the session.
    const record = JSON.parse(server.tmux('show-options', '-v', '-t', output.sessionId, '@tsm-supervision'));
    assert.deepEqual(Object.keys(record.units).sort(), ['api', 'db']);

    const again = await cli('up', '--json');
    assert.equal(again.code, 0, again.stderr);
    const pids = panes().map(([, pid]) => pid);
    assert.equal(pids.length, 2, 'a second up made no second set of services');

    const down = await cli('down', '--json');
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(shaped(downSchema, down.stdout), { session: 'cli-shop', stopped: ['db', 'api'] });
    assert.ok(!server.isRunning() || !server.tmux('list-sessions', '-F', '#{session_name}').includes('cli-shop'));
    await eventually('no service process left', () => pids.every((pid) => !processAlive(Number(pid))), 10_000);
  });

  it('up --file names the profile; a service that fails ends up with exit 1 and says which and why', async function () {
    const file = path.join(folder, 'broken.yaml');
    fs.writeFileSync(
      file,
      `session: cli-broken
windows:
  - panes:
      - { name: ok, command: "exec sleep 300" }
      - { name: crash, command: "sleep 0.2; echo bad config; exit 3", restart: never, ready: { output: "listening" } }
`,
    );
    const up = await cli('up', '--file', file, '--json');
    assert.equal(up.code, 1, up.stderr);
    const output = shaped(upSchema, up.stdout);
    assert.equal(output.outcome, 'failed');
    const crash = output.services.find((service) => service.name === 'crash')!;
    assert.equal(crash.phase, 'failed');
    assert.equal(crash.lastExit, 'exited 3');
    assert.equal(output.services.find((service) => service.name === 'ok')!.phase, 'running');
    const text = await cli('down', '--file', file);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^stopped ok, crash; closed session "cli-broken"/);
  });

  it('up gives up at --timeout with exit 124 and names what is still waiting', async function () {
    fs.writeFileSync(
      path.join(folder, '.tmux-session.yaml'),
      `session: cli-slow
windows:
  - panes:
      - { name: never, command: "exec sleep 300", ready: { output: "never printed" } }
`,
    );
    const up = await cli('up', '--timeout', '1s');
    assert.equal(up.code, 124, up.stderr);
    assert.match(up.stdout, /^never\s+starting/m);
    assert.match(up.stderr, /not every service was ready in time/);
    assert.equal((await cli('down')).code, 0);
  });

  it('a bad profile is exit 2 with file:line:column and creates nothing; no profile and no session are exit 1', async function () {
    fs.writeFileSync(path.join(folder, '.tmux-session.yaml'), 'windows:\n  - panes:\n      - { name: a, comand: x }\n');
    const bad = await cli('up', '--json');
    assert.equal(bad.code, 2);
    const { error } = shaped(errorSchema, bad.stderr);
    assert.match(error.message, /\.tmux-session\.yaml:3:\d+: .*comand/);
    assert.match(error.message, /Nothing was started/);
    assert.equal(server.isRunning(), false, 'not even a server was started');

    fs.rmSync(path.join(folder, '.tmux-session.yaml'));
    const none = await cli('up');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No profile here: .*\.tmux-session\.yaml does not exist\. Run this in the project's folder, or name the file with --file F/);

    fs.writeFileSync(path.join(folder, '.tmux-session.yaml'), PROFILE);
    server.newSession('other');
    const down = await cli('down');
    assert.equal(down.code, 1);
    assert.match(down.stderr, /Session "cli-shop" of .* is not running: there is nothing to stop/);
  });

  it('up --foreground keeps restarting a service that crashes until Ctrl-C, and the services outlive it', async function () {
    const marker = path.join(folder, 'runs');
    fs.writeFileSync(
      path.join(folder, '.tmux-session.yaml'),
      `session: cli-fg
windows:
  - panes:
      - name: flaky
        command: "echo run >> ${marker}; exec sleep 300"
        backoff: { initialDelay: 100ms }
`,
    );
    const child: ChildProcess = spawn(process.execPath, [CLI, '-S', server.socketPath, 'up', '--foreground'], { cwd: folder, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually('the session is up', () => /is up/.test(stderr), 20_000);
      const [pid] = server.tmux('list-panes', '-t', 'cli-fg', '-F', '#{pane_pid}').trim().split('\n');
      process.kill(Number(pid), 'SIGKILL');
      await eventually('flaky restarted by the foreground supervisor', () => fs.readFileSync(marker, 'utf8').split('\n').filter(Boolean).length === 2, 10_000);
      assert.match(stderr, /flaky: restarting/);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
    assert.match(stderr, /Supervision ended; the services keep running/);
    assert.equal(server.tmux('list-panes', '-t', 'cli-fg', '-F', '#{pane_dead}').trim(), '0', 'the service still runs');
  });
});
