import { captureSessions } from '../../core/snapshots/capture';
import { SnapshotStore } from '../../core/snapshots/store';
import { detectVersion } from '../../tmux/exec';
import { parseCount, ParsedArgs } from '../args';
import { CliContext, printJson, readTree } from '../context';
import { NotFoundError } from '../errors';
import type { SaveOutput } from '../schemas';
import { entryJson, entryLine } from './snapshotJson';

/** The extension's default (setting snapshot.scrollbackLines): tmux's own history-limit. */
const DEFAULT_SCROLLBACK_LINES = 2000;

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  const scrollbackLines = args.values.has('scrollback-lines') ? parseCount('scrollback-lines', args.values.get('scrollback-lines')!) : DEFAULT_SCROLLBACK_LINES;
  const label = args.values.get('label')?.trim() || undefined;
  const store = new SnapshotStore(ctx.dataDir);
  const version = await detectVersion(ctx.address.tmuxPath);
  // The data folder's lock, as the extension's saves take it: a save never captures a session
  // that a restore (in any window, or another run of this tool) is still building.
  const entries = await store.withLock('save', async () => {
    const tree = await readTree(ctx.address);
    const names = args.positionals;
    const missing = names.filter((name) => !tree.sessions.some((session) => session.name === name));
    if (missing.length > 0) throw new NotFoundError(`No session is named ${missing.map((name) => JSON.stringify(name)).join(', ')}. See "tmux-session-manager ls".`);
    const sessions = names.length === 0 ? tree.sessions : tree.sessions.filter((session) => names.includes(session.name));
    const snapshots = await captureSessions(ctx.run, sessions, { kind: 'manual', label, scrollbackLines, tmuxVersion: version.text });
    return store.saveMany(snapshots);
  }, { signal: ctx.signal });
  if (ctx.json) printJson(ctx, { saved: entries.map(entryJson) } satisfies SaveOutput);
  else ctx.stdout(entries.map(entryLine).join('\n'));
}
