import { ProfileRuntime } from '../../core/profiles/runtime';
import { ParsedArgs } from '../args';
import { CliContext, printJson } from '../context';
import { NotFoundError, UsageError } from '../errors';
import type { DownOutput } from '../schemas';
import { loadProfile, profileHost } from './profileHost';

/** Stops the profile's services in reverse dependency order, gracefully, then closes its session. */
export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 0) throw new UsageError('down takes no arguments; name the profile with --file F.');
  const profile = loadProfile(args);
  const host = await profileHost(ctx, 250);
  try {
    const runtime = await ProfileRuntime.find(host, profile);
    if (!runtime) throw new NotFoundError(`Session "${profile.session}" of ${profile.file} is not running: there is nothing to stop.`);
    const services = runtime.statuses().map((status) => status.name);
    await runtime.down();
    if (ctx.json) printJson(ctx, { session: profile.session, stopped: services } satisfies DownOutput);
    else ctx.stdout(`stopped ${services.length === 0 ? 'no services' : services.join(', ')}; closed session "${profile.session}"`);
  } finally {
    await host.dispose();
  }
}
