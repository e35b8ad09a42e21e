import { findById } from '../src/tmux/model';
import { TmuxService } from '../src/tmux/service';
import { Report } from './report';
import { settle } from './eventsBench';
import { msSince, now, sleep, summarize, waitFor } from './stats';

export const SECTION = '3. send-keys → echo seen';

/** Resolves with the time `paneId`'s output, since this call, contains `token`. */
function whenEcho(service: TmuxService, paneId: string, token: string, timeoutMs: number): Promise<bigint> {
  return new Promise<bigint>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`no echo of ${token} within ${timeoutMs} ms (saw ${JSON.stringify(text.slice(-80))})`));
    }, timeoutMs);
    const subscription = service.onOutput((output) => {
      if (output.paneId !== paneId) return;
      text += output.text;
      if (!text.includes(token)) return;
      const at = now();
      clearTimeout(timer);
      subscription.dispose();
      resolve(at);
    });
  });
}

/**
 * In a pane of the session the control client is attached to (only those panes' output reaches
 * it), runs `cat`, so the terminal echoes what we type; then times send-keys until the echo comes
 * back as %output.
 */
export async function benchSendKeys(
  service: TmuxService,
  attachedSessionId: string,
  report: Report,
  trials: number,
  where: { readonly label: string; readonly target: boolean },
): Promise<void> {
  const session = findById(service.tree, attachedSessionId);
  if (!session || session.kind !== 'session') throw new Error(`attached session ${attachedSessionId} not in the tree`);
  const paneId = session.windows[0].panes[0].id;
  await service.run(['respawn-pane', '-k', '-t', paneId, 'cat']);
  // The program watch reports the new program within a second; let that snapshot pass first.
  await waitFor('cat running in the pane', () => {
    const pane = findById(service.tree, paneId);
    return pane?.kind === 'pane' && pane.currentCommand === 'cat';
  }, 5000).catch(() => undefined);
  await settle(service, 100);

  const samples: number[] = [];
  const acks: number[] = [];
  const warmup = 20;
  for (let i = 0; i < warmup + trials; i++) {
    const token = `k${i}j`;
    const echoed = whenEcho(service, paneId, token, 3000);
    const start = now();
    const sent = service.run(['send-keys', '-t', paneId, '-l', '--', token]).then(() => now());
    const [at, ackAt] = await Promise.all([echoed, sent]);
    if (i >= warmup) {
      samples.push(msSince(start, at));
      acks.push(msSince(start, ackAt));
    }
    // The terminal's line buffer holds 4 KiB; end the line now and then, untimed.
    if (i % 25 === 24) {
      const flushed = whenEcho(service, paneId, `${token}\r\n`, 3000).catch(() => undefined);
      await service.run(['send-keys', '-t', paneId, 'Enter']);
      await flushed;
      await sleep(10);
    }
  }
  const summary = summarize(samples);
  const verdict = where.target ? { target: '≤ 1 ms', pass: summary.median <= 1 } : {};
  report.add({ section: SECTION, label: `${where.label}: send-keys -l → echo in onOutput (cat)`, unit: 'ms', summary, ...verdict });
  report.add({ section: SECTION, label: `${where.label}: send-keys → its reply (%end)`, unit: 'ms', summary: summarize(acks) });
}
