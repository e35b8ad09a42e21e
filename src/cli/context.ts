import { Runner } from '../tmux/commands';
import { runTmuxCommands } from '../tmux/exec';
import { Tree } from '../tmux/model';
import { OneShotQueue, splitLines } from '../tmux/oneShot';
import { ServerAddress } from '../tmux/server';
import { parseSnapshot, snapshotCommands } from '../tmux/snapshot';

/** What every command gets: where tmux and the data are, how to print, and how to run tmux. */
export interface CliContext {
  readonly address: ServerAddress;
  readonly dataDir: string;
  /** --json: print one JSON document (follow: one per line) instead of text. */
  readonly json: boolean;
  /**
   * Runs tmux commands as short tmux processes, in the order asked. Never a control-mode client:
   * on tmux through 3.7c one can crash the whole server while it connects (README, How it works).
   */
  readonly run: Runner;
  /**
   * Aborts on Ctrl-C (SIGINT, SIGTERM, SIGHUP) for commands marked cleansUpOnInterrupt, and when
   * standard output's reader goes away: a follow or wait then closes its pipe before exiting.
   */
  readonly signal: AbortSignal;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export function createContext(address: ServerAddress, dataDir: string, json: boolean, signal: AbortSignal): CliContext {
  const queue = new OneShotQueue(address);
  return {
    address,
    dataDir,
    json,
    run: (argv) => queue.run(argv),
    signal,
    stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/** Prints `value` as one JSON document on standard output. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout(JSON.stringify(value, null, 2));
}

/** The whole tree in one tmux process: every pane with its window and session, then the clients. */
export async function readTree(address: ServerAddress): Promise<Tree> {
  const marker = `tsm-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const [panes, clients] = snapshotCommands();
  const { stdout } = await runTmuxCommands(address, [panes, ['display-message', '-p', marker], clients], { timeoutMs: 10_000 });
  const lines = splitLines(stdout);
  const split = lines.indexOf(marker);
  if (split < 0) throw new Error('tmux did not answer the listing as expected; try again.');
  return parseSnapshot(lines.slice(0, split), lines.slice(split + 1));
}
