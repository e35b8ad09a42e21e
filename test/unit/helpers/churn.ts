import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ServerAddress } from '../../../src/tmux/server';
import { processAlive } from './tmux';

/**
 * A stress harness for the tmux crash on connect: tmux up to 3.7c sends a control notification to
 * a control client that has sent its first identify message (which marks it a control client) but
 * not its last (which gives it the state notifications are written to), and dies of a NULL
 * dereference in control_write. Identify takes several reads, so a notification caused by anyone
 * in between (a session made, killed or renamed) crashes the whole server.
 *
 * An outside process (bash, as a project script or tmuxinator would be) churns sessions, windows
 * and panes on a private server while callers connect clients of their own; a round tells whether
 * the server died under them. Every server lives on its own socket in its own temporary folder and
 * is killed by that socket afterwards, whatever happened.
 */

/** A client the harness connected and will close; what `Connector` returns. */
export interface Connection {
  /** False when the client came up but never attached (no session yet, server gone). */
  readonly attached?: boolean;
  dispose(): Promise<void> | void;
}

/** Connects one client of the kind under test to the server at `address`; rejects if it could not. */
export type Connector = (address: ServerAddress) => Promise<Connection>;

export type CrashScenario = 'server-start' | 'running';

export interface ChurnOptions {
  readonly socketPath: string;
  /** Start the server with the churn's first command (`new-session -d`), as project scripts do. */
  readonly startServer: boolean;
  /** Stop after this long (default 1 s)... */
  readonly durationMs?: number;
  /** ...or after this many iterations, whichever comes first. */
  readonly iterations?: number;
  /** The session the churn never kills, so the server never exits on its own (default `anchor`). */
  readonly anchor?: string;
}

export interface ChurnResult {
  /** The server's process id, if the churn learnt it before anything went wrong. */
  readonly serverPid?: number;
  /** The server went away before the churn finished: nothing else kills it, so it crashed. */
  readonly crashed: boolean;
  /** How the crash showed: tmux's words to the churn, the pid gone, or a new server on the socket. */
  readonly crashEvidence: readonly string[];
  /** Milliseconds from the churn's start to the moment the server's process was seen gone. */
  readonly serverGoneAtMs?: number;
  readonly iterations: number;
  /** tmux commands the churn had run successfully (several per tmux process). */
  readonly commands: number;
  /** The churn's own failures, which are not crashes (a target that vanished, say). */
  readonly churnErrors: readonly string[];
  readonly ms: number;
}

export interface Churn {
  /** Resolves once the server's pid is known, or with undefined if the churn ended first. */
  readonly serverPid: Promise<number | undefined>;
  /** True as soon as any sign of a crash has been seen (for callers that stop early). */
  readonly crashed: boolean;
  /** Resolves when the churn has ended (its time or iterations are up, a crash, or stop()). */
  readonly done: Promise<ChurnResult>;
  /** Ends the churn after its current iteration; resolves with the result. */
  stop(): Promise<ChurnResult>;
}

/**
 * The churn, as a bash script: one tmux process per iteration carrying a dozen commands joined
 * with `;`, so each iteration costs one process start instead of twelve. Every iteration makes a
 * session, windows in and out of the background, splits with and without -d, renames, selects,
 * kills a window, and kills the session made two iterations before (one a client may have
 * attached to meanwhile). Each tmux process ends by printing the server's pid: a crashed server
 * followed by a `new-session` that quietly starts a fresh one shows as a changed pid.
 */
