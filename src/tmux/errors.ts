/** Typed failures of talking to tmux. Each carries what was run and what tmux said. */

export interface CommandFailure {
  /** The command as run: the argument vector after the program name. */
  readonly argv: readonly string[];
  /** The process exit code, or undefined for a control-mode `%error` reply. */
  readonly exitCode?: number;
  /** What tmux printed on stderr (or in the `%error` block). */
  readonly stderr: string;
}

export class TmuxError extends Error implements CommandFailure {
  readonly argv: readonly string[];
  readonly exitCode?: number;
  readonly stderr: string;

  constructor(message: string, failure: CommandFailure) {
    super(message);
    this.name = new.target.name;
    this.argv = failure.argv;
    this.exitCode = failure.exitCode;
    this.stderr = failure.stderr;
  }
}

/** The tmux program could not be started: not installed, or the configured path is wrong. */
export class TmuxNotInstalledError extends TmuxError {
  constructor(readonly tmuxPath: string, failure: CommandFailure) {
    super(`tmux was not found at "${tmuxPath}". Install tmux 3.2 or newer, or set tmuxSessionManager.tmuxPath to where it is.`, failure);
  }
}

/** tmux runs but is older than we support. */
export class TmuxVersionError extends TmuxError {
  constructor(readonly found: string, readonly required: string) {
    super(`tmux ${found} is too old: this extension needs tmux ${required} or newer. Upgrade tmux, or set tmuxSessionManager.tmuxPath to a newer one.`, { argv: ['-V'], stderr: '' });
  }
}

/** No server listens on the socket. A state, not a crash: callers show it and offer to start one. */
export class NoServerError extends TmuxError {
  constructor(failure: CommandFailure) {
    super('No tmux server is running on this socket.', failure);
  }
}

/** The session, window or pane named in a command no longer exists (it was closed meanwhile). */
export class TargetNotFoundError extends TmuxError {}

/** tmux refused or failed the command for another reason; `stderr` says why. */
export class TmuxCommandError extends TmuxError {}

/** The command did not answer in time. */
export class TmuxTimeoutError extends TmuxError {}

/** Input we refuse before sending anything to tmux. */
export class InvalidInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

const NO_SERVER = /no server running|error connecting to .*\((No such file or directory|Connection refused)\)|server exited unexpectedly/i;
const NOT_FOUND = /can't find (session|window|pane|client)|session not found|window not found|pane not found|no such (session|window|pane)/i;

/** Classifies a failed tmux command from its stderr, the way libtmux tells "gone" from "broken". */
export function classifyFailure(failure: CommandFailure): TmuxError {
  const text = failure.stderr.trim() || `tmux exited with code ${failure.exitCode}`;
  if (NO_SERVER.test(failure.stderr)) return new NoServerError(failure);
  if (NOT_FOUND.test(failure.stderr)) return new TargetNotFoundError(text, failure);
  return new TmuxCommandError(text, failure);
}
