import { capturePane } from '../../tmux/commands';
import { parseCount, ParsedArgs } from '../args';
import { CliContext, printJson, readTree } from '../context';
import { UsageError } from '../errors';
import type { CaptureOutput } from '../schemas';
import { paneOf, resolveTarget } from '../target';

/** The extension's default (setting capture.lines). */
const DEFAULT_LINES = 2000;

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  if (args.positionals.length !== 1) throw new UsageError('Name one TARGET to capture.');
  const lines = args.values.has('lines') ? parseCount('lines', args.values.get('lines')!) : DEFAULT_LINES;
  const tree = await readTree(ctx.address);
  const pane = paneOf(resolveTarget(tree, args.positionals[0]));
  let text: string;
  if (args.flags.has('escapes')) {
    const output = await ctx.run(['capture-pane', '-p', '-e', '-J', '-S', String(-lines), '-t', pane.id]);
    while (output.length > 0 && output[output.length - 1].replace(/\u001b\[[0-9;]*m/g, '').trim() === '') output.pop();
    text = output.join('\n');
  } else {
    text = await capturePane(ctx.run, pane.id, lines);
  }
  if (ctx.json) printJson(ctx, { pane: pane.id, text } satisfies CaptureOutput);
  else if (text !== '') ctx.stdout(text);
}
