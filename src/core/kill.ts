import { killPane, killSession, killWindow, Runner } from '../tmux/commands';
import { TargetNotFoundError } from '../tmux/errors';
import { Pane, TmuxObject } from '../tmux/model';
import { isAlive, isShell, listProcesses, processTree, signal } from './processes';

export interface KillTimings {
  /** After C-c, how long programs get to exit before SIGTERM. */
  readonly interruptWaitMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  readonly terminateWaitMs: number;
}

export type KillStep = 'interrupt' | 'terminate' | 'kill' | 'close';

export interface KillReport {
  /** The last step that was needed: `interrupt` means every program stopped on C-c. */
  readonly lastStep: KillStep;
  /** Processes that got SIGTERM / SIGKILL. */
  readonly terminated: number;
  readonly killed: number;
}

/**
 * Ends a session, window or pane the way a careful user would: C-c to every pane (programs save
 * and quit), then SIGTERM to what still runs, then SIGKILL, and only then closes it in tmux, which
 * hangs up the shells. Each wait ends early once nothing is left running.
 */
export async function killGracefully(run: Runner, target: TmuxObject, timings: KillTimings, onStep?: (step: KillStep) => void): Promise<KillReport> {
  const panes = panesOf(target).filter((pane) => !pane.dead);
  let lastStep: KillStep = 'close';
  let terminated = 0;
  let killed = 0;

  const programs = async (): Promise<number[]> => {
    const processes = await listProcesses();
    return panes.flatMap((pane) => processTree(processes, pane.pid).filter((info) => !(info.pid === pane.pid && isShell(info.command))).map((info) => info.pid));
  };

  let running = await programs();
  if (running.length > 0) {
    onStep?.('interrupt');
    lastStep = 'interrupt';
    await Promise.all(panes.map((pane) => run(['send-keys', '-t', pane.id, 'C-c']).catch(ignoreGone)));
    running = await waitForExit(running, timings.interruptWaitMs);
  }
  if (running.length > 0) {
    onStep?.('terminate');
    lastStep = 'terminate';
    terminated = running.length;
    running.forEach((pid) => signal(pid, 'SIGTERM'));
    running = await waitForExit(running, timings.terminateWaitMs);
  }
  if (running.length > 0) {
    onStep?.('kill');
    lastStep = 'kill';
    killed = running.length;
    running.forEach((pid) => signal(pid, 'SIGKILL'));
    await waitForExit(running, 1000);
  }
  onStep?.('close');
  await closeInTmux(run, target).catch(ignoreGone);
  return { lastStep, terminated, killed };
}

function panesOf(target: TmuxObject): Pane[] {
  switch (target.kind) {
    case 'session':
      return target.windows.flatMap((window) => [...window.panes]);
    case 'window':
      return [...target.panes];
    case 'pane':
      return [target];
  }
}

async function closeInTmux(run: Runner, target: TmuxObject): Promise<void> {
  if (target.kind === 'session') await killSession(run, target.id);
  else if (target.kind === 'window') await killWindow(run, target.id);
  else await killPane(run, target.id);
}

/** A pane whose last program ended closes on its own; that is success, not an error. */
function ignoreGone(error: unknown): void {
  if (error instanceof TargetNotFoundError) return;
  if (error instanceof Error && /no server running|can't find|not found/i.test(error.message)) return;
  throw error;
}

async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    alive = alive.filter(isAlive);
  }
  return alive;
}
