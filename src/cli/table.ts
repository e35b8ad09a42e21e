import { OptionSpec, ParsedArgs } from './args';
import { CliContext } from './context';
import { ExitCode } from './errors';

/** What a command module exports: it prints its result and returns the exit code (0 when omitted). */
export interface CommandModule {
  run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode | void>;
}

export interface CommandSpec {
  readonly name: string;
  /** One line, for the list of commands. */
  readonly summary: string;
  /** After the tool's name: `send TARGET [TEXT…]`. */
  readonly usage: string;
  /** More lines for `<command> --help`. */
  readonly details?: readonly string[];
  readonly options: readonly OptionSpec[];
  /** Stops on Ctrl-C (SIGINT, SIGTERM, SIGHUP) through the context's signal, undoing what it started. */
  readonly cleansUpOnInterrupt?: boolean;
  /**
   * Loaded only when the command runs: `ls --json` evaluates no snapshot, restore or output code
   * (startup time is what a script calling the tool in a loop pays each time).
   */
  readonly load: () => CommandModule;
}

const TARGET_HELP = [
  'TARGET is a session name (matched exactly: spaces, quotes, ";" and "#{…}" are fine), a tmux id',
  '($1 session, @3 window, %7 pane), or SESSION:WINDOW or SESSION:WINDOW.PANE with indexes.',
  'A session or window stands for its active pane where a pane is needed.',
];

const killTimings: OptionSpec[] = [
  { name: 'interrupt-wait', kind: 'value', placeholder: 'DURATION', help: 'after C-c, how long programs get before SIGTERM (default 1.5s)' },
  { name: 'terminate-wait', kind: 'value', placeholder: 'DURATION', help: 'after SIGTERM, how long before SIGKILL (default 3s)' },
];

