import * as os from 'node:os';
import { InvalidInputError } from '../tmux/errors';
import { Pane } from '../tmux/model';
import { isShell, listProcesses } from './processes';

export interface SignalReport {
  readonly signal: NodeJS.Signals;
  /** The process group signalled (the terminal's foreground job), when there was one. */
  readonly processGroup?: number;
  /** The process signalled when there was no foreground job: the pane's own first process. */
  readonly pid?: number;
}

/**
 * `INT`, `SIGINT`, `sigint` or `2` → `SIGINT`. Throws InvalidInputError naming a few real ones for
 * anything else: a typo must not become a different signal.
 */
export function parseSignalName(input: string): NodeJS.Signals {
  const signals = os.constants.signals as Record<string, number>;
  const trimmed = input.trim();
  if (/^\d+$/.test(trimmed)) {
    const byNumber = Object.entries(signals).find(([, number]) => number === Number(trimmed));
    if (byNumber) return byNumber[0] as NodeJS.Signals;
  } else {
    const upper = trimmed.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (Object.prototype.hasOwnProperty.call(signals, name)) return name as NodeJS.Signals;
  }
  throw new InvalidInputError(`"${input}" is not a signal name. Use one like INT, TERM, HUP, KILL, USR1 or STOP (with or without SIG), or its number.`);
}

/**
 * Sends `signal` to what runs in the pane's foreground, the way the terminal's own keys do (C-c
 * sends SIGINT to the foreground process group, not to one process): a pipeline or a program's
 * children get it too. At a shell prompt there is no job; then the pane's first process (its shell,
 * or the program tmux started in it) gets it.
 */
export async function signalPane(pane: Pane, signal: NodeJS.Signals): Promise<SignalReport> {
  if (pane.dead) throw new InvalidInputError(`The program in pane ${pane.id} has already exited: there is nothing to signal.`);
  const processes = await listProcesses();
  const root = processes.find((info) => info.pid === pane.pid);
  const group = root?.tpgid;
  if (root && group !== undefined && group > 0 && !(group === root.pgid && isShell(root.command))) {
    process.kill(-group, signal);
    return { signal, processGroup: group };
  }
  process.kill(pane.pid, signal);
  return { signal, pid: pane.pid };
}
