import { parseSignalName, signalPane, SignalReport } from '../../core/signal';
import { sendKeyNames, sendText } from '../../tmux/commands';
import { assertKeyName, splitKeyNames } from '../../tmux/keys';
import { ParsedArgs } from '../args';
import { CliContext, printJson, readTree } from '../context';
import { UsageError } from '../errors';
import type { SendOutput } from '../schemas';
import { describeTarget, paneOf, resolveTarget } from '../target';

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  const [targetText, ...words] = args.positionals;
  if (targetText === undefined) throw new UsageError('Name the TARGET to send to, then the text: send TARGET TEXT [--enter].');
  const text = words.length > 0 ? words.join(' ') : undefined;
  const keys = (args.lists.get('keys') ?? []).flatMap(splitKeyNames);
  const enter = args.flags.has('enter');
  const signalText = args.values.get('signal');
  // Everything the user typed is checked before anything is sent: half a command typed into an
  // agent's prompt is worse than none.
  keys.forEach(assertKeyName);
  const signal = signalText === undefined ? undefined : parseSignalName(signalText);
  if (signal && (text !== undefined || keys.length > 0 || enter)) throw new UsageError('--signal cannot be combined with text, --keys or --enter; send them in two calls.');
  if (!signal && text === undefined && keys.length === 0 && !enter) throw new UsageError('Nothing to send: give TEXT, --keys, --enter or --signal.');

  const tree = await readTree(ctx.address);
  const target = resolveTarget(tree, targetText);
  const pane = paneOf(target);
  let report: SignalReport | undefined;
  if (signal) {
    report = await signalPane(pane, signal);
  } else {
    if (text !== undefined) await sendText(ctx.run, pane.id, text, false);
    if (keys.length > 0) await sendKeyNames(ctx.run, pane.id, keys);
    if (enter) await sendKeyNames(ctx.run, pane.id, ['Enter']);
  }
  if (ctx.json) {
    const output: SendOutput = {
      pane: pane.id,
      text: text ?? null,
      keys,
      enter,
      signal: report ? { name: report.signal, ...(report.processGroup !== undefined ? { processGroup: report.processGroup } : {}), ...(report.pid !== undefined ? { pid: report.pid } : {}) } : null,
    };
    printJson(ctx, output);
  } else if (report) {
    ctx.stdout(`sent ${report.signal} to ${report.processGroup !== undefined ? `process group ${report.processGroup}` : `process ${report.pid}`} in ${describeTarget(pane, tree)}`);
  }
}