/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * Every command, in the order `--help` lists them. A new command is one entry here and one file
 * in commands/ exporting `run`, plus its output schema in schemas.ts when it prints JSON.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'ls',
    summary: 'list sessions, windows and panes',
    usage: 'ls [TARGET]',
    details: ['With a TARGET, only that session (or the session of that window or pane).', ...TARGET_HELP],
    options: [],
    load: () => require('./commands/ls') as CommandModule,
  },
  {
    name: 'new',
    summary: 'create a detached session (starts the server if none runs)',
    usage: 'new NAME [--cwd DIR] [--window NAME] [-- COMMAND…]',
    details: ['COMMAND, if given, runs in the first pane through your shell instead of a plain shell.', 'Names tmux would change ("." ":" control characters) are refused.'],
    options: [
      { name: 'cwd', kind: 'value', placeholder: 'DIR', help: 'folder to start in (default: the current folder)' },
      { name: 'window', kind: 'value', placeholder: 'NAME', help: 'name of the first window' },
    ],
    load: () => require('./commands/new') as CommandModule,
  },
  {
    name: 'kill',
    summary: 'end a session, window or pane gracefully: C-c, then SIGTERM, then SIGKILL, then close',
    usage: 'kill TARGET [--interrupt-wait DURATION] [--terminate-wait DURATION]',
    details: TARGET_HELP,
    options: killTimings,
    load: () => require('./commands/kill') as CommandModule,
  },
  {
    name: 'send',
    summary: 'type text, press keys, or send a signal to a pane',
    usage: 'send TARGET [TEXT…] [--enter] [--keys KEYS] [--signal SIG]',
    details: [
      'TEXT is typed literally (words joined by spaces; key names in it are not pressed). Put -- before',
      'text that starts with "-". Then --keys are pressed ("C-c", "Escape", "Up", "F5", "M-x"; several',
      'as "C-c Enter" or by repeating --keys), then Enter with --enter.',
      '--signal sends a signal to the pane\'s foreground job (its whole process group, as C-c does),',
      'or to the pane\'s shell when no job runs; it cannot be mixed with text or keys.',
      ...TARGET_HELP,
    ],
    options: [
      { name: 'enter', kind: 'flag', help: 'press Enter after the text and keys' },
      { name: 'keys', kind: 'list', placeholder: 'KEYS', help: 'tmux key names to press, checked first (a typo is an error, not typed text)' },
      { name: 'signal', kind: 'value', placeholder: 'SIG', help: 'INT, TERM, HUP, KILL, USR1… or a number' },
      { name: 'literal', short: 'l', kind: 'flag', help: 'accepted for tmux users: text is always sent literally' },
    ],
    load: () => require('./commands/send') as CommandModule,
  },
  {
    name: 'capture',
    summary: "print a pane's scrollback and screen as plain text",
    usage: 'capture TARGET [--lines N] [--escapes]',
    details: TARGET_HELP,
    options: [
      { name: 'lines', kind: 'value', placeholder: 'N', help: 'lines of scrollback above the screen (default 2000)' },
      { name: 'escapes', kind: 'flag', help: 'keep colours and other escape sequences' },
    ],
    load: () => require('./commands/capture') as CommandModule,
  },
  {
    name: 'follow',
    summary: "print a pane's new output as it arrives, until it exits or you press Ctrl-C",
    usage: 'follow TARGET [--raw] [--timeout DURATION]',
    details: [
      'Uses tmux pipe-pane, which allows one pipe per pane: a pane with its own pipe-pane open is refused.',
      'Exit code 0 when the pane exits or you stop it, 124 when --timeout runs out.',
      ...TARGET_HELP,
    ],
    options: [
      { name: 'raw', kind: 'flag', help: 'print escape sequences as the pane wrote them (default: plain text)' },
      { name: 'timeout', kind: 'value', placeholder: 'DURATION', help: 'stop after this long' },
    ],
    cleansUpOnInterrupt: true,
    load: () => require('./commands/follow') as CommandModule,
  },
  {
    name: 'wait',
    summary: "wait until a pane's new output matches, goes quiet, or its program exits",
    usage: 'wait TARGET [--regex RE] [--quiet-ms N] [--exit] [--timeout DURATION]',
    details: [
      'Only output printed after the call counts. RE is a JavaScript regular expression, matched against',
      'plain text with ^ and $ at line ends. Prints the matched text; on timeout (exit 124) the last',
      'lines seen go to standard error. A pane that exits first ends the wait with exit 1, or 0 with --exit.',
      ...TARGET_HELP,
    ],
    options: [
      { name: 'regex', kind: 'value', placeholder: 'RE', help: 'wait for this pattern' },
      { name: 'ignore-case', short: 'i', kind: 'flag', help: 'match RE without regard to case' },
      { name: 'quiet-ms', kind: 'value', placeholder: 'N', help: 'wait until the pane prints nothing for N milliseconds' },
      { name: 'exit', kind: 'flag', help: "wait for the pane's program to exit" },
      { name: 'timeout', kind: 'value', placeholder: 'DURATION', help: 'give up after this long: 30 (seconds), 500ms, 2m (default 30s)' },
    ],
    cleansUpOnInterrupt: true,
    load: () => require('./commands/wait') as CommandModule,
  },
  {
    name: 'save',
    summary: 'save sessions to snapshots (all of them when none is named)',
    usage: 'save [SESSION…] [--label TEXT] [--scrollback-lines N]',
    options: [
      { name: 'label', kind: 'value', placeholder: 'TEXT', help: 'a name for the snapshot ("before refactor")' },
      { name: 'scrollback-lines', kind: 'value', placeholder: 'N', help: 'scrollback lines saved per pane, with colours (default 2000; 0: none)' },
    ],
    cleansUpOnInterrupt: true,
    load: () => require('./commands/save') as CommandModule,
  },
  {
    name: 'restore',
    summary: 'restore a snapshot (by id, or the newest good one of a session)',
    usage: 'restore SNAPSHOT|SESSION [--name NAME] [--replace] [--programs none|safe|all] [--yes]',
    details: [
      'Never over a running session: use --name to restore beside it, or --replace to swap it out once',
      'the new one is built. Programs outside the safe list (and agents resumed by their command) start',
      'only with --yes; without it they are listed as skipped.',
    ],
    options: [
      { name: 'name', kind: 'value', placeholder: 'NAME', help: 'restore under this session name' },
      { name: 'replace', kind: 'flag', help: 'replace a running session of that name' },
      { name: 'programs', kind: 'value', placeholder: 'POLICY', help: 'none, safe (default) or all' },
      { name: 'yes', short: 'y', kind: 'flag', help: 'start programs outside the safe list without asking' },
    ],
    cleansUpOnInterrupt: true,
    load: () => require('./commands/restore') as CommandModule,
  },
  {
    name: 'snapshots',
    summary: 'list saved snapshots, newest first',
    usage: 'snapshots [SESSION]',
    options: [],
    load: () => require('./commands/snapshots') as CommandModule,
  },
  {
    name: 'metrics',
    summary: 'CPU, memory and disk I/O of each pane\'s whole process tree',
    usage: 'metrics [TARGET] [--sort cpu|memory] [--interval DURATION]',
    details: [
      'Reads every process twice, --interval apart (default 1s), since CPU% is a rate; --interval 0 reads',
      'once and leaves CPU% and I/O out. With a TARGET, only that session, window or pane.',
      'CPU% is percent of one core; memory is resident memory (RSS); I/O is what reached storage (Linux).',
      ...TARGET_HELP,
    ],
    options: [
      { name: 'sort', kind: 'value', placeholder: 'KEY', help: 'cpu (default) or memory' },
      { name: 'interval', kind: 'value', placeholder: 'DURATION', help: 'time between the two readings (default 1s)' },
    ],
    load: () => require('./commands/metrics') as CommandModule,
  },
  {
    name: 'gc',
    summary: 'list what cleanup would remove and why (a dry run); --yes acts',
    usage: 'gc [--dry-run | --yes [KEY…]] [--idle-hours N] [--dead-pane-hours N] [--deleted-snapshot-days N] [--protect PATTERN…]',
    details: [
      'Candidates: sessions idle longer than --idle-hours with no client attached (default 168), sessions whose',
      'folder is gone, panes dead longer than --dead-pane-hours (24), autosaves of sessions gone longer than',
      '--deleted-snapshot-days (30), stale lock and half-written files in the data folder. 0 turns a kind off.',
      'Never touched: attached sessions, sessions marked protected (Protect in VS Code), names matching --protect',
      '(* and ? wildcards). With --yes everything listed is cleaned up, or only the KEYs given; sessions and panes',
      'are ended gracefully (C-c, SIGTERM, SIGKILL), and each is decided again on a fresh reading first.',
    ],
    options: [
      { name: 'dry-run', kind: 'flag', help: 'only say what would be removed (the default)' },
      { name: 'yes', short: 'y', kind: 'flag', help: 'clean up: everything listed, or the KEYs given' },
      { name: 'idle-hours', kind: 'value', placeholder: 'N', help: 'idle sessions after N hours (0: never)' },
      { name: 'dead-pane-hours', kind: 'value', placeholder: 'N', help: 'dead panes after N hours (0: never)' },
      { name: 'deleted-snapshot-days', kind: 'value', placeholder: 'N', help: 'autosaves of deleted sessions after N days (0: never)' },
      { name: 'protect', kind: 'list', placeholder: 'PATTERN', help: 'session names never to touch (repeatable)' },
    ],
    cleansUpOnInterrupt: false,
    load: () => require('./commands/gc') as CommandModule,
  },
  {
    name: 'health',
    summary: 'check the tmux program, version, server, socket and data folder',
    usage: 'health',
    details: ['Exit code 0 when every check passes; 4 when tmux is missing or too old, 3 when no server runs, 1 otherwise.'],
    options: [],
    load: () => require('./commands/health') as CommandModule,
  },
  {
    name: 'up',
    summary: "build the profile's session, start its services and wait until they are ready",
    usage: 'up [--file F] [--timeout D] [--foreground]',
    details: [
      'The profile is .tmux-session.yaml in the current folder, or F. Services start in dependency order, each as',
      'its pane\'s own process; up waits until every one is ready (its ready probe passed, or started when it has',
      'none) or one fails, then prints each service. A bad profile is reported with file:line:column and nothing',
      'is started. On a running session of the profile, up applies the file to it (changed services restart).',
      'Exit code 0 when all are ready, 1 when one failed, 124 when --timeout passed first (they keep starting),',
      '130 on Ctrl-C before that (the services it started are stopped).',
      '',
      'Who restarts a service that crashes later: this tool runs no background process. Without --foreground, up',
      'returns once the services are ready and leaves their supervision record in the session; a VS Code window',
      'of the project takes over (restarts, backoff, breaker) when it opens or reloads, or on "Tmux: Up" there',
      '(which restarts nothing that runs). Until then a service that crashes stays down. With --foreground, up',
      'keeps supervising in this terminal, printing each change, until Ctrl-C; the services keep running after it.',
      'Run only one supervisor per session: not --foreground while a VS Code window supervises it.',
    ],
    options: [
      { name: 'file', short: 'f', kind: 'value', placeholder: 'F', help: 'the profile (default: .tmux-session.yaml here)' },
      { name: 'timeout', kind: 'value', placeholder: 'DURATION', help: 'how long to wait for every service to be ready (default 2m)' },
      { name: 'foreground', kind: 'flag', help: 'keep supervising (restarting) the services until Ctrl-C' },
    ],
    cleansUpOnInterrupt: true,
    load: () => require('./commands/up') as CommandModule,
  },
  {
    name: 'down',
    summary: "stop the profile's services in reverse dependency order and close its session",
    usage: 'down [--file F]',
    details: ['Each service gets its stop method (a signal, keys or a command), then SIGKILL of its process group after', 'its timeout; the other panes end as kill ends them. Exit code 1 when the session is not running.'],
    options: [{ name: 'file', short: 'f', kind: 'value', placeholder: 'F', help: 'the profile (default: .tmux-session.yaml here)' }],
    load: () => require('./commands/down') as CommandModule,
  },
];