const CHURN_SCRIPT = String.raw`
socket=$1 start_server=$2 max_iterations=$3 stop_file=$4 error_file=$5 anchor=$6 pid_file=$7
iterations=0 commands=0
shopt -s nocasematch
finish() { echo "end $iterations $commands"; exit "$1"; }
# Runs one tmux process of $1 commands; a failure because the server is gone ends the churn.
run() {
  local count=$1; shift
  if tmux -S "$socket" -f /dev/null "$@" 2>"$error_file"; then commands=$((commands + count)); return 0; fi
  local message; message=$(tr '\n' ' ' <"$error_file")
  case $message in
    *"server exited unexpectedly"*|*"lost server"*|*"no server running"*|*"error connecting"*|*"connection refused"*)
      echo "gone $message"; finish 3 ;;
  esac
  echo "error $message"
  return 1
}
# One iteration on session c$1; further arguments are more commands for the same tmux process.
churn_once() {
  local s=c$1 count=$(( $# > 1 ? 13 : 12 )) i=$1; shift
  run $count new-session -d -s "$s" -x 80 -y 24 cat \; \
    new-window -d -t "=$s:" cat \; new-window -t "=$s:" cat \; \
    split-window -d -t "=$s:2" cat \; split-window -t "=$s:2" cat \; \
    rename-window -t "=$s:1" "w$i" \; select-window -t "=$s:0" \; select-pane -t "=$s:2.0" \; \
    kill-window -t "=$s:1" \; rename-session -t "=$s" "r$i" \; \
    select-window -t "=$anchor:0" \; display-message -p 'pid #{pid}' "$@"
}
if [[ $start_server == 1 ]]; then
  # The anchor's pane writes its parent's pid (the server's) to a file, so the pid is known even
  # when the server dies before this command's reply.
  run 2 new-session -d -s "$anchor" -x 80 -y 24 "echo \$PPID > '$pid_file'; exec cat" \; display-message -p 'pid #{pid}'
fi
while (( iterations < max_iterations )) && [[ ! -e $stop_file ]]; do
  if (( iterations >= 2 )); then
    churn_once $iterations \; kill-session -t "=r$((iterations - 2))"
  else
    churn_once $iterations
  fi
  iterations=$((iterations + 1))
done
finish 0
`;

/** Churn processes still running, for killCrashRoundServers. */
const liveChurns = new Set<ChildProcess>();

/**
 * Starts the churn: an outside bash process (no `TMUX` in its environment) running tmux against
 * `socketPath`, which either starts the server itself or churns an existing one. The server's pid
 * is watched from here too, since tmux's own words reach the churn only while one of its commands
 * is talking to the server.
 */
export function startChurn(options: ChurnOptions): Churn {
  const started = Date.now();
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-churn-'));
  const stopFile = path.join(folder, 'stop');
  const pidFile = path.join(folder, 'server-pid');
  const durationMs = options.durationMs ?? 1000;
  const child = spawn(
    'bash',
    ['-c', CHURN_SCRIPT, 'churn', options.socketPath, options.startServer ? '1' : '0', String(options.iterations ?? 1e9), stopFile, path.join(folder, 'stderr'), options.anchor ?? 'anchor', pidFile],
    { env: tmuxTestEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );

  liveChurns.add(child);
  let serverPid: number | undefined;
  let resolvePid!: (pid: number | undefined) => void;
  const pidKnown = new Promise<number | undefined>((resolve) => (resolvePid = resolve));
  const evidence: string[] = [];
  const churnErrors: string[] = [];
  let serverGoneAtMs: number | undefined;
  let iterations = 0;
  let commands = 0;
  let ended = false;

  const learnPid = (pid: number) => {
    if (!Number.isInteger(pid) || pid <= 0) return;
    if (serverPid === undefined) {
      serverPid = pid;
      resolvePid(pid);
    } else if (pid !== serverPid && !evidence.some((e) => e.startsWith('new server'))) {
      evidence.push(`new server pid ${pid} on the socket (was ${serverPid})`);
    }
  };
  const checkServer = () => {
    if (serverPid === undefined && fs.existsSync(pidFile)) learnPid(Number(fs.readFileSync(pidFile, 'utf8').trim()));
    if (serverPid !== undefined && serverGoneAtMs === undefined && !processAlive(serverPid)) {
      serverGoneAtMs = Date.now() - started;
      evidence.push(`server pid ${serverPid} gone after ${serverGoneAtMs} ms`);
    }
    // A crash ends the churn at once: later rounds should not wait out its time.
    if (evidence.length && !ended && !fs.existsSync(stopFile)) fs.writeFileSync(stopFile, '');
  };
  if (!options.startServer) {
    // An existing server: ask it directly, the churn's pid lines then only confirm.
    execFile('tmux', ['-S', options.socketPath, '-f', '/dev/null', 'display-message', '-p', '#{pid}'], { env: tmuxTestEnvironment() }, (error, stdout) => {
      if (!error) learnPid(Number(stdout.trim()));
    });
  }
  const poll = setInterval(checkServer, 5);
  // The churn's time is kept here: the script only looks for the stop file between iterations.
  const timeUp = setTimeout(() => fs.writeFileSync(stopFile, ''), durationMs);

  let buffered = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const [word, ...rest] = line.split(' ');
      const text = rest.join(' ');
      if (word === 'pid') learnPid(Number(text));
      else if (word === 'gone') evidence.push(`tmux told the churn: ${text}`);
      else if (word === 'error') churnErrors.push(text);
      else if (word === 'end') [iterations, commands] = text.split(' ').map(Number);
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));

  const done = new Promise<ChurnResult>((resolve) => {
    child.on('close', () => {
      liveChurns.delete(child);
      checkServer();
      ended = true;
      clearInterval(poll);
      clearTimeout(timeUp);
      if (serverPid === undefined) resolvePid(undefined);
      if (stderr.trim()) churnErrors.push(`bash: ${stderr.trim()}`);
      fs.rmSync(folder, { recursive: true, force: true });
      resolve({
        serverPid,
        crashed: evidence.length > 0,
        crashEvidence: evidence,
        serverGoneAtMs,
        iterations,
        commands,
        churnErrors,
        ms: Date.now() - started,
      });
    });
  });

  return {
    serverPid: pidKnown,
    get crashed() {
      return evidence.length > 0;
    },
    done,
    stop() {
      if (!ended) fs.writeFileSync(stopFile, '');
      // A tmux command that hangs on a dying server must not hang the round: the churn's whole
      // process group (bash and its tmux client; the server has its own session) goes after 5 s.
      const timer = setTimeout(() => killGroup(child), 5000);
      return done.finally(() => clearTimeout(timer));
    },
  };
}

