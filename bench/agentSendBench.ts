/**
 * Agents: a prompt sent → the agent confirms it submitted, against the stand-in TUI (bracketed
 * paste, Codex's paste-burst rule), and what a fixed-sleep sender (send-keys the text, sleep
 * 100 ms, Enter, as claude-squad does) gets through the same TUI. On a private server of its own.
 */
import { performance } from 'node:perf_hooks';
import { standinReader } from '../src/core/agents/inputBox';
import { sendPrompt, SendResult } from '../src/core/agents/send';
import { OutputSubscription, PaneOutputHub } from '../src/core/output/outputHub';
import { PaneId } from '../src/tmux/model';
import { OneShotQueue } from '../src/tmux/oneShot';
import { hostilePrompt, sha256, STANDIN_TUI, StandinAgent, taken } from '../test/unit/helpers/standinTui';
import { PrivateServer } from './privateServer';
import { Report } from './report';
import { sleep, summarize, waitFor } from './stats';

export const SECTION = '15. agents: prompt sent → confirmed submitted (stand-in TUI)';

/** How long after its Enter a message may still show up in the stand-in's log and count. */
const LATE_MS = 3000;

export async function benchAgentSend(report: Report, options: { quick: boolean }): Promise<void> {
  const server = new PrivateServer();
  const subscriptions: OutputSubscription[] = [];
  let hub: PaneOutputHub | undefined;
  try {
    await server.buildScript(['new-session', '-d', '-s', 'agents', '-x', '120', '-y', '40', 'exec sleep 100000'], ['set-option -g default-shell /bin/sh']);
    const queue = new OneShotQueue(server.address);
    const run = (argv: readonly string[]) => queue.run(argv);
    const shared = new PaneOutputHub(run, server.address);
    hub = shared;
    let agents = 0;
    const startAgent = async (): Promise<StandinAgent> => {
      const log = `${server.folder}/agent-${++agents}.log`;
      const pane = (await server.tmux('new-window', '-d', '-t', 'agents:', '-P', '-F', '#{pane_id}', `exec '${process.execPath}' '${STANDIN_TUI}' --ignore-ms 0 --log '${log}'`)).trim() as PaneId;
      await waitFor('the stand-in box', async () => (await server.tmux('capture-pane', '-p', '-t', pane)).includes('› '), 10_000);
      return { pane, log };
    };
    const trials = options.quick ? 10 : 50;

    // Ours, with the pane's output opened for the send alone, then with it already followed (as a
    // view following the agent would), where the send shares that pipe.
    for (const followed of [false, true]) {
      const agent = await startAgent();
      if (followed) subscriptions.push(await shared.open(agent.pane, { onText: () => undefined }));
      const times: number[] = [];
      const results: SendResult[] = [];
      const texts: string[] = [];
      for (let i = 0; i < trials; i++) {
        const text = hostilePrompt(`bench ${followed ? 'followed' : 'alone'} ${i}`);
        texts.push(text);
        const started = performance.now();
        const result = await sendPrompt({ run, address: server.address, paneId: agent.pane, text, inputBox: standinReader, open: shared.open });
        times.push(performance.now() - started);
        results.push(result);
      }
      await sleep(200);
      const delivered = deliveredCount(agent, texts);
      const label = followed ? 'sendPrompt, pane output already followed' : 'sendPrompt, pane output opened for the send';
      const summary = summarize(times);
      report.add({ section: SECTION, label: `${label}: send → confirmed submitted (2 KB, multi-line)`, unit: 'ms', summary });
      report.add({ section: SECTION, label: `${label}: the same, p95`, unit: 'ms', value: summary.p95, target: '≤ 3000', pass: summary.p95 <= 3000 });
      report.add({ section: SECTION, label: `${label}: delivered exactly once, byte-exact`, unit: `of ${trials}`, value: delivered, target: `${trials}`, pass: delivered === trials });
      report.add({ section: SECTION, label: `${label}: reported submitted`, unit: `of ${trials}`, value: results.filter((r) => r.status === 'submitted').length });
      console.log(`   ${label}: median ${summary.median.toFixed(0)} ms, p95 ${summary.p95.toFixed(0)} ms, delivered ${delivered}/${trials}`);
    }

    // The fixed-sleep sender, with the same 2 KB prompt and with a one-line prompt.
    for (const kind of ['2 KB multi-line', 'one line, 60 characters'] as const) {
      const agent = await startAgent();
      const times: number[] = [];
      const texts: string[] = [];
      for (let i = 0; i < trials; i++) {
        const text = kind === '2 KB multi-line' ? hostilePrompt(`fixed sleep ${i}`) : `fixed sleep ${i}: rename the helper and update its callers`.padEnd(60, '.');
        texts.push(text);
        const started = performance.now();
        await run(['send-keys', '-t', agent.pane, '-l', '--', text]);
        await sleep(100);
        await run(['send-keys', '-t', agent.pane, 'Enter']);
        times.push(performance.now() - started);
        // What it left in the box goes before the next try, so each try starts from an empty box.
        await sleep(150);
        await run(['send-keys', '-t', agent.pane, 'C-u']);
        await sleep(50);
      }
      await sleep(LATE_MS / 3);
      const delivered = deliveredCount(agent, texts);
      report.add({ section: SECTION, label: `fixed sleep (send-keys, 100 ms, Enter), ${kind}: time until it returns`, unit: 'ms', summary: summarize(times) });
      report.add({ section: SECTION, label: `fixed sleep, ${kind}: delivered exactly once, byte-exact`, unit: `of ${trials}`, value: delivered });
      console.log(`   fixed sleep, ${kind}: median ${summarize(times).median.toFixed(0)} ms, delivered ${delivered}/${trials}`);
    }
    report.note(
      'agents: the stand-in TUI takes 6 characters at most 8 ms apart for a paste and an Enter within 120 ms after one (or after a bracketed paste) ' +
        'for a line break, as Codex does; sendPrompt waits until the pane printed nothing for 150 ms after its paste, then confirms from the input box. ' +
        'The fixed-sleep sender types the text with send-keys -l (one burst), so its Enter lands inside the 120 ms window or its carriage returns break lines; ' +
        'it reports nothing, so its time is until it returns, not until a confirmation.',
    );
  } finally {
    for (const subscription of subscriptions) await subscription.stop();
    await hub?.dispose();
    server.kill();
  }
}

/** Texts the stand-in took exactly once, byte for byte, and nothing it took that was not sent. */
function deliveredCount(agent: StandinAgent, texts: readonly string[]): number {
  const log = taken(agent).map((entry) => entry.sha256);
  return texts.filter((text) => log.filter((hash) => hash === sha256(text)).length === 1).length;
}
