import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PaneOutputHub } from '../../src/core/output/outputHub';
import { parseProfile, Profile } from '../../src/core/profiles/parse';
import { describeDiff, diffIsEmpty, ProfileHost, ProfileRuntime, SupervisedElsewhereError, UntrustedProfileError } from '../../src/core/profiles/runtime';
import { newLeaseToken } from '../../src/core/supervision/lease';
import { spawnSync } from 'node:child_process';
import { listProcesses, processTree } from '../../src/core/processes';
import { TmuxService } from '../../src/tmux/service';
import { eventually, PrivateTmux, processAlive } from './helpers/tmux';
import { profileHostOf } from './helpers/supervision';

/**
 * Profiles against a private tmux server: fake services are small sh scripts (ready after a delay,
 * exiting with a code, crashing in a loop, ignoring SIGTERM) that log what happened with times.
 */
describe('profiles: up, down, apply and re-adoption against real tmux', function () {
  this.timeout(60_000);
  let server: PrivateTmux;
  let service: TmuxService;
  let hub: PaneOutputHub;
  let folder: string;
  let runtimes: ProfileRuntime[];
  const savedShell = process.env.SHELL;

  beforeEach(async function () {
    // A plain login shell: `$SHELL -lc` of a login bash reads slow profiles (and CPU is shared).
    process.env.SHELL = '/bin/sh';
    server = new PrivateTmux();
    server.newSession('base');
    service = new TmuxService(server.address);
    await service.start();
    hub = new PaneOutputHub((argv) => service.run(argv), server.address);
    folder = fs.mkdtempSync(path.join(server.folder, 'project-'));
    fs.writeFileSync(path.join(folder, 'svc.sh'), SERVICE_SCRIPT, { mode: 0o755 });
    runtimes = [];
  });

  afterEach(async function () {
    runtimes.forEach((runtime) => runtime.dispose());
    await hub.dispose();
    await service.dispose();
    server.kill();
    if (savedShell === undefined) delete process.env.SHELL;
    else process.env.SHELL = savedShell;
  });

  const host = (extra: Partial<ProfileHost> = {}): ProfileHost => profileHostOf(service, hub, extra);
  const profileOf = (text: string): Profile => {
    const file = path.join(folder, '.tmux-session.yaml');
    fs.writeFileSync(file, text);
    return parseProfile(text, file);
  };
  const up = async (profile: Profile, extra: Partial<ProfileHost> = {}): Promise<ProfileRuntime> => {
    const runtime = await ProfileRuntime.up(host(extra), profile);
    runtimes.push(runtime);
    return runtime;
  };
  const log = (): { what: string; name: string; at: number }[] =>
    fs.existsSync(path.join(folder, 'log'))
      ? fs
          .readFileSync(path.join(folder, 'log'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => {
            const [what, name, at] = line.split(' ');
            return { what, name, at: Number(at) };
          })
      : [];
  const phase = (runtime: ProfileRuntime, name: string) => runtime.statuses().find((status) => status.name === name)?.state.phase;
  const panes = (session: string) =>
    new Map(
      server
        .tmux('list-panes', '-s', '-t', `=${session}`, '-F', '#{@tsm-profile-pane} #{pane_id} #{pane_pid}')
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
        .map(([key, id, pid]) => [key, `${id} ${pid}`]),
    );

  it('builds every window in the profile\'s order, each pane in its folder, with the focused window and pane selected', async function () {
    fs.mkdirSync(path.join(folder, 'web'));
    const windows = ['editor', 'servers', 'logs', 'tests', 'shell'];
    const profile = profileOf(
      `session: order\nwindows:\n` +
        windows
          .map((name, w) => `  - name: ${name}\n${name === 'logs' ? '    focus: true\n' : ''}    panes:\n` + [0, 1, 2].map((p) => `      - cwd: ${p === 1 ? 'web' : '.'}\n${name === 'logs' && p === 2 ? '        focus: true\n' : ''}        command: "echo ${w}.${p}; exec sleep 3600"\n`).join(''))
          .join(''),
    );
    await up(profile);
    const rows = server.tmux('list-panes', '-s', '-t', '=order', '-F', '#{window_index} #{window_name} #{pane_index} #{b:pane_current_path} #{window_active} #{pane_active}').trim().split('\n');
    assert.deepEqual(
      rows.map((row) => row.split(' ').slice(0, 4).join(' ')),
      windows.flatMap((name, w) => [0, 1, 2].map((p) => `${w} ${name} ${p} ${p === 1 ? 'web' : path.basename(folder)}`)),
    );
    assert.deepEqual(rows.filter((row) => row.endsWith(' 1 1')).map((row) => row.split(' ').slice(0, 3).join(' ')), ['2 logs 2'], 'the focused window and its focused pane are the active ones');
  });

  it('brings a 10-service graph four levels deep up in dependency order, and down in reverse with 0 orphans', async function () {
    // level 0: a b; 1: c(a) d(b) e(a,b); 2: f(c) g(d,e); 3: h(f) i(g) j(f,g)
    const graph: Record<string, string[]> = { a: [], b: [], c: ['a'], d: ['b'], e: ['a', 'b'], f: ['c'], g: ['d', 'e'], h: ['f'], i: ['g'], j: ['f', 'g'] };
    const delays: Record<string, number> = { a: 0.3, b: 0.1, c: 0.2, d: 0.1, e: 0.1, f: 0.2, g: 0.1, h: 0.1, i: 0.1, j: 0.1 };
    const pane = (name: string) =>
      `      - name: ${name}\n        command: ./svc.sh ${name} ${delays[name]}\n        ready: { command: "test -f ready-${name}", interval: 50ms }\n` +
      (graph[name].length ? `        dependsOn: { ${graph[name].map((dep) => `${dep}: ready`).join(', ')} }\n` : '');
    const names = Object.keys(graph);
    const profile = profileOf(`session: graph\nwindows:\n  - name: one\n    panes:\n${names.slice(0, 5).map(pane).join('')}  - name: two\n    panes:\n${names.slice(5).map(pane).join('')}`);
    const runtime = await up(profile);
    await eventually('all ten ready', () => names.every((name) => phase(runtime, name) === 'running'), 15_000);
    const processes = await listProcesses();
    // Every process of every service: the login shells, the scripts and their sleeps.
    const pids = runtime.statuses().flatMap((status) => processTree(processes, Number(server.tmux('display-message', '-p', '-t', status.paneId!, '#{pane_pid}').trim())).map((info) => info.pid));
    assert.ok(pids.length >= 20);
    const events = log();
    const time = (what: string, name: string) => events.find((event) => event.what === what && event.name === name)?.at;
    for (const [name, dependencies] of Object.entries(graph)) {
      for (const dependency of dependencies) assert.ok(time('start', name)! >= time('ready', dependency)!, `${name} started before ${dependency} was ready`);
    }
    await runtime.down();
    const stops = log().filter((event) => event.what === 'stop');
    assert.equal(stops.length, 10, 'every service got its SIGTERM and stopped');
    const stopped = (name: string) => stops.find((event) => event.name === name)!.at;
    for (const [name, dependencies] of Object.entries(graph)) {
      for (const dependency of dependencies) assert.ok(stopped(dependency) >= stopped(name), `${dependency} stopped before its dependent ${name}`);
    }
    assert.deepEqual(pids.filter((pid) => processAlive(pid)), [], 'no process left');
    assert.throws(() => server.tmux('has-session', '-t', '=graph'), 'the session is closed');
  });

  it('sees every readiness kind pass, and a dependency timeout names the failing probe', async function () {
    const port = 20_000 + (process.pid % 20_000);
    const profile = profileOf(`session: probes
windows:
  - panes:
      - name: web
        command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')"
        ready: { http: "http://127.0.0.1:${port}/", interval: 100ms }
      - name: port
        command: sleep 300
        dependsOn: { web: started }
        ready: { tcp: ${port}, interval: 100ms }
      - name: early
        command: echo listening at once; sleep 300
        ready: { output: "listening at once" }
      - name: file
        command: ./svc.sh file 0.2
        ready: { command: "test -f ready-file", interval: 100ms }
      - name: never
        command: sleep 300
        ready: { tcp: 9, interval: 100ms }
      - name: waiter
        command: sleep 300
        dependsOn: { never: ready }
        dependencyTimeout: 1s
`);
    const runtime = await up(profile);
    for (const name of ['web', 'port', 'early', 'file']) await eventually(`${name} ready`, () => phase(runtime, name) === 'running', 10_000);
    const waiter = await eventually('the waiter to give up', () => runtime.statuses().find((status) => status.name === 'waiter' && status.state.phase === 'failed'), 10_000);
    assert.match((waiter.state as { message: string }).message, /"waiter" waited 1 s for "never" to be ready; .*last probe: 127\.0\.0\.1:9: connection refused/);
    assert.equal(runtime.statuses().find((status) => status.name === 'early')!.lastProbe?.message, 'printed "listening at once"', 'output printed at once is seen');
    await runtime.down();
  });

  it('reports exits exactly: 0, 1, 127, 130, 143 and SIGKILL', async function () {
    const cases: [string, string, string][] = [
      ['zero', 'exit 0', 'completed'],
      ['one', 'exit 1', 'exited 1'],
      ['missing', 'no-such-program-here', 'exited 127 (command not found)'],
      ['c130', 'exit 130', 'exited 130 (signal 2 in its shell)'],
      ['c143', 'exit 143', 'exited 143 (signal 15 in its shell)'],
      ['killed', 'kill -9 $$', 'killed by SIGKILL'],
    ];
    const profile = profileOf(`session: exits\nwindows:\n  - panes:\n${cases.map(([name, command]) => `      - { name: ${name}, command: "${command}", restart: never }\n`).join('')}`);
    const runtime = await up(profile);
    for (const [name, , expected] of cases) {
      const status = await eventually(`${name} to end`, () => runtime.statuses().find((candidate) => candidate.name === name && ['failed', 'completed'].includes(candidate.state.phase)), 10_000);
      if (expected === 'completed') assert.deepEqual(status.state, { phase: 'completed', exit: { code: 0, signal: null } });
      else assert.equal((status.state as { message: string }).message, expected, name);
    }
    assert.deepEqual(
      cases.map(([name]) => runtime.statuses().find((status) => status.name === name)!.lastExit),
      [0, 1, 127, 130, 143].map((code) => ({ code, signal: null })).concat([{ code: null, signal: 'SIGKILL' } as never]),
    );
    await runtime.down();
  });

  it('applies an edit to a live 20-pane session: the 16 untouched panes keep pane_id and pid; a second apply is a no-op', async function () {
    const pane = (name: string, command = 'sleep 300') => `      - { name: ${name}, command: "${command}" }\n`;
    const windowsOf = (names: string[][], edit: (name: string) => string = (name) => pane(name)) =>
      names.map((group, w) => `  - name: w${w}\n    panes:\n${group.map(edit).join('')}`).join('');
    const groups = [0, 1, 2, 3].map((w) => [0, 1, 2, 3, 4].map((p) => `s${w * 5 + p}`));
    const runtime = await up(profileOf(`session: live\nwindows:\n${windowsOf(groups)}`));
    await eventually('20 services running', () => runtime.statuses().filter((status) => status.state.phase === 'running').length === 20, 20_000);
    const before = panes('live');
    assert.equal(before.size, 20);
    // Edit s1, s7, s12; remove s19; add s20 to the last window.
    const editedGroups = groups.map((group) => group.filter((name) => name !== 's19'));
    editedGroups[3].push('s20');
    const edited = profileOf(`session: live\nwindows:\n${windowsOf(editedGroups, (name) => (['s1', 's7', 's12'].includes(name) ? pane(name, 'sleep 301') : pane(name)))}`);
    const diff = await runtime.apply(edited);
    assert.deepEqual([diff.changed, diff.added, diff.removed], [['s1', 's7', 's12'], ['s20'], ['s19']], describeDiff(diff).join('\n'));
    await eventually('20 services running after the edit', () => runtime.statuses().filter((status) => status.state.phase === 'running').length === 20, 20_000);
    const after = panes('live');
    const untouched = groups.flat().filter((name) => !['s1', 's7', 's12', 's19'].includes(name));
    assert.equal(untouched.length, 16);
    for (const name of untouched) assert.equal(after.get(name), before.get(name), `${name} kept its pane and process`);
    for (const name of ['s1', 's7', 's12']) {
      assert.equal(after.get(name)!.split(' ')[0], before.get(name)!.split(' ')[0], `${name} restarted in its own pane`);
      assert.notEqual(after.get(name), before.get(name), `${name} runs a new process`);
    }
    assert.equal(after.has('s19'), false);
    assert.ok(after.has('s20'));
    const second = await runtime.apply(edited);
    assert.ok(diffIsEmpty(second), describeDiff(second).join('\n'));
    assert.deepEqual(panes('live'), after, 'nothing changed the second time');
    await runtime.down();
  });

  it('a reloaded window adopts the running services without duplicates, and keeps the breaker state', async function () {
    const profile = profileOf(`session: adopt
windows:
  - panes:
      - { name: db, command: "./svc.sh db 0", ready: { command: "test -f ready-db", interval: 50ms } }
      - name: flaky
        command: exit 3
        backoff: { initialDelay: 0 }
        breaker: { failures: 3, window: 60s, cooldown: 1h, maxCooldown: 2h }
`);
    const first = await up(profile);
    await eventually('db ready', () => phase(first, 'db') === 'running', 10_000);
    const flaky = await eventually('the breaker to open', () => first.statuses().find((status) => status.name === 'flaky' && status.state.phase === 'failed'), 10_000);
    assert.equal(flaky.breaker.status, 'open');
    await first.flush();
    const before = panes('adopt');
    first.dispose();
    const second = await ProfileRuntime.find(host(), profile);
    runtimes.push(second!);
    assert.equal(phase(second!, 'db'), 'running', 'adopted as running');
    const adopted = second!.statuses().find((status) => status.name === 'flaky')!;
    assert.equal(adopted.state.phase, 'failed');
    assert.equal(adopted.breaker.status, 'open', 'the breaker stays open');
    assert.equal(adopted.restarts, flaky.restarts);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(panes('adopt'), before, 'no pane and no process started again');
    assert.equal(log().filter((event) => event.what === 'start').length, 1, 'db started once');
    // A restart after adoption respawns the same pane rather than opening a window.
    await second!.restart('db');
    await eventually('db ready again', () => phase(second!, 'db') === 'running' && log().filter((event) => event.what === 'start').length === 2, 10_000);
    assert.equal(panes('adopt').get('db')!.split(' ')[0], before.get('db')!.split(' ')[0]);
    assert.equal(server.tmux('list-windows', '-t', '=adopt').trim().split('\n').length, 1);
    await second!.down();
  });

  it('one process supervises a session: a second is refused while the first lives, and takes over once it lets go or is gone', async function () {
    const profile = profileOf(`session: leased
windows:
  - panes:
      - { name: db, command: "./svc.sh db 0" }
`);
    const windowA = newLeaseToken();
    const windowB = newLeaseToken();
    const first = await up(profile, { leaseToken: windowA });
    await eventually('db running', () => phase(first, 'db') === 'running', 10_000);
    await assert.rejects(ProfileRuntime.find(host({ leaseToken: windowB }), profile), (error: Error) => error instanceof SupervisedElsewhereError && /supervised by another window \(process \d+\)/.test(error.message));
    await assert.rejects(up(profile, { leaseToken: windowB }), SupervisedElsewhereError, 'Up from the second window does not start anything either');
    first.dispose();
    const second = await ProfileRuntime.find(host({ leaseToken: windowB }), profile);
    runtimes.push(second!);
    assert.equal(phase(second!, 'db'), 'running');
    assert.equal(server.tmux('show-options', '-v', '-t', 'leased', '@tsm-supervisor').trim(), windowB);
    // A holder whose process has ended (a window that crashed) holds nothing.
    const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    server.tmux('set-option', '-t', 'leased', '@tsm-supervisor', `${gone}-${Date.now()}-deadbeef`);
    second!.dispose();
    const third = await ProfileRuntime.find(host({ leaseToken: windowA }), profile);
    runtimes.push(third!);
    assert.equal(server.tmux('show-options', '-v', '-t', 'leased', '@tsm-supervisor').trim(), windowA);
    assert.equal(log().filter((event) => event.what === 'start').length, 1, 'db was started once, by the first');
    await third!.down();
  });

  it('runs nothing in an untrusted workspace', async function () {
    const profile = profileOf('session: untrusted\nhooks: { onStart: touch hooked }\nwindows:\n  - panes: [{ name: a, command: touch ran }]\n');
    await assert.rejects(ProfileRuntime.up(host({ mayRunCommands: () => false }), profile), UntrustedProfileError);
    assert.throws(() => server.tmux('has-session', '-t', '=untrusted'));
    assert.equal(fs.existsSync(path.join(folder, 'ran')) || fs.existsSync(path.join(folder, 'hooked')), false);
  });

  it('runs onStart and onStop with the project and session in their environment', async function () {
    const profile = profileOf('session: hooks\nhooks:\n  onStart: echo "$TSM_SESSION $TSM_PROJECT" > started\n  onStop: echo "$TSM_HOOK" > stopped\nwindows:\n  - panes: [{}]\n');
    const runtime = await up(profile);
    assert.equal(fs.readFileSync(path.join(folder, 'started'), 'utf8').trim(), `hooks ${folder}`);
    await runtime.down();
    assert.equal(fs.readFileSync(path.join(folder, 'stopped'), 'utf8').trim(), 'onStop');
  });

  it('loses no command when the login shell starts slowly (200 starts, a startup file that sleeps 3 s)', async function () {
    this.timeout(120_000);
    fs.writeFileSync(path.join(process.env.HOME!, '.profile'), 'sleep 3\n');
    try {
      const windows = [0, 1, 2, 3, 4].map((w) => `  - name: w${w}\n    panes:\n${Array.from({ length: 20 }, (_, p) => `      - { name: n${w * 20 + p}, command: "echo n${w * 20 + p} $$ >> started; exec sleep 300" }\n`).join('')}`);
      const runtime = await up(profileOf(`session: slow\nwindows:\n${windows.join('')}`));
      const started = (count: number) => () => {
        const text = fs.existsSync(path.join(folder, 'started')) ? fs.readFileSync(path.join(folder, 'started'), 'utf8').trim().split('\n') : [];
        return text.length >= count ? text : undefined;
      };
      await eventually('100 first starts', started(100), 60_000);
      // Each restart goes through the slow login shell again.
      await Promise.all(runtime.statuses().map((status) => runtime.restart(status.name)));
      const lines = await eventually('100 restarts', started(200), 60_000);
      assert.equal(new Set(lines).size, 200, 'every start ran its command once, as its own process');
      assert.equal(new Set(lines.map((line) => line.split(' ')[0])).size, 100);
      await runtime.down();
    } finally {
      fs.rmSync(path.join(process.env.HOME!, '.profile'), { force: true });
    }
  });

  it('reports every exit exactly across 500 runs: 0, 1, 127, 130, 143 and SIGKILL in turn', async function () {
    this.timeout(240_000);
    // Each run of a service takes the next outcome in turn and writes down which, before it ends.
    fs.writeFileSync(
      path.join(folder, 'outcome.sh'),
      `n=$(cat "count-$1" 2>/dev/null || echo 0); echo $((n + 1)) > "count-$1"
case $((n % 6)) in 0) o=0;; 1) o=1;; 2) o=127;; 3) o=130;; 4) o=143;; 5) o=KILL;; esac
echo "$o" >> "expected-$1"
case $o in KILL) kill -9 $$;; 127) exec no-such-program-here;; *) exit $o;; esac
`,
    );
    const services = 10;
    const runs = 50;
    const profile = profileOf(
      `session: many\nwindows:\n  - panes:\n` +
        Array.from({ length: services }, (_, i) => `      - { name: x${i}, command: "exec sh ./outcome.sh x${i}", restart: always, backoff: { initialDelay: 0, maxDelay: 0 }, breaker: { failures: 100000, window: 1s } }\n`).join(''),
    );
    const seen = new Map<string, string[]>();
    const runtime = await up(profile, {});
    runtime.onDidChangeState((event) => {
      if (event.state.phase !== 'restarting' || event.previous.phase === 'restarting') return;
      const exit = runtime.statuses().find((status) => status.name === event.unit)!.lastExit!;
      const list = seen.get(event.unit) ?? [];
      list.push(exit.signal ? exit.signal.replace('SIG', '') : String(exit.code));
      seen.set(event.unit, list);
    });
    await eventually(`${services * runs} exits`, () => [...seen.values()].every((list) => list.length >= runs) && seen.size === services, 200_000);
    await runtime.down();
    let total = 0;
    for (const [unit, reported] of seen) {
      const expected = fs.readFileSync(path.join(folder, `expected-${unit}`), 'utf8').trim().split('\n');
      assert.deepEqual(reported.join(" "), expected.slice(0, reported.length).join(" "), `${unit}: each exit reported as it happened, once, in order`);
      total += reported.length;
    }
    assert.ok(total >= services * runs, `${total} exits`);
  });
});

/** A fake service: logs start, becomes ready after $2 seconds (a file appears), logs its stop on SIGTERM. */
const SERVICE_SCRIPT = `#!/bin/sh
now() { date +%s%3N; }
echo "start $1 $(now)" >> log
trap 'echo "stop $1 $(now)" >> log; exit 0' TERM
sleep "$2"
touch "ready-$1"
echo "ready $1 $(now)" >> log
while :; do sleep 1 & wait $!; done
`;
