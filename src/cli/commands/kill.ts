import { killGracefully } from '../../core/kill';
import { parseDuration, ParsedArgs } from '../args';
import { CliContext, printJson, readTree } from '../context';
import { UsageError } from '../errors';
import type { KillOutput } from '../schemas';
import { describeTarget, resolveTarget } from '../target';

/** The extension's defaults (settings kill.interruptWaitMs and kill.terminateWaitMs). */
const INTERRUPT_WAIT_MS = 1500;
const TERMINATE_WAIT_MS = 3000;

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  if (args.positionals.length !== 1) throw new UsageError('Name one TARGET to kill: a session, a tmux id, or SESSION:WINDOW.PANE.');
  const timings = {
    interruptWaitMs: optionalDuration(args, 'interrupt-wait') ?? INTERRUPT_WAIT_MS,
    terminateWaitMs: optionalDuration(args, 'terminate-wait') ?? TERMINATE_WAIT_MS,
  };
  const tree = await readTree(ctx.address);
  const target = resolveTarget(tree, args.positionals[0]);
  const description = describeTarget(target, tree);
  const report = await killGracefully(ctx.run, target, timings);
  if (ctx.json) {
    printJson(ctx, { target: { kind: target.kind, id: target.id, description }, ...report } satisfies KillOutput);
    return;
  }
  const how = {
    close: 'nothing was running',
    interrupt: 'every program stopped on C-c',
    terminate: `${report.terminated} process(es) needed SIGTERM`,
    kill: `${report.killed} process(es) needed SIGKILL`,
  }[report.lastStep];
  ctx.stdout(`killed ${description}: ${how}`);
}

function optionalDuration(args: ParsedArgs, name: string): number | undefined {
  const text = args.values.get(name);
  return text === undefined ? undefined : parseDuration(name, text);
}
