import * as path from 'node:path';
import { DEFAULT_RESTORE_COMMANDS, DEFAULT_SAFE_PROGRAMS, ProgramPolicy } from '../../core/snapshots/programs';
import { restoreSnapshot } from '../../core/snapshots/restore';
import { SnapshotStore } from '../../core/snapshots/store';
import { sessionExists } from '../../tmux/commands';
import { ParsedArgs } from '../args';
import { CliContext, printJson } from '../context';
import { CliError, EXIT, NotFoundError, UsageError } from '../errors';
import type { RestoreOutput } from '../schemas';

const POLICIES: readonly ProgramPolicy[] = ['none', 'safe', 'all'];

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  if (args.positionals.length !== 1) throw new UsageError('Name one snapshot id (see "tmux-session-manager snapshots") or a session name.');
  const policyText = args.values.get('programs') ?? 'safe';
  if (!POLICIES.includes(policyText as ProgramPolicy)) throw new UsageError(`--programs must be none, safe or all; got ${JSON.stringify(policyText)}.`);
  const policy = policyText as ProgramPolicy;
  const store = new SnapshotStore(ctx.dataDir);
  const { entry, snapshot } = await find(store, args.positionals[0]);
  const name = args.values.get('name') ?? snapshot.session.name;
  const replace = args.flags.has('replace');
  const approved = args.flags.has('yes');

  const result = await store.withLock('restore', async () => {
    if (!replace && (await sessionExists(ctx.run, name))) {
      throw new CliError(`A session named ${JSON.stringify(name)} is running. Restore beside it with --name NEW-NAME, or swap it out with --replace.`, 'failed', EXIT.failed);
    }
    return restoreSnapshot(ctx.run, snapshot, {
      policy,
      safePrograms: DEFAULT_SAFE_PROGRAMS,
      restoreCommands: DEFAULT_RESTORE_COMMANDS,
      name,
      replace,
      approve: async () => approved,
      signal: ctx.signal,
      tempDir: path.join(store.dataDir, 'tmp'),
    });
  }, { signal: ctx.signal });

  const output: RestoreOutput = {
    snapshot: entry.id,
    sessionId: result.sessionId,
    name: result.name,
    programsStarted: [...result.programsStarted],
    programsSkipped: [...result.programsSkipped],
    warnings: [...result.warnings],
  };
  if (ctx.json) {
    printJson(ctx, output);
    return;
  }
  ctx.stdout(`restored ${JSON.stringify(result.name)} (${result.sessionId}) from ${entry.id}`);
  if (result.programsStarted.length > 0) ctx.stdout(`started: ${result.programsStarted.join(', ')}`);
  if (result.programsSkipped.length > 0) ctx.stderr(`not started${approved ? '' : ' (add --yes to run them, with --programs all for every program)'}: ${result.programsSkipped.join(', ')}`);
  for (const warning of result.warnings) ctx.stderr(`warning: ${warning}`);
}

/** A snapshot id as `snapshots` prints it, or a session name: then its newest good snapshot. */
async function find(store: SnapshotStore, text: string) {
  const entries = await store.list();
  const byId = entries.find((entry) => entry.id === text);
  if (byId) {
    if (byId.broken) throw new CliError(`Snapshot ${byId.id} cannot be restored: ${byId.broken}.`, 'failed', EXIT.failed);
    return { entry: byId, snapshot: await store.read(byId) };
  }
  const latest = await store.latestGood(text);
  if (latest) return latest;
  throw new NotFoundError(`No snapshot has the id ${JSON.stringify(text)}, and no session of that name has a good snapshot. See "tmux-session-manager snapshots".`);
}