export interface CrashRoundsOptions {
  readonly rounds: number;
  /**
   * Clients per round. server-start: all launched together the moment the socket appears, and
   * held until the churn ends. running: connected and closed one after another during the churn.
   */
  readonly connectsPerRound: number;
  readonly connect: Connector;
  readonly scenario: CrashScenario;
  /** Sessions the server has before the churn starts (running only; default 5, the anchor included). */
  readonly sessions?: number;
  /** How long the churn runs (server-start; default 300 ms). In running it lasts until the connects are done. */
  readonly churnMs?: number;
  /** Called after every round, for progress lines. */
  readonly onRound?: (round: RoundResult) => void;
}

export interface RoundResult {
  readonly round: number;
  readonly scenario: CrashScenario;
  readonly connects: number;
  /** Connects that rejected: the client never came up (not a crash by itself). */
  readonly failedConnects: number;
  /** Clients that came up but never attached (raw clients racing a server with no session yet). */
  readonly unattached: number;
  readonly churn: ChurnResult;
  /** The first few reasons connects failed, for the report. */
  readonly connectErrors: readonly string[];
  readonly ms: number;
}

export interface CrashRoundsResult {
  readonly scenario: CrashScenario;
  readonly rounds: number;
  readonly connects: number;
  readonly failedConnects: number;
  readonly unattached: number;
  readonly crashes: number;
  readonly crashedRounds: readonly RoundResult[];
  /** Rounds whose churn hit errors of its own (reported, not counted as crashes). */
  readonly churnErrorRounds: readonly RoundResult[];
  /** The first few distinct reasons connects failed. */
  readonly connectErrors: readonly string[];
  readonly ms: number;
}

/**
 * Runs `rounds` rounds of one scenario, each on a fresh private server in a fresh folder, and
 * counts the rounds in which the server crashed. The server is killed by its socket and the folder
 * removed after every round, whatever happened in it.
 */
