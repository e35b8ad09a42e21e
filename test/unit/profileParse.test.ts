import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile, ProfileError } from '../../src/core/profiles/parse';
import { profileJsonSchema } from '../../src/core/profiles/schema';

const FILE = '/projects/shop/.tmux-session.yaml';

/** The problems a bad profile gets, as `line:column: message`. */
function problems(text: string): string[] {
  try {
    parseProfile(text, FILE);
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    return error.issues.map((issue) => `${issue.line}:${issue.column}: ${issue.message}`);
  }
  assert.fail('the profile was accepted');
}

const GOOD = `session: shop
env: { NODE_ENV: development }
hooks:
  onStart: echo up
windows:
  - name: services
    layout: tiled
    panes:
      - name: db
        command: ./db.sh
        ready: { tcp: 5432, interval: 200ms }
        stop: { signal: SIGINT, timeout: 5s }
      - name: api
        command: npm run dev
        cwd: api
        dependsOn: { db: ready }
        ready: { http: "http://127.0.0.1:3000/health" }
        health: { http: "http://127.0.0.1:3000/health", failureThreshold: 2 }
        restart: always
        backoff: { initialDelay: 500ms, maxDelay: 1m }
        breaker: { failures: 3, window: 30s, cooldown: 10s }
  - name: edit
    focus: true
    panes:
      - command: vim
      - {}
`;

