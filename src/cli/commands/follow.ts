import { openPaneOutput, PaneOutputEnd } from '../../core/output/paneOutput';
import { PlainTextDecoder } from '../../core/output/plainText';
import { parseDuration, ParsedArgs } from '../args';
import { CliContext, readTree } from '../context';
import { EXIT, ExitCode, UsageError } from '../errors';
import type { FollowLine } from '../schemas';
import { paneOf, resolveTarget } from '../target';

type EndReason = Extract<FollowLine, { type: 'end' }>['reason'];

export async function run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode> {
  if (args.positionals.length !== 1) throw new UsageError('Name one TARGET to follow.');
  const timeoutMs = args.values.has('timeout') ? parseDuration('timeout', args.values.get('timeout')!) : undefined;
  const raw = args.flags.has('raw');
  const tree = await readTree(ctx.address);
  const pane = paneOf(resolveTarget(tree, args.positionals[0]));
  const line = (value: FollowLine): void => ctx.stdout(JSON.stringify(value));
  const plain = new PlainTextDecoder();
  const emit = (text: string): void => {
    if (text === '') return;
    if (ctx.json) line({ type: 'output', text });
    else process.stdout.write(text);
  };

  let ended!: (reason: EndReason | { error: Error }) => void;
  const end = new Promise<EndReason | { error: Error }>((resolve) => (ended = resolve));
  const onEnd = (how: PaneOutputEnd): void => {
    if (!raw) emit(plain.flush());
    if (how.kind === 'error') ended({ error: how.error });
    else ended(how.kind);
  };
  const stream = await openPaneOutput(ctx.run, ctx.address, pane.id, { onText: (text) => emit(raw ? text : plain.push(text)), onEnd });
  if (ctx.json) line({ type: 'start', pane: pane.id });
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ended('timeout'), timeoutMs);
  const stop = (): void => ended('stopped');
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    const reason = await end;
    if (typeof reason !== 'string') throw reason.error;
    // The pipe is closed before the end is printed: nothing of ours is left on the pane after.
    await stream.stop();
    if (ctx.json) line({ type: 'end', reason });
    else if (reason === 'pipeClosed') ctx.stderr(`tmux-session-manager: another pipe-pane closed or replaced ours on pane ${pane.id}; stopped following.`);
    return reason === 'timeout' ? EXIT.timeout : reason === 'pipeClosed' ? EXIT.failed : EXIT.ok;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', stop);
    await stream.stop();
  }
}
