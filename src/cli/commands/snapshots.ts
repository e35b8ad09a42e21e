import { SnapshotStore } from '../../core/snapshots/store';
import { ParsedArgs } from '../args';
import { CliContext, printJson } from '../context';
import { UsageError } from '../errors';
import type { SnapshotsOutput } from '../schemas';
import { entryJson, entryLine } from './snapshotJson';

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 1) throw new UsageError('snapshots takes at most one SESSION name. Quote a name that has spaces.');
  const session = args.positionals[0];
  const entries = (await new SnapshotStore(ctx.dataDir).list()).filter((entry) => session === undefined || entry.sessionName === session);
  if (ctx.json) printJson(ctx, { snapshots: entries.map(entryJson) } satisfies SnapshotsOutput);
  else if (entries.length === 0) ctx.stderr(`No snapshots${session === undefined ? '' : ` of ${JSON.stringify(session)}`} in ${ctx.dataDir}.`);
  else ctx.stdout(entries.map(entryLine).join('\n'));
}
