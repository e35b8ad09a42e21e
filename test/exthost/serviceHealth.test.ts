import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, eventually, execute, killServer } from './helpers';

interface ServiceRow {
  readonly name: string;
  readonly phase: string;
  readonly restarts: number;
  readonly breaker: string;
}

/**
 * The health report the status bar's service item opens (Tmux: Show Health): a crash-looping
 * service whose breaker opened is listed first, and picking it restarts it.
 */
describe('Health report: failing services', function () {
  this.timeout(60_000);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const file = path.join(folder, '.tmux-session.yaml');
  const runs = path.join(folder, 'flaky-runs');
  const services = () => execute<ServiceRow[]>('serviceStatuses');
  const runCount = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);

  before(async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    await killServer();
    await api();
    fs.writeFileSync(
      file,
      `session: exthost-health
windows:
  - panes:
      - name: flaky
        command: "echo run >> ${runs}; sleep 0.2; exit 1"
        backoff: { initialDelay: 100ms, maxDelay: 200ms }
        breaker: { failures: 2, window: 60s, cooldown: 10m, maxCooldown: 20m }
`,
    );
  });

  after(async function () {
    await execute('down');
    fs.rmSync(file, { force: true });
    fs.rmSync(runs, { force: true });
    await killServer();
  });

  it('lists the service with its breaker open first, and picking it restarts it', async function () {
    const started = await execute<string[] | undefined>('up');
    assert.deepEqual(started, ['flaky'], 'Up failed (it showed the error and wrote it to the Tmux log)');
    await eventually('the breaker open', async () => (await services()).find((row) => row.name === 'flaky')?.breaker === 'open', 20_000).catch(async (error) => {
      throw new Error(`${(error as Error).message}; services: ${JSON.stringify(await services())}; runs: ${runCount()}`);
    });
    const before = runCount();
    assert.equal(before, 2, 'two failures opened the breaker; no restart since');

    const report = execute('showHealth');
    let done = false;
    void report.finally(() => (done = true));
    // The first row the pick can select is the failing service: accepting it restarts it.
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (!done) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    await report;
    await eventually('flaky ran again after the manual restart', () => runCount() > before, 10_000);
    const flaky = (await services()).find((row) => row.name === 'flaky')!;
    assert.notEqual(flaky.breaker, 'open', 'a manual restart closes the breaker');
  });
});
