import * as path from 'node:path';
import { defaultDataDir, expandHome } from '../core/dataDir';
import { ServerAddress } from '../tmux/server';
import { OptionSpec, parseArgs, ParsedArgs } from './args';
import { createContext } from './context';
import { classify, EXIT, ExitCode, UsageError } from './errors';
import { CommandSpec, COMMANDS } from './table';

/**
 * `tmux-session-manager` (also `tsm`): the extension's sessions, snapshots and pane output from a
 * shell or a script. It talks to tmux only through short one-shot tmux processes, never a
 * control-mode client, and installs no hooks, so running it can never take a server down.
 */

const TOOL = 'tmux-session-manager';
const VERSION = '0.1.0';

/** Options every command takes, before or after the command's name, as tmux takes -L and -S. */
const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'socket-name', short: 'L', kind: 'value', placeholder: 'NAME', help: 'the server on this socket name, as tmux -L' },
  { name: 'socket-path', short: 'S', kind: 'value', placeholder: 'PATH', help: 'the server on this socket, as tmux -S (wins over -L)' },
  { name: 'tmux', kind: 'value', placeholder: 'PATH', help: 'the tmux program (default: tmux on PATH)' },
  { name: 'data-dir', kind: 'value', placeholder: 'DIR', help: 'snapshots and state (default: $XDG_STATE_HOME/tmux-session-manager)' },
  { name: 'json', kind: 'flag', help: 'print JSON (the shapes are in schemas/cli/); errors as JSON on standard error' },
  { name: 'help', short: 'h', kind: 'flag', help: 'show help' },
];

export async function main(argv: readonly string[]): Promise<ExitCode> {
  const wantsJson = argv.includes('--json');
  try {
    return await dispatch(argv);
  } catch (error) {
    const failure = classify(error);
    if (wantsJson) process.stderr.write(`${JSON.stringify({ error: failure })}\n`);
    else process.stderr.write(`${TOOL}: ${failure.message}\n`);
    return failure.exitCode;
  }
}

async function dispatch(argv: readonly string[]): Promise<ExitCode> {
  // Global options may come before the command's name; everything from the name on is parsed
  // with the command's own options too.
  const commandAt = indexOfCommand(argv);
  if (commandAt < 0) {
    const globals = parseArgs(argv.filter((arg) => arg !== '--version'), GLOBAL_OPTIONS);
    if (argv.includes('--version')) {
      process.stdout.write(`${TOOL} ${VERSION}\n`);
      return EXIT.ok;
    }
    process.stdout.write(overallHelp());
    return globals.flags.has('help') ? EXIT.ok : EXIT.usage;
  }
  const name = argv[commandAt];
  if (name === 'help') {
    const topic = argv[commandAt + 1];
    const spec = topic === undefined ? undefined : findCommand(topic);
    process.stdout.write(spec ? commandHelp(spec) : overallHelp());
    return EXIT.ok;
  }
  const spec = findCommand(name);
  const args = parseArgs([...argv.slice(0, commandAt), ...argv.slice(commandAt + 1)], [...GLOBAL_OPTIONS, ...spec.options]);
  if (args.flags.has('help')) {
    process.stdout.write(commandHelp(spec));
    return EXIT.ok;
  }
  const controller = new AbortController();
  // A reader that went away (`tsm follow x | head -1`) ends the command as Ctrl-C would.
  const closed = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') controller.abort();
  };
  process.stdout.on('error', closed);
  // Commands with something to undo (an open pipe-pane, a half-built session) stop on the first
  // Ctrl-C and clean up; a second one exits at once. The others keep Node's default: exit now.
  const stop = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  const signals = spec.cleansUpOnInterrupt ? (['SIGINT', 'SIGTERM', 'SIGHUP'] as const) : [];
  for (const signal of signals) process.on(signal, stop);
  try {
    const ctx = createContext(addressOf(args), dataDirOf(args), args.flags.has('json'), controller.signal);
    return (await spec.load().run(ctx, args)) ?? EXIT.ok;
  } finally {
    for (const signal of signals) process.off(signal, stop);
    process.stdout.off('error', closed);
  }
}

/** Where the command's name is: the first argument that is neither a global option nor its value. */
function indexOfCommand(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return -1;
    if (!arg.startsWith('-') || arg === '-') return i;
    const long = arg.startsWith('--') ? GLOBAL_OPTIONS.find((spec) => spec.name === arg.slice(2)) : undefined;
    const short = !arg.startsWith('--') && arg.length === 2 ? GLOBAL_OPTIONS.find((spec) => spec.short === arg[1]) : undefined;
    if ((long ?? short)?.kind === 'value') i++;
  }
  return -1;
}

function findCommand(name: string): CommandSpec {
  const spec = COMMANDS.find((command) => command.name === name);
  if (!spec) throw new UsageError(`"${name}" is not a command. Commands: ${COMMANDS.map((c) => c.name).join(', ')}. See "${TOOL} --help".`);
  return spec;
}

/**
 * The server to talk to: -S, then -L, as tmux reads them. With neither, inside a tmux pane, the
 * server of that pane (from $TMUX), again as tmux itself does; elsewhere the default server.
 */
function addressOf(args: ParsedArgs): ServerAddress {
  const tmuxPath = expandHome(args.values.get('tmux') ?? 'tmux');
  const socketPath = args.values.get('socket-path');
  const socketName = args.values.get('socket-name');
  if (socketPath !== undefined || socketName !== undefined) {
    if (socketPath === '' || socketName === '') throw new UsageError('A socket name or path cannot be empty.');
    return { tmuxPath, socketPath: socketPath === undefined ? undefined : path.resolve(expandHome(socketPath)), socketName };
  }
  const inside = process.env.TMUX?.split(',')[0];
  return inside ? { tmuxPath, socketPath: inside } : { tmuxPath };
}

function dataDirOf(args: ParsedArgs): string {
  const dir = args.values.get('data-dir');
  if (dir === '') throw new UsageError('--data-dir cannot be empty.');
  return dir === undefined ? defaultDataDir() : path.resolve(expandHome(dir));
}

function optionLines(options: readonly OptionSpec[]): string[] {
  const rows = options.map((option) => [`${option.short ? `-${option.short}, ` : '    '}--${option.name}${option.placeholder ? ` ${option.placeholder}` : ''}`, option.help]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`);
}

function overallHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `Usage: ${TOOL} [OPTIONS] COMMAND [ARGS…]   (also: tsm)`,
    '',
    'See and drive tmux sessions, and save and restore them, sharing snapshots with the VS Code extension.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options (before or after the command):',
    ...optionLines(GLOBAL_OPTIONS),
    '      --version  print the version',
    '',
    'Exit codes: 0 ok, 1 failed (also: no such session), 2 usage, 3 no tmux server, 4 tmux missing or too old,',
    '124 timeout (wait, follow, up), 130 interrupted (up).',
    `"${TOOL} COMMAND --help" describes a command.`,
    '',
  ].join('\n');
}

function commandHelp(spec: CommandSpec): string {
  return [
    `Usage: ${TOOL} ${spec.usage}`,
    '',
    `${spec.summary[0].toUpperCase()}${spec.summary.slice(1)}.`,
    ...(spec.details ? ['', ...spec.details] : []),
    '',
    'Options:',
    ...optionLines([...spec.options, ...GLOBAL_OPTIONS]),
    '',
  ].join('\n');
}

// Run when executed (dist/cli.js), not when a test imports it.
if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
