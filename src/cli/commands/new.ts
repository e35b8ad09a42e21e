import { newSessionArgs, sessionExists } from '../../tmux/commands';
import { ParsedArgs } from '../args';
import { CliContext, printJson } from '../context';
import { CliError, EXIT, UsageError } from '../errors';
import type { NewOutput } from '../schemas';

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  const [name, ...command] = args.positionals;
  if (name === undefined) throw new UsageError('Name the session: new NAME [-- COMMAND…].');
  // Built (and the name checked) before anything runs: a refused name starts no server.
  const argv = newSessionArgs({
    name,
    cwd: args.values.get('cwd') ?? process.cwd(),
    windowName: args.values.get('window'),
    command: command.length > 0 ? command.join(' ') : undefined,
  });
  // With no server, nothing exists yet: new-session starts one.
  if (await sessionExists(ctx.run, name)) throw new CliError(`A session named ${JSON.stringify(name)} already exists. Choose another name, or attach to it.`, 'failed', EXIT.failed);
  const [id] = await ctx.run(argv);
  if (ctx.json) printJson(ctx, { id: id as NewOutput['id'], name } satisfies NewOutput);
  else ctx.stdout(id);
}
