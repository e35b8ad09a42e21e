import { waitForOutput } from '../../core/output/waitFor';
import { parseCount, parseDuration, ParsedArgs } from '../args';
import { CliContext, printJson, readTree } from '../context';
import { EXIT, ExitCode, UsageError } from '../errors';
import type { WaitOutput } from '../schemas';
import { describeTarget, paneOf, resolveTarget } from '../target';

const DEFAULT_TIMEOUT_MS = 30_000;

export async function run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode> {
  if (args.positionals.length !== 1) throw new UsageError('Name one TARGET to wait on. Quote a pattern with spaces: --regex "build (ok|done)".');
  const regex = args.values.has('regex') ? compile(args.values.get('regex')!, args.flags.has('ignore-case')) : undefined;
  const quietMs = args.values.has('quiet-ms') ? parseCount('quiet-ms', args.values.get('quiet-ms')!, 1) : undefined;
  const untilExit = args.flags.has('exit');
  if (!regex && quietMs === undefined && !untilExit) throw new UsageError('Say what to wait for: --regex RE, --quiet-ms N or --exit.');
  const timeoutMs = args.values.has('timeout') ? parseDuration('timeout', args.values.get('timeout')!) : DEFAULT_TIMEOUT_MS;

  const tree = await readTree(ctx.address);
  const pane = paneOf(resolveTarget(tree, args.positionals[0]));
  const result = await waitForOutput(ctx.run, ctx.address, pane.id, { regex, quietMs, untilExit, timeoutMs, signal: ctx.signal });
  const code = result.kind === 'matched' || result.kind === 'quiet' || (result.kind === 'exited' && untilExit) ? EXIT.ok : result.kind === 'timeout' ? EXIT.timeout : EXIT.failed;
  if (ctx.json) {
    printJson(ctx, { pane: pane.id, outcome: result.kind, ...(result.match !== undefined ? { match: result.match } : {}), elapsedMs: Math.round(result.elapsedMs), lastLines: result.lastLines } satisfies WaitOutput);
    return code;
  }
  if (result.kind === 'matched') ctx.stdout(result.match ?? '');
  if (code !== EXIT.ok) {
    const what = [regex && `/${regex.source}/`, quietMs !== undefined && `${quietMs} ms of quiet`].filter(Boolean).join(' or ') || 'its exit';
    const why = {
      timeout: `timed out after ${timeoutMs / 1000} s waiting for ${what} in ${describeTarget(pane, tree)}`,
      exited: `the program in ${describeTarget(pane, tree)} exited before ${what}`,
      cancelled: 'stopped before the wait ended',
    }[result.kind as 'timeout' | 'exited' | 'cancelled'];
    const last = result.lastLines.length > 0 ? `; its last lines:\n${result.lastLines.map((l) => `  ${l}`).join('\n')}` : '; it printed nothing meanwhile';
    ctx.stderr(`tmux-session-manager: ${why}${last}`);
  }
  return code;
}

/** The pattern as a user wrote it, with ^ and $ at line ends (the output is lines, as grep reads it). */
function compile(source: string, ignoreCase: boolean): RegExp {
  try {
    return new RegExp(source, ignoreCase ? 'mi' : 'm');
  } catch (error) {
    throw new UsageError(`--regex ${JSON.stringify(source)} is not a valid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}.`);
  }
}
