/**
 * What following tmux without a control-mode client costs (the default on tmux through 3.7c,
 * whose control mode can crash the server): the same measures taken with `connection: 'hooks'`
 * and `connection: 'control'` on the same 600-pane server, in the same run.
 */
import { countPanes, findById } from '../src/tmux/model';
import { ConnectionMode, TmuxService } from '../src/tmux/service';
import { settle, whenTree } from './eventsBench';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { msSince, now, sleep, summarize, waitFor } from './stats';

export const SECTION = '9. connection without control mode (hooks) vs control mode';

const MODES: readonly ConnectionMode[] = ['hooks', 'control'];

async function connected(server: PrivateServer, connection: ConnectionMode, panes: number, watchPrograms = true): Promise<TmuxService> {
  const service = new TmuxService(server.address, { connection, watchPrograms });
  await service.start();
  await waitFor(`${connection} service ok`, () => service.state.kind === 'ok' && countPanes(service.tree) === panes, 20_000);
  await settle(service, 200);
  return service;
}

export async function benchConnection(server: PrivateServer, panes: number, report: Report, options: { quick: boolean }): Promise<void> {
  const trials = options.quick ? 5 : 20;
  for (const mode of MODES) {
    // Connect: from start() to a tree with every pane.
    const connects: number[] = [];
    for (let i = 0; i < (options.quick ? 2 : 5); i++) {
      const start = now();
      const service = await connected(server, mode, panes);
      connects.push(msSince(start));
      await service.dispose();
    }
    report.add({ section: SECTION, label: `${mode}: connect, start() → whole tree`, unit: 'ms', summary: summarize(connects) });

    const service = await connected(server, mode, panes);
    try {
      const reads: number[] = [];
      for (let i = 0; i < trials + 3; i++) {
        const start = now();
        await service.refresh();
        if (i >= 3) reads.push(msSince(start));
      }
      report.add({ section: SECTION, label: `${mode}: whole-tree read, ${panes} panes`, unit: 'ms', summary: summarize(reads) });

      const commands: number[] = [];
      for (let i = 0; i < trials * 5 + 10; i++) {
        const start = now();
        await service.run(['display-message', '-p', 'x']);
        if (i >= 10) commands.push(msSince(start));
      }
      report.add({ section: SECTION, label: `${mode}: one command (display-message -p) round trip`, unit: 'ms', summary: summarize(commands) });

      // An outside `tmux split-window -d` in some session → the tree shows the pane.
      const changes: number[] = [];
      const sessions = service.tree.sessions.map((session) => session.id);
      for (let i = 0; i < trials; i++) {
        const target = sessions[(i * 7) % sessions.length];
        let paneId = '';
        const seen = whenTree(service, (tree) => paneId !== '' && !!findById(tree, paneId), 10_000).promise;
        const start = now();
        paneId = (await server.tmux('split-window', '-d', '-t', target, '-P', '-F', '#{pane_id}')).trim();
        const at = await seen;
        changes.push(Number(at - start) / 1e6);
        const gone = whenTree(service, (tree) => !findById(tree, paneId), 10_000).promise;
        await server.tmux('kill-pane', '-t', paneId);
        await gone;
        await settle(service, 50);
      }
      report.add({ section: SECTION, label: `${mode}: outside split-window -d → tree (from spawning the command)`, unit: 'ms', summary: summarize(changes) });
    } finally {
      await service.dispose();
    }

    // Idle: commands our side sends in 10 s while nothing changes, with the program watch on and off.
    for (const watchPrograms of [true, false]) {
      const idle = await connected(server, mode, panes, watchPrograms);
      try {
        await sleep(500);
        const before = idle.getStats().commandsSent;
        const windowMs = options.quick ? 2000 : 10_000;
        await sleep(windowMs);
        report.add({ section: SECTION, label: `${mode}: commands sent while idle ${windowMs / 1000} s, watchPrograms ${watchPrograms ? 'on' : 'off'}`, unit: '', value: idle.getStats().commandsSent - before });
      } finally {
        await idle.dispose();
      }
    }
  }
}
