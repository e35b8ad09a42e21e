import * as fs from 'node:fs';
import * as path from 'node:path';
import { PaneOutputHub } from '../../core/output/outputHub';
import { parseProfile, Profile, ProfileError } from '../../core/profiles/parse';
import { findProfileIn } from '../../core/profiles/projects';
import { ProfileHost } from '../../core/profiles/runtime';
import { ServiceStatus } from '../../core/profiles/runtime';
import { newLeaseToken } from '../../core/supervision/lease';
import { describeExit } from '../../core/supervision/supervisor';
import { ParsedArgs } from '../args';
import { CliContext } from '../context';
import { CliError, EXIT, NotFoundError } from '../errors';
import type { ServiceOutput } from '../schemas';
import { PolledTree } from '../treePoll';

/** The profile of `--file`, else of the current folder; a bad file is a usage error listing every problem at its line. */
export function loadProfile(args: ParsedArgs, cwd = process.cwd()): Profile {
  const given = args.values.get('file');
  const file = given !== undefined ? path.resolve(cwd, given) : findProfileIn(cwd, ['.tmux-session.yaml']);
  if (!file) throw new NotFoundError(`No profile here: ${path.join(cwd, '.tmux-session.yaml')} does not exist. Run this in the project's folder, or name the file with --file F.`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new NotFoundError(`Cannot read the profile ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message}.`);
  }
  try {
    return parseProfile(text, file);
  } catch (error) {
    if (error instanceof ProfileError) throw new CliError(`${error.message}\nNothing was started; fix the file and run again.`, 'usage', EXIT.usage);
    throw error;
  }
}

/** What the runtime needs, for a command that runs as long as it supervises. */
export interface CliProfileHost extends ProfileHost {
  readonly polled: PolledTree;
  dispose(): Promise<void>;
}

export async function profileHost(ctx: CliContext, pollMs: number): Promise<CliProfileHost> {
  const polled = new PolledTree(ctx.address, pollMs);
  await polled.start();
  const hub = new PaneOutputHub(ctx.run, ctx.address);
  return {
    run: ctx.run,
    address: ctx.address,
    onTree: polled.onTree,
    tree: () => polled.tree,
    output: hub.open,
    log: (line) => ctx.stderr(line),
    // Never beside a window (or another tsm) that supervises the session: each would restart its services.
    leaseToken: newLeaseToken(),
    polled,
    dispose: async () => {
      polled.dispose();
      await hub.dispose();
    },
  };
}

/** A service as --json prints it and the text output describes it. */
export function serviceJson(status: ServiceStatus): ServiceOutput {
  const state = status.state;
  return {
    name: status.name,
    phase: state.phase,
    pane: status.paneId ?? null,
    restarts: status.restarts,
    lastExit: status.lastExit ? describeExit(status.lastExit) : null,
    lastProbe: status.lastProbe ? { ok: status.lastProbe.ok, message: status.lastProbe.message, at: new Date(status.lastProbe.at).toISOString() } : null,
    message: state.phase === 'failed' ? state.message : state.phase === 'waiting' ? `waiting for ${state.dependency} (${state.condition})` : state.phase === 'timedOut' ? `timed out after ${state.afterMs} ms` : null,
  };
}
