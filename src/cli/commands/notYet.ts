import { CliError, EXIT } from '../errors';
import { CommandModule } from '../table';

/**
 * A command whose core is not in this version yet: listed, so a script gets a clear answer and
 * exit 1 instead of "not a command" (2). Its real module replaces this entry in the table.
 */
export function notYet(name: string): CommandModule {
  return {
    run: () => Promise.reject(new CliError(`"${name}" is not available in this version of tmux-session-manager yet.`, 'notAvailable', EXIT.failed)),
  };
}
