import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureSchema, errorSchema, killSchema, lsSchema, newSchema } from '../../src/cli/schemas';
import { buildCli, runCli } from './helpers/cli';
import { SESSION_NAMES } from './helpers/hostileNames';
import { eventually, PrivateTmux } from './helpers/tmux';

/**
 * The hostile session names of hostile.test.ts, through the command-line tool: each is created
 * with `new`, found again by its exact name by `ls`, `send`, `capture` and `kill`, or refused
 * with exit 2 and the same clear message, and nothing smuggled in ever runs.
 */
describe('command-line tool: hostile session names', function () {
  this.timeout(300_000);
  let server: PrivateTmux;
  const cli = (...args: string[]) => runCli(['-S', server.socketPath, ...args]);
  const exact = SESSION_NAMES.filter(([, outcome]) => outcome === 'exact').map(([name]) => name);
  const refused = SESSION_NAMES.flatMap(([name, outcome]) => (outcome === 'exact' ? [] : [[name, outcome] as const]));
  const ids = new Map<string, string>();

  before(function () {
    buildCli();
    server = new PrivateTmux();
    // A plain first session keeps the server up whatever a test does to the others.
    server.newSession('keeper');
  });
  after(() => server.kill());

  it('creates every acceptable name exactly as typed ("--" first, so "-t" and "--" are names)', async function () {
    for (const name of exact) {
      const created = await cli('new', '--json', '--cwd', os.tmpdir(), '--', name);
      assert.equal(created.code, 0, `${JSON.stringify(name)}: ${created.stderr}`);
      const { id, name: reported } = newSchema.parse(JSON.parse(created.stdout));
      assert.equal(reported, name);
      ids.set(name, id);
    }
    const listing = lsSchema.parse(JSON.parse((await cli('ls', '--json')).stdout));
    for (const name of exact) assert.equal(listing.sessions.find((s) => s.id === ids.get(name))?.name, name, JSON.stringify(name));
    assert.equal(listing.sessions.length, exact.length + 1, 'no session besides ours (no PWNED)');
  });

  it('refuses the others with exit 2 and the reason, creating nothing', async function () {
    for (const [name, message] of refused) {
      const result = await cli('new', '--json', '--', name);
      assert.equal(result.code, 2, JSON.stringify(name));
      const { error } = errorSchema.parse(JSON.parse(result.stderr));
      assert.match(error.message, message, JSON.stringify(name));
    }
    assert.equal(lsSchema.parse(JSON.parse((await cli('ls', '--json')).stdout)).sessions.length, exact.length + 1);
  });

  it('sends to and captures every session by its exact name', async function () {
    for (const name of exact) {
      const sent = await cli('send', '--', name, `echo mark-${ids.get(name)!.slice(1)}`);
      assert.equal(sent.code, 0, `${JSON.stringify(name)}: ${sent.stderr}`);
    }
    for (const name of exact) {
      await eventually(`the text in ${JSON.stringify(name)}`, async () => {
        const captured = captureSchema.parse(JSON.parse((await cli('capture', '--json', '--', name)).stdout));
        return captured.text.includes(`echo mark-${ids.get(name)!.slice(1)}`);
      });
    }
  });

  it('kills every session by its exact name, and no canary ever ran', async function () {
    for (const name of exact) {
      const killed = await cli('kill', '--json', '--interrupt-wait', '100ms', '--', name);
      assert.equal(killed.code, 0, `${JSON.stringify(name)}: ${killed.stderr}`);
      assert.equal(killSchema.parse(JSON.parse(killed.stdout)).target.id, ids.get(name), JSON.stringify(name));
    }
    const left = lsSchema.parse(JSON.parse((await cli('ls', '--json')).stdout)).sessions.map((s) => s.name);
    assert.deepEqual(left, ['keeper']);
    for (const canary of ['pwned-1', 'pwned-2', 'pwned-3']) assert.equal(fs.existsSync(path.join(os.homedir(), canary)), false, canary);
  });
});