describe('profile files', function () {
  it('reads a good profile: session, folders, env, windows, panes and services as units', function () {
    const profile = parseProfile(GOOD, FILE);
    assert.equal(profile.session, 'shop');
    assert.equal(profile.root, '/projects/shop');
    assert.deepEqual(profile.hooks, { onStart: 'echo up' });
    assert.deepEqual(profile.windows.map((window) => [window.name, window.layout, window.focus, window.panes.length]), [
      ['services', 'tiled', false, 2],
      ['edit', undefined, true, 2],
    ]);
    const [db, api] = profile.windows[0].panes;
    assert.equal(api.cwd, '/projects/shop/api');
    assert.deepEqual(api.env, { NODE_ENV: 'development' });
    assert.deepEqual(db.unit, { name: 'db', ready: { check: { kind: 'tcp', port: 5432 }, intervalMs: 200 }, stop: { method: { kind: 'signal', signal: 'SIGINT' }, timeoutMs: 5000 } });
    assert.deepEqual(api.unit?.dependsOn, [{ name: 'db', condition: 'ready' }]);
    assert.deepEqual(api.unit?.backoff, { initialDelayMs: 500, maxDelayMs: 60_000 });
    assert.deepEqual(api.unit?.breaker, { failureThreshold: 3, windowMs: 30_000, cooldownMs: 10_000 });
    assert.equal(api.unit?.health?.failureThreshold, 2);
    assert.equal(profile.windows[1].panes[0].unit, undefined, 'a pane without a name is not a service');
    assert.deepEqual(profile.windows[1].panes.map((pane) => pane.key), ['edit/1', 'edit/2']);
  });

  it('takes the session name from the folder when none is given', function () {
    assert.equal(parseProfile('windows:\n  - panes: [{}]\n', '/x/my.app/.tmux-session.yaml').session, 'my-app');
  });

  it('names an unknown key with its line and column, and suggests the key meant', function () {
    assert.deepEqual(problems('windows:\n  - panes:\n      - name: db\n        comand: ./db.sh\n'), ['4:9: unknown key "comand" in windows[0].panes[0]; did you mean "command"?']);
    assert.deepEqual(problems('sesion: x\nwindows: [{ panes: [{}] }]\n'), ['1:1: unknown key "sesion" in the profile; did you mean "session"?']);
  });

  it('names a dependency cycle, in order, at the dependsOn entry', function () {
    const text = `windows:
  - panes:
      - { name: a, command: a, dependsOn: { c: started } }
      - { name: b, command: b, dependsOn: { a: ready } }
      - { name: c, command: c, dependsOn: { b: ready } }
`;
    assert.deepEqual(problems(text), ['3:45: windows[0].panes[0].dependsOn: dependency cycle a → c → b → a; remove one of these dependsOn entries']);
  });

  it('refuses a bad regex, a bad URL, a missing command, an unknown dependency, each where it is', function () {
    const text = `windows:
  - panes:
      - name: web
        command: npm start
        ready:
          output: "listening (on"
      - name: api
        command: ./api
        ready: { http: "localhost:3000" }
        dependsOn: { dbb: ready }
      - name: worker
        restart: always
`;
    const found = problems(text);
    assert.equal(found.length, 4, found.join('\n'));
    assert.match(found[0], /^6:19: windows\[0\]\.panes\[0\]\.ready\.output: pattern \/listening \(on\/ is not a valid regular expression/);
    assert.match(found[1], /^9:24: windows\[0\]\.panes\[1\]\.ready\.http: "localhost:3000" is not an http or https URL/);
    assert.match(found[2], /^10:22: windows\[0\]\.panes\[1\]\.dependsOn: depends on "dbb", which is not a service/);
    assert.match(found[3], /^11:9: windows\[0\]\.panes\[2\]: missing command/);
  });

  it('refuses wrong types, bad durations, two probe kinds and YAML syntax errors with line and column', function () {
    assert.deepEqual(problems('windows:\n  - panes:\n      - { name: a, command: x, restart: sometimes }\n'), [
      '3:41: windows[0].panes[0].restart: expected one of "never"|"on-failure"|"always"',
    ]);
    assert.match(problems('windows:\n  - panes:\n      - { name: a, command: x, ready: { tcp: 1, interval: 2 weeks } }\n')[0], /^3:59: windows\[0\]\.panes\[0\]\.ready\.interval: /);
    assert.match(problems('windows:\n  - panes:\n      - { name: a, command: x, ready: { tcp: 1, command: "true" } }\n')[0], /^3:39: .*ready: a probe has one check; this one has tcp and command/);
    assert.match(problems('windows:\n  - panes: [\n')[0], /^\d+:\d+: not valid YAML/);
    assert.deepEqual(problems('session: a.b\nwindows: [{ panes: [{}] }]\n').map((line) => line.slice(0, 25)), ['1:10: session: tmux does ']);
    assert.deepEqual(problems('windows: []\n'), ['1:10: windows: a profile needs at least one window']);
    assert.deepEqual(problems(''), ['1:1: the file is empty; a profile needs at least `windows:` with one pane']);
  });

  it('reads declared agents with their limits, and refuses a task declared twice or an unknown key, where it is', function () {
    const profile = parseProfile(`windows: [{ panes: [{}] }]
agents:
  - { kind: claude, task: fix-login, prompt: "fix it", worktree: true, baseBranch: main, timeout: 1h, stalledAfter: 2m, noProgressTimeout: 10m, retries: 2, memoryWarnMb: 1024, memoryStopMb: 2048 }
  - { kind: codex, task: docs }
`, FILE);
    assert.deepEqual(profile.agents, [
      { kind: 'claude', task: 'fix-login', prompt: 'fix it', worktree: true, baseBranch: 'main', limits: { wallClockTimeoutMs: 3_600_000, stalledAfterMs: 120_000, noProgressTimeoutMs: 600_000, retries: 2, memoryWarnBytes: 1024 ** 3, memoryStopBytes: 2 * 1024 ** 3 } },
      { kind: 'codex', task: 'docs', worktree: false, limits: {} },
    ]);
    assert.deepEqual(parseProfile('windows: [{ panes: [{}] }]\n', FILE).agents, []);
    assert.deepEqual(problems('windows: [{ panes: [{}] }]\nagents:\n  - { kind: claude, task: a }\n  - { kind: claude, task: a }\n'), ['4:27: agents[1].task: the agent claude "a" is declared twice; give each task its own name']);
    assert.match(problems('windows: [{ panes: [{}] }]\nagents:\n  - { kind: claude, task: a, model: opus }\n')[0], /^3:30: unknown key "model" in agents\[0\]; known keys: kind, task, prompt/);
  });

  it('ships the JSON Schema generated from the same definition', function () {
    const shipped = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../schemas/tmux-session.schema.json'), 'utf8'));
    assert.deepEqual(shipped, JSON.parse(JSON.stringify(profileJsonSchema())), 'schemas/tmux-session.schema.json is stale: run npm run schema');
    assert.equal(shipped.additionalProperties, false);
    assert.ok(shipped.properties.windows.items.properties.panes.items.properties.dependsOn);
  });
});
