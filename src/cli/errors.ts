import { InvalidInputError, NoServerError, TargetNotFoundError, TmuxNotInstalledError, TmuxVersionError } from '../tmux/errors';

/**
 * Exit codes. 124 is what `timeout(1)` uses, so scripts that already know it read ours the same way.
 * A target that does not exist is a failure (1), like `tmux has-session`; input we refuse before
 * doing anything (an option, a regex, a key or signal name, a session name tmux would change) is
 * usage (2).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, noServer: 3, tmuxMissing: 4, timeout: 124, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The `code` of a JSON error object: what kind of failure, stable for scripts. */
export type ErrorCode = 'usage' | 'notFound' | 'noServer' | 'tmuxMissing' | 'tmuxTooOld' | 'timeout' | 'notAvailable' | 'failed';

/** A failure the tool reports as it is: message, exit code and code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 'usage', EXIT.usage);
  }
}

export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message, 'notFound', EXIT.failed);
  }
}

/** How any error thrown by a command is reported. */
export function classify(error: unknown): { message: string; code: ErrorCode; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, code: error.code, exitCode: error.exitCode };
  if (error instanceof InvalidInputError) return { message: error.message, code: 'usage', exitCode: EXIT.usage };
  if (error instanceof TmuxNotInstalledError) {
    return { message: `tmux was not found at "${error.tmuxPath}". Install tmux 3.2 or newer, or pass its path with --tmux PATH.`, code: 'tmuxMissing', exitCode: EXIT.tmuxMissing };
  }
  if (error instanceof TmuxVersionError) {
    return { message: `tmux ${error.found} is too old: this tool needs tmux ${error.required} or newer. Upgrade tmux, or pass a newer one with --tmux PATH.`, code: 'tmuxTooOld', exitCode: EXIT.tmuxMissing };
  }
  if (error instanceof NoServerError) {
    return { message: 'No tmux server is running on this socket. Start one with "tmux-session-manager new NAME", or choose another server with -L NAME or -S PATH.', code: 'noServer', exitCode: EXIT.noServer };
  }
  if (error instanceof TargetNotFoundError) return { message: `${error.message.trim()} (it may have just closed). See what there is with "tmux-session-manager ls".`, code: 'notFound', exitCode: EXIT.failed };
  return { message: error instanceof Error ? error.message : String(error), code: 'failed', exitCode: EXIT.failed };
}
