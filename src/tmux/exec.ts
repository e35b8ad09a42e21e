import { execa } from 'execa';
import { classifyFailure, TmuxError, TmuxNotInstalledError, TmuxTimeoutError, TmuxVersionError } from './errors';
import { ServerAddress, serverFlags, tmuxEnvironment } from './server';
import { parseVersion, TmuxVersion, MINIMUM_VERSION, versionAtLeast } from './version';

export interface RunOptions {
  /** Milliseconds before the command is killed. */
  readonly timeoutMs?: number;
  /** Text for the command's standard input. */
  readonly input?: string;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Records every command sent, for the log. */
export type CommandObserver = (argv: readonly string[], error?: Error) => void;

/**
 * Runs one tmux command as its own process: for the version check, for starting a server, and
 * whenever no control-mode connection is up. Arguments go as an array, never through a shell.
 */
export async function runTmux(address: ServerAddress, args: readonly string[], options: RunOptions = {}, observe?: CommandObserver): Promise<RunResult> {
  return runTmuxCommands(address, [args], options, observe);
}

/**
 * Runs several commands in one process, as one command list: tmux runs them one after the other
 * without letting another client's command in between.
 */
export async function runTmuxCommands(address: ServerAddress, list: readonly (readonly string[])[], options: RunOptions = {}, observe?: CommandObserver): Promise<RunResult> {
  const result = await runTmuxList(address, list, options, observe);
  if (result.error) throw result.error;
  return result;
}

/**
 * Like runTmuxCommands, but a failing command is returned beside what the commands before it
 * printed (tmux stops a list at its first failing command), for callers that split the output.
 * Throws only when tmux could not be run at all.
 */
export async function runTmuxList(address: ServerAddress, list: readonly (readonly string[])[], options: RunOptions = {}, observe?: CommandObserver): Promise<RunResult & { readonly error?: TmuxError }> {
  // -u: the output is read as UTF-8 whatever the locale (see ControlClient).
  const argv = [...serverFlags(address), '-u', ...list.flatMap((args, i) => [...(i > 0 ? [';'] : []), ...args.map(literalArgument)])];
  try {
    const result = await execa(address.tmuxPath, argv, {
      timeout: options.timeoutMs ?? 10_000,
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : undefined,
      env: tmuxEnvironment(),
      extendEnv: false,
      reject: false,
      stripFinalNewline: false,
    });
    const output = { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
    if (result.failed) {
      const error = toError(address, argv, result);
      observe?.(argv, error);
      if (error instanceof TmuxNotInstalledError) throw error;
      return { ...output, error };
    }
    observe?.(argv);
    return output;
  } catch (error) {
    if (error instanceof TmuxError) throw error;
    const wrapped = new TmuxNotInstalledError(address.tmuxPath, { argv, stderr: String(error) });
    observe?.(argv, wrapped);
    throw wrapped;
  }
}

/**
 * tmux reads an argument that ends in `;` as the end of a command (cmd-parse.c,
 * cmd_parse_from_arguments), so `display -p 'a;'` prints `a`. A final `\;` is a literal `;`:
 * the argument keeps its text whatever precedes the semicolon.
 */
export function literalArgument(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

interface FailedResult {
  readonly code?: string;
  readonly exitCode?: number;
  readonly timedOut: boolean;
  readonly stderr: unknown;
  readonly originalMessage?: string;
}

function toError(address: ServerAddress, argv: string[], result: FailedResult): TmuxError {
  const stderr = String(result.stderr ?? '');
  if (result.code === 'ENOENT' || result.code === 'EACCES') {
    return new TmuxNotInstalledError(address.tmuxPath, { argv, stderr: result.originalMessage ?? stderr });
  }
  if (result.timedOut) {
    return new TmuxTimeoutError(`tmux did not answer "${argv.join(' ')}" in time`, { argv, exitCode: result.exitCode, stderr });
  }
  return classifyFailure({ argv, exitCode: result.exitCode, stderr });
}

/** `tmux -V`, checked against what we need. Throws TmuxNotInstalledError or TmuxVersionError. */
export async function detectVersion(tmuxPath: string, observe?: CommandObserver): Promise<TmuxVersion> {
  const { stdout } = await runTmux({ tmuxPath }, ['-V'], { timeoutMs: 5000 }, observe);
  const version = parseVersion(stdout);
  if (!versionAtLeast(version, MINIMUM_VERSION)) {
    throw new TmuxVersionError(version.text, MINIMUM_VERSION.text);
  }
  return version;
}