export async function runCrashRounds(options: CrashRoundsOptions): Promise<CrashRoundsResult> {
  const started = Date.now();
  const results: RoundResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const result = options.scenario === 'server-start' ? await serverStartRound(round, options) : await runningRound(round, options);
    results.push(result);
    options.onRound?.(result);
  }
  const sum = (pick: (r: RoundResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const crashedRounds = results.filter((r) => r.churn.crashed);
  return {
    scenario: options.scenario,
    rounds: results.length,
    connects: sum((r) => r.connects),
    failedConnects: sum((r) => r.failedConnects),
    unattached: sum((r) => r.unattached),
    crashes: crashedRounds.length,
    crashedRounds,
    churnErrorRounds: results.filter((r) => r.churn.churnErrors.length > 0),
    connectErrors: [...new Set(results.flatMap((r) => r.connectErrors))].slice(0, 5),
    ms: Date.now() - started,
  };
}

/**
 * Kills the server of every round still running and removes its folder, synchronously: for a
 * signal handler, when a run is interrupted halfway through a round.
 */
export function killCrashRoundServers(): void {
  for (const server of [...RoundServer.live]) server.killNow();
  for (const churn of [...liveChurns]) killGroup(churn);
}

/** A private folder and socket for one round. */
class RoundServer {
  static readonly live = new Set<RoundServer>();
  readonly folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-crash-'));
  readonly socketPath = path.join(this.folder, 'sock');
  readonly address: ServerAddress = { tmuxPath: 'tmux', socketPath: this.socketPath };

  constructor() {
    RoundServer.live.add(this);
  }

  killNow(): void {
    RoundServer.live.delete(this);
    try {
      execFileSync('tmux', ['-S', this.socketPath, '-f', '/dev/null', 'kill-server'], { env: tmuxTestEnvironment(), stdio: 'ignore', timeout: 5000 });
    } catch {
      // Nothing answers.
    }
    fs.rmSync(this.folder, { recursive: true, force: true });
  }

  tmux(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('tmux', ['-S', this.socketPath, '-f', '/dev/null', ...args], { env: tmuxTestEnvironment(), timeout: 10_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`tmux ${args[0]}: ${String(stderr).trim() || error.message}`));
        else resolve(stdout);
      });
    });
  }

  /**
   * Kills whatever server answers on this socket (the one we started, or one a client or the
   * churn started after it crashed), waits for the pid we knew to be gone, removes the folder.
   */
  async kill(pid: number | undefined): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.tmux('kill-server');
      } catch {
        break; // Nothing answers any more.
      }
    }
    const deadline = Date.now() + 10_000;
    while (pid !== undefined && processAlive(pid) && Date.now() < deadline) await delay(10);
    RoundServer.live.delete(this);
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}

async function serverStartRound(round: number, options: CrashRoundsOptions): Promise<RoundResult> {
  const started = Date.now();
  const server = new RoundServer();
  const connections: Promise<Connection | Error>[] = [];
  let churn: Churn | undefined;
  let churnResult: ChurnResult | undefined;
  try {
    const appeared = socketAppears(server.folder, 'sock');
    churn = startChurn({ socketPath: server.socketPath, startServer: true, durationMs: options.churnMs ?? 300 });
    const seen = await Promise.race([appeared.promise, churn.done.then(() => false)]);
    appeared.cancel();
    if (seen) {
      for (let i = 0; i < options.connectsPerRound; i++) connections.push(settle(options.connect(server.address)));
    }
    churnResult = await churn.done;
  } finally {
    churnResult ??= churn ? await churn.stop() : undefined;
    const settled = await Promise.all(connections);
    await closeAll(settled);
    churnResult &&= stillAlive(churnResult);
    await server.kill(churnResult?.serverPid);
  }
  return roundResult(round, 'server-start', started, churnResult!, await Promise.all(connections));
}

async function runningRound(round: number, options: CrashRoundsOptions): Promise<RoundResult> {
  const started = Date.now();
  const server = new RoundServer();
  const outcomes: (Connection | Error)[] = [];
  let churn: Churn | undefined;
  let churnResult: ChurnResult | undefined;
  let pid: number | undefined;
  try {
    const sessions = Math.max(1, options.sessions ?? 5);
    const build = ['new-session', '-d', '-s', 'anchor', '-x', '80', '-y', '24', 'cat'];
    for (let i = 1; i < sessions; i++) build.push(';', 'new-session', '-d', '-s', `s${i}`, '-x', '80', '-y', '24', 'cat');
    await server.tmux(...build, ';', 'display-message', '-p', '#{pid}').then((out) => (pid = Number(out.trim().split('\n').pop())));
    // Long enough never to end by itself: the round stops it when its connects are done.
    churn = startChurn({ socketPath: server.socketPath, startServer: false, durationMs: 10 * 60_000 });
    await churn.serverPid;
    for (let i = 0; i < options.connectsPerRound && !churn.crashed; i++) {
      const outcome = await settle(options.connect(server.address));
      outcomes.push(outcome);
      await closeAll([outcome]);
    }
    churnResult = await churn.stop();
  } finally {
    churnResult ??= churn ? await churn.stop() : undefined;
    churnResult &&= stillAlive(churnResult);
    await server.kill(churnResult?.serverPid ?? pid);
  }
  return roundResult(round, 'running', started, churnResult!, outcomes);
}

/**
 * The churn's result, marked crashed if the server died after the churn ended but before the
 * round killed it (closing a client, say): nothing of ours stops it before that.
 */
function stillAlive(churn: ChurnResult): ChurnResult {
  if (churn.crashed || churn.serverPid === undefined || processAlive(churn.serverPid)) return churn;
  return { ...churn, crashed: true, crashEvidence: [`server pid ${churn.serverPid} gone after the churn ended, before the round killed it`] };
}

function roundResult(round: number, scenario: CrashScenario, started: number, churn: ChurnResult, outcomes: readonly (Connection | Error)[]): RoundResult {
  const failed = outcomes.filter((o): o is Error => o instanceof Error);
  return {
    round,
    scenario,
    connects: outcomes.length,
    failedConnects: failed.length,
    unattached: outcomes.filter((o) => !(o instanceof Error) && o.attached === false).length,
    churn,
    connectErrors: [...new Set(failed.map((e) => e.message))].slice(0, 3),
    ms: Date.now() - started,
  };
}

/**
 * A raw control client, the baseline: `tmux -C attach-session` with its stdin held open, as any
 * control-mode tool starts one. Resolves once tmux reports the attach (`%session-changed`) or the
 * client has exited (no session yet, server gone); closing stdin and killing that one process
 * (by its pid) disposes of it.
 */
export function rawControlConnect(address: ServerAddress, timeoutMs = 5000): Promise<Connection> {
  const child = spawn(address.tmuxPath, ['-S', address.socketPath!, '-f', '/dev/null', '-C', 'attach-session'], {
    env: tmuxTestEnvironment(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const dispose = async () => {
    child.stdin!.end();
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
    await exited;
  };
  return new Promise<Connection>((resolve, reject) => {
    let output = '';
    let settled = false;
    const finish = (attached: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ attached, dispose });
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      void dispose().then(() => reject(new Error(`raw control client did not attach within ${timeoutMs} ms`)));
    }, timeoutMs);
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('%session-changed')) finish(true);
    });
    child.stderr!.resume();
    child.on('close', () => finish(output.includes('%session-changed')));
  });
}

/**
 * The environment of every tmux process the harness starts: no `TMUX` (so nothing nests or picks
 * a surrounding server) and a plain shell for any pane that runs one.
 */
export function tmuxTestEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SHELL: '/bin/sh' };
  delete env.TMUX;
  delete env.TMUX_PANE;
  return env;
}

/**
 * Resolves true the moment `name` exists in `folder` (inotify through fs.watch, with a fast poll
 * as well: the watch reports creation once, possibly before anything else could see the file).
 */
function socketAppears(folder: string, name: string): { promise: Promise<boolean>; cancel(): void } {
  const file = path.join(folder, name);
  let watcher: fs.FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finish!: (seen: boolean) => void;
  const promise = new Promise<boolean>((resolve) => (finish = resolve));
  const check = () => {
    if (fs.existsSync(file)) {
      cancel();
      finish(true);
    }
  };
  const cancel = () => {
    watcher?.close();
    clearInterval(timer);
  };
  watcher = fs.watch(folder, (_event, changed) => {
    if (changed === name) check();
  });
  timer = setInterval(check, 1);
  return { promise, cancel: () => (cancel(), finish(false)) };
}

function settle<T>(promise: Promise<T>): Promise<T | Error> {
  return promise.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
}

/** Disposes every connection, each given at most 5 s so that one stuck client cannot hang a round. */
async function closeAll(outcomes: readonly (Connection | Error)[]): Promise<void> {
  await Promise.all(outcomes.map((outcome) => (outcome instanceof Error ? undefined : withinMs(5000, Promise.resolve().then(() => outcome.dispose())))));
}

/** Waits for `promise` at most `ms`, then goes on regardless (its failure ignored too). */
async function withinMs(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Ends the churn's process group: bash and the tmux client it is waiting for, both ours. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
