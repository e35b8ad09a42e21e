import * as fs from 'node:fs';
import * as path from 'node:path';
import { ControlClient } from './control';
import { Emitter } from './emitter';
import { NoServerError, TargetNotFoundError, TmuxCommandError, TmuxError, TmuxNotInstalledError, TmuxVersionError } from './errors';
import { CommandObserver, detectVersion, runTmux, runTmuxCommands } from './exec';
import {
  ALL_CHANGE_HOOKS, BLIND_SPOT_HOOKS, ChangeWaiter, clearDirtyArgs, installHookArgs, knownHooks, newHookIndex, processAlive, readHooks, removeHookArgs,
  removeStaleHooks, ServerEnd,
} from './hooks';
import { Logger, SILENT_LOGGER } from './log';
import { allPanes, EMPTY_TREE, Tree } from './model';
import { Notification, STRUCTURAL } from './notifications';
import { ServerAddress, socketFilePath } from './server';
import { acquireServerLock, newLockToken, releaseIfHeldArgs, SERVER_LOCK_OPTION, setLockArgs } from './serverLock';
import { OneShotQueue, splitLines } from './oneShot';
import { PANE_ROW, parseSnapshot, snapshotCommands, withWindow } from './snapshot';
import { formatString, parseRows } from './format';
import { SAFE_CONTROL_MODE_VERSION, SAFE_SUBSCRIPTION_VERSION, TmuxVersion, versionAtLeast } from './version';
import { eventually, sleep } from './wait';

export type ServerState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'ok' }
  | { readonly kind: 'noServer'; readonly lastEnd?: ServerEnd }
  | { readonly kind: 'tmuxMissing'; readonly message: string }
  | { readonly kind: 'versionTooOld'; readonly message: string; readonly found: string }
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly reason: string }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'stopped' };

export interface ServiceOptions {
  readonly log?: Logger;
  /** Tests and the bench turn the change hooks off to measure what plain control mode sees. */
  readonly installHooks?: boolean;
  /** Whether to follow which program runs in each pane (a check every couple of seconds). */
  readonly watchPrograms?: boolean;
  /**
   * How to follow the server. `hooks`: no control-mode client at all (hooks, a plain `wait-for`
   * client, one-shot commands); `control`: a control-mode client; `auto` (the default): control
   * mode only on a tmux whose control mode cannot crash the server (see attach).
   */
  readonly connection?: 'auto' | ConnectionMode;
  /** Milliseconds between two looks at the panes' programs where tmux cannot report them itself. */
  readonly programWatchMs?: number;
}

export type ConnectionMode = 'control' | 'hooks';

/** What the health report and status bar show about the connection. */
export interface ServiceStats {
  readonly version?: TmuxVersion;
  readonly socket: string;
  readonly commandsSent: number;
  readonly snapshots: number;
  readonly lastEventAt?: number;
  readonly lastError?: { readonly message: string; readonly at: number };
  readonly connectedAt?: number;
  /** How the service follows the server, once it knows the tmux version. */
  readonly mode?: ConnectionMode;
  /** Whether a crash of the server would be told from an orderly stop now (hooks.ts, the sentinel): a second or so after connecting. */
  readonly crashWatch: boolean;
}

/**
 * Subscription that makes tmux tell us, at most once a second and only when it differs, when any
 * pane's program changes or a pane dies anywhere on the server. tmux evaluates it on its own
 * timer (server-client.c, subscriptions), so we send nothing while nothing changes.
 */
const WATCH_SUBSCRIPTION = 'tsm-watch::#{S:#{session_id}#{W:#{window_id}#{P:#{pane_id}#{pane_dead}#{pane_current_command}}}}';

/** Notifications about one window, which a reading of that window alone brings up to date. */
const WINDOW_EVENTS: ReadonlySet<Notification['type']> = new Set<Notification['type']>([
  'window-add', 'unlinked-window-add', 'window-close', 'unlinked-window-close', 'window-renamed',
  'unlinked-window-renamed', 'layout-change', 'window-pane-changed',
]);

/** How long a connect or a burst of changes waits for another window's hold of the server lock. */
const SERVER_LOCK_WAIT_MS = 20_000;
/** How long a command that starts a server waits for a server that is shutting down to be gone. */
const SERVER_EXIT_WAIT_MS = 5000;

/** Longer than the waiter takes to report (its sentinel is given 2 s, hooks.ts). */
const VERDICT_WAIT_MS = 3000;
const BACKOFF_MS = [100, 250, 500, 1000, 2000, 5000, 10_000];
const DEFAULT_PROGRAM_WATCH_MS = 2000;
/**
 * What the program watch compares between two looks. `pane_pid` tells a respawned pane from the
 * run before it: respawn-pane fires no hook (cmd-respawn-pane.c has no after-hook flag; the
 * after-respawn-pane we install is unknown to 3.3a–3.5a), and 3.3a–3.5a can lose a death's
 * pane-died hook (see readExit in core/supervision/tmuxDriver.ts), so a pane that was dead, was
 * respawned and died again would otherwise look unchanged.
 */
const PROGRAM_FORMAT = '#{pane_id} #{pane_pid} #{pane_dead} #{pane_current_command}';
/** How soon to look again while a server that just started has no session yet (see doConnect). */
const FIRST_SESSION_POLL_MS = [10, 20, 40, 80, 160, 320];

/**
 * The live view of one tmux server: a control-mode connection, the current tree, the state, and
 * the way to run commands on it. It reconnects by itself; while no server runs it watches the
 * socket's folder (inotify / FSEvents through fs.watch) instead of asking tmux again and again.
 */
export class TmuxService {
  private client: ControlClient | undefined;
  private currentState: ServerState = { kind: 'connecting' };
  private currentTree: Tree = EMPTY_TREE;
  private treeKey = '';
  private version: TmuxVersion | undefined;
  private readonly log: Logger;
  private disposed = false;
  private attempt = 0;
  /** Looks at a server with no session yet, since it was last seen with one or seen down. */
  private emptyPolls = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watcher: fs.FSWatcher | undefined;
  private mode: ConnectionMode = 'hooks';
  /** Set while connected without a control client (mode `hooks`). */
  private hooksLink = false;
  /** Our plain `wait-for` client on the channel our hooks signal. */
  private waiter: ChangeWaiter | undefined;
  private hookIndex: number | undefined;
  /** Counts connections torn down, so a late report about an old one is not taken for the current one. */
  private link = 0;
  private hookNames: readonly string[] = [];
  private knownHookNames: ReadonlySet<string> = new Set();
  /** `show-hooks` as read by the connect that is under way. */
  private hookLines: string[] | undefined;
  /** Commands the next one-shot tree read runs first (our hooks, on connect). */
  private pendingInstall: string[][] = [];
  private programWatch: NodeJS.Timeout | undefined;
  /** The server process we are connected to, to tell a crash from a server that is merely slow. */
  private serverPid: number | undefined;
  /** How the server we were connected to ended, once our waiter has seen it; shown with "no server". */
  private serverEnd: ServerEnd | undefined;
  private serverEndSeen: ((end: ServerEnd) => void) | undefined;
  /** What events asked to read again, and the loop reading it (one at a time, in order). */
  private wantFull = false;
  private readonly wantWindows = new Set<string>();
  private updating: Promise<void> | undefined;
  private connecting: Promise<void> | undefined;
  private connectAgain = false;
  /** Bursts of our own changes in progress (see batch): events only mark the tree stale. */
  private batches = 0;
  /** This service's hold of the server lock (see withServerLock): its users, its token once taken. */
  private lockUsers = 0;
  private lockHold: Promise<string | undefined> | undefined;
  private lockReleased: Promise<void> = Promise.resolve();
  private lockOnServerStart = false;
  private readonly observer: CommandObserver = (argv, error) => this.observe(argv, error);
  /** run()'s commands while there is no control client: in order, bursts in one process. */
  private readonly oneShots: OneShotQueue;
  private stats: { commandsSent: number; snapshots: number; lastEventAt?: number; lastError?: { message: string; at: number }; connectedAt?: number } = { commandsSent: 0, snapshots: 0 };

  private readonly stateEmitter = new Emitter<ServerState>();
  private readonly treeEmitter = new Emitter<Tree>();
  private readonly outputEmitter = new Emitter<{ paneId: string; text: string }>();
  private readonly serverEndEmitter = new Emitter<ServerEnd>();
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires when the server we were connected to is gone, saying whether it stopped in order or died. */
  readonly onDidEndServer = this.serverEndEmitter.event;
  /** Fires with the new tree whenever a snapshot differs from the last one. */
  readonly onDidChangeTree = this.treeEmitter.event;
  /** Output of panes in the session the control client is attached to. */
  readonly onOutput = this.outputEmitter.event;

  constructor(readonly address: ServerAddress, private readonly options: ServiceOptions = {}) {
    this.oneShots = new OneShotQueue(address, this.observer);
    this.log = options.log ?? SILENT_LOGGER;
  }

  get state(): ServerState {
    return this.currentState;
  }

  get tree(): Tree {
    return this.currentTree;
  }

  getStats(): ServiceStats {
    return { ...this.stats, version: this.version, socket: socketFilePath(this.address), mode: this.version ? this.mode : undefined, crashWatch: this.waiter?.crashWatch ?? false };
  }

  /** Connected: a control client is up, or our hooks and waiter are. */
  private get connected(): boolean {
    return this.hooksLink || (!!this.client && !this.client.closed);
  }

  /** Checks tmux and connects. Safe to call once; state changes report the outcome. */
  async start(): Promise<void> {
    try {
      this.version = await detectVersion(this.address.tmuxPath, (argv, error) => this.observe(argv, error));
      this.mode = chooseMode(this.options.connection ?? 'auto', this.version);
      this.log.info(`tmux ${this.version.text} at ${this.address.tmuxPath}; ${socketFilePath(this.address)}; following it ${this.mode === 'control' ? 'through a control-mode client' : 'through hooks, without a control-mode client'}`);
    } catch (error) {
      if (error instanceof TmuxNotInstalledError) this.setState({ kind: 'tmuxMissing', message: error.message });
      else if (error instanceof TmuxVersionError) this.setState({ kind: 'versionTooOld', message: error.message, found: error.found });
      else this.setState({ kind: 'error', message: String((error as Error).message) });
      this.recordError(error as Error);
      return;
    }
    await this.connect();
  }

  /** Runs one tmux command: over the control connection when it is up, else as its own process. */
  async run(argv: readonly string[]): Promise<string[]> {
    this.stats.commandsSent++;
    const client = this.client;
    if (client && !client.closed) {
      try {
        return await client.command(argv);
      } catch (error) {
        this.recordError(error as Error);
        throw error;
      }
    }
    return this.oneShots.run(argv);
  }

  /**
   * Runs a command that may have to start the server (new-session). With no connection this goes
   * through a one-shot process; the socket watcher then sees the new server and connects.
   */
  async runStartingServer(argv: readonly string[]): Promise<string[]> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const lines = this.lockOnServerStart && !this.connected ? await this.startServerLocked(argv) : await this.run(argv);
        if (!this.connected) await this.connect();
        return lines;
      } catch (error) {
        // Right after a kill-server the old server lingers until its last client (an attached
        // terminal, say) has exited, and closes every new connection meanwhile: a client cannot
        // start a new server while the socket still answers. tmux says "server exited
        // unexpectedly". Once the old server is gone, the same command starts a new one.
        // "no server running" is a true answer (a command that starts no server found none).
        if (!(error instanceof NoServerError) || !/server exited unexpectedly/i.test(error.stderr)) throw error;
        if (Date.now() - started > SERVER_EXIT_WAIT_MS) {
          throw new TmuxCommandError(`The previous tmux server on ${socketFilePath(this.address)} is still shutting down: a client attached to it has not exited. Close that terminal or client, then try again.`, error);
        }
        this.log.trace(`the previous server is still shutting down; trying again (${attempt + 1})`);
        await sleep(Math.min(50 * 2 ** attempt, 500));
      }
    }
  }

  /** Takes a fresh snapshot now and returns it. */
  async refresh(): Promise<Tree> {
    if (!this.connected) {
      if (this.currentState.kind === 'noServer' || this.currentState.kind === 'reconnecting') await this.connect();
      return this.currentTree;
    }
    await this.snapshot();
    return this.currentTree;
  }

  /** Closes the connection and removes what we added to tmux. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.reconnectTimer);
    this.stopWatching();
    await this.teardownConnection(true);
    this.setState({ kind: 'stopped' });
    this.stateEmitter.dispose();
    this.treeEmitter.dispose();
    this.outputEmitter.dispose();
    this.serverEndEmitter.dispose();
  }

  private connect(): Promise<void> {
    if (this.connecting) {
      // A request during an attempt may bring news the attempt started too early to see: a new
      // server's socket is reported once when it is created, possibly before tmux accepts on it
      // (a client then hears that no server runs), and again when tmux sets its mode. Dropping
      // the second report left the service in "no server" next to a running server.
      this.connectAgain = true;
      return this.connecting;
    }
    this.connecting = (async () => {
      do {
        this.connectAgain = false;
        await this.doConnect();
      } while (this.connectAgain && !this.disposed && !this.connected);
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    if (this.disposed) return;
    clearTimeout(this.reconnectTimer);
    if (this.connected) return;
    // Attach only to a server that already has a session. tmux 3.3a (and every release before
    // upstream added a control_state check to CONTROL_SHOULD_NOTIFY_CLIENT, tmux PR #4980) crashes
    // the whole server with a NULL dereference in control_write when it broadcasts a control
    // notification such as %sessions-changed to a control client that has sent its first identify
    // message (which marks it a control client) but not its last (which sets it up). A server's socket
    // appears just before its first session is created, so attaching as soon as the watcher sees
    // it hit that window often, and the user's own `new-session` died with "server exited
    // unexpectedly" (8-14% of starts here, most on a slow server). Once a one-shot list-sessions
    // shows a session, the notifications of its creation have gone out (tmux runs them in the
    // same pass of its loop) and the server is usually quiet.
    let sessions: string[];
    try {
      // The hooks tmux knows come in the same process: a connect under load costs one less.
      // Session ids start with `$`, hook names never do.
      const { stdout } = await runTmuxCommands(this.address, [['list-sessions', '-F', '#{session_id}'], ['show-hooks', '-g'], ['show-hooks', '-gw']], { timeoutMs: 5000 }, this.observer);
      const lines = splitLines(stdout);
      sessions = lines.filter((line) => line.startsWith('$'));
      this.hookLines = lines.filter((line) => !line.startsWith('$'));
    } catch (error) {
      await this.connectFailed(error as Error);
      return;
    }
    if (this.disposed) return;
    if (sessions.length === 0) {
      const wait = FIRST_SESSION_POLL_MS[this.emptyPolls++];
      // A server that stays without sessions (exit-empty off) gets the ordinary backoff.
      if (wait === undefined) {
        this.scheduleReconnect('the tmux server has no session');
        return;
      }
      this.log.trace(`the server has no session yet; looking again in ${wait} ms`);
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => void this.connect(), wait);
      return;
    }
    this.emptyPolls = 0;
    if (this.mode === 'hooks') {
      await this.attachWithHooks();
      return;
    }
    // Our connect must not overlap another window's burst of changes (see serverLock.ts).
    await this.withServerLock(() => this.attach());
  }

  /**
   * Connects without a control-mode client. Every tmux release through 3.7c can crash the whole
   * server while a control client identifies itself: tmux marks the client as control mode on its
   * first identify message but sets it up only on its last (server-client.c,
   * server_client_dispatch_identify), the messages arrive over several passes of the server's loop,
   * and a notification of any change made meanwhile, by anyone, is written to the half-made client
   * (control-notify.c). No client of ours ever asks for control mode here: hooks on every change
   * signal a plain `wait-for` client, and the tree is read with one-shot commands.
   */
  private async attachWithHooks(): Promise<void> {
    if (this.disposed || this.connected) return;
    const run = (argv: readonly string[]) => this.oneShot(argv);
    try {
      await this.prepareHooks(run);
      const index = this.hookIndex!;
      this.hookNames = ALL_CHANGE_HOOKS;
      if (this.disposed) return;
      this.startWaiter(index);
      this.hooksLink = true;
      this.attempt = 0;
      this.stopWatching();
      this.stats.connectedAt = Date.now();
      // The hooks go in with the first reading of the tree: one tmux process.
      this.pendingInstall = installHookArgs(ALL_CHANGE_HOOKS, this.knownHookNames, index);
      await this.snapshot();
      this.startProgramWatch();
      this.setState({ kind: 'ok' });
      this.log.info(`connected without a control client (hooks at index ${index})`);
    } catch (error) {
      this.recordError(error as Error);
      this.log.warn(`setting up the connection failed: ${(error as Error).message}`);
      await this.teardownConnection(false);
      if (error instanceof NoServerError) await this.connectFailed(error);
      else this.scheduleReconnect((error as Error).message);
    }
  }

  /** Removes hooks left by editors that are gone and picks this connection's index. */
  private async prepareHooks(run: (argv: readonly string[]) => Promise<string[]>): Promise<void> {
    const lines = this.hookLines ?? (await readHooks(run));
    this.hookLines = undefined;
    this.knownHookNames = knownHooks(lines);
    await removeStaleHooks(run, lines, processAlive, this.log);
    this.hookIndex = newHookIndex();
  }

  private startWaiter(index: number): void {
    this.serverEnd = undefined;
    const link = this.link;
    const waiter = new ChangeWaiter(this.address, index, {
      onSignal: () => {
        this.stats.lastEventAt = Date.now();
        this.requestSnapshot();
      },
      confirm: () => this.oneShot(['display-message', '-p', '#{pid}']),
      onServerEnd: (end) => {
        if (this.waiter !== waiter) return;
        this.serverEnd = end;
        this.serverEndSeen?.(end);
        void this.afterConnectionLost(link);
      },
    }, this.log);
    this.waiter = waiter;
    waiter.start();
  }

  /**
   * Where tmux cannot report program changes itself, looks at every pane's program now and then
   * with one short command, and reads the tree when one changed. (automatic-rename already
   * reports the active pane's program through window-renamed; this catches the other panes.)
   */
  private startProgramWatch(): void {
    if (this.options.watchPrograms === false || this.programWatch) return;
    this.programWatch = setInterval(() => {
      if (!this.connected) return;
      this.oneShot(['list-panes', '-a', '-F', PROGRAM_FORMAT]).then(
        (lines) => {
          if (programsKey(lines) !== programsKey(allPanes(this.currentTree).map((pane) => `${pane.id} ${pane.pid} ${pane.dead ? 1 : 0} ${pane.currentCommand}`))) this.requestSnapshot();
        },
        () => undefined, // A server that is gone is reported by the waiter.
      );
    }, this.options.programWatchMs ?? DEFAULT_PROGRAM_WATCH_MS);
    this.programWatch.unref();
  }

  private stopProgramWatch(): void {
    clearInterval(this.programWatch);
    this.programWatch = undefined;
  }

  private async oneShot(argv: readonly string[]): Promise<string[]> {
    this.stats.commandsSent++;
    const { stdout } = await runTmux(this.address, argv, { timeoutMs: 5000 }, this.observer);
    return splitLines(stdout);
  }

  /** Starts the control client, the hooks and their waiter, and reads the tree. */
  private async attach(): Promise<void> {
    if (this.disposed || (this.client && !this.client.closed)) return;
    const client = new ControlClient(this.address, {
      onSend: (line) => this.log.trace(`→ ${line.length > 300 ? line.slice(0, 300) + '…' : line}`),
    });
    try {
      await client.ready;
    } catch (error) {
      client.close();
      await this.connectFailed(error as Error);
      return;
    }
    if (this.disposed) {
      client.close();
      return;
    }
    this.client = client;
    this.attempt = 0;
    this.stopWatching();
    this.stats.connectedAt = Date.now();
    client.onNotification((notification) => {
      this.stats.lastEventAt = Date.now();
      const windowId = WINDOW_EVENTS.has(notification.type) ? (notification as { windowId: string }).windowId : undefined;
      if (windowId) this.requestWindow(windowId);
      else if (STRUCTURAL.has(notification.type) || notification.type === 'subscription-changed') this.requestSnapshot();
    });
    client.onOutput((output) => this.outputEmitter.fire(output));
    const link = this.link;
    client.onClose((closed) => {
      if (this.client === client) this.client = undefined;
      if (closed.requested || this.disposed) return;
      this.log.info(`control connection closed: ${closed.reason}`);
      void this.afterConnectionLost(link);
    });
    try {
      const [pid] = await client.command(['display-message', '-p', '#{pid}']);
      this.serverPid = Number(pid) || undefined;
      if (this.options.watchPrograms !== false && this.subscriptionIsSafe()) await client.command(['refresh-client', '-B', WATCH_SUBSCRIPTION]);
      if (this.options.installHooks !== false) await this.startChangeHooks(client);
      await this.snapshot();
      if (!this.subscriptionIsSafe()) this.startProgramWatch();
      this.setState({ kind: 'ok' });
      this.log.info(`connected (control client pid ${client.pid})`);
    } catch (error) {
      this.recordError(error as Error);
      this.log.warn(`setting up the connection failed: ${(error as Error).message}`);
      if (this.client === client) {
        await this.teardownConnection(false);
        this.scheduleReconnect((error as Error).message);
      }
    }
  }

  private async connectFailed(error: Error): Promise<void> {
    if (await this.serverIsDown(error)) {
      this.emptyPolls = 0;
      this.currentTree = EMPTY_TREE;
      this.treeKey = '';
      this.treeEmitter.fire(this.currentTree);
      const end = await this.takeServerEnd();
      this.setState(end ? { kind: 'noServer', lastEnd: end } : { kind: 'noServer' });
      if (end) this.serverEndEmitter.fire(end);
      this.watchForServer();
      return;
    }
    this.recordError(error);
    this.scheduleReconnect(error.message);
  }

  /** How the server we were connected to ended, once: a crash only if its process is really gone. */
  private async takeServerEnd(): Promise<ServerEnd | undefined> {
    const end = this.serverEnd;
    const pid = this.serverPid;
    this.serverEnd = undefined;
    this.serverPid = undefined;
    if (!end) return undefined;
    if (!end.unexpected || pid === undefined) return end;
    // A crashed server can still be exiting (dumping core) when its clients are already dropped.
    const gone = await eventually(() => !processAlive(pid), SERVER_EXIT_WAIT_MS).then(() => true, () => false);
    return gone ? end : { ...end, unexpected: false };
  }

  /**
   * Only tmux saying that no server runs means "no server". A command that timed out met a busy
   * server, which must never be shown as gone (a window would then wait for the next server).
   */
  private async serverIsDown(error?: Error): Promise<boolean> {
    if (error instanceof NoServerError) return true;
    return (await this.serverAnswers()) === 'down';
  }

  private async serverAnswers(): Promise<'up' | 'down' | 'unknown'> {
    try {
      await runTmux(this.address, ['list-sessions', '-F', '#{session_id}'], { timeoutMs: 5000 }, (argv, error) => this.observe(argv, error));
      return 'up';
    } catch (error) {
      return error instanceof NoServerError ? 'down' : 'unknown';
    }
  }

  /** Resolves once the waiter has said how the server ended, the server answers, or after VERDICT_WAIT_MS. */
  private async verdictOrLiveServer(): Promise<void> {
    let finish = (): void => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.serverEndSeen = () => finish();
    const timer = setTimeout(() => finish(), VERDICT_WAIT_MS);
    void this.serverAnswers().then((answer) => {
      if (answer === 'up') finish();
    });
    await done;
    clearTimeout(timer);
    this.serverEndSeen = undefined;
  }

  /** `link`: the connection that was lost; a report about an earlier one is stale and ignored. */
  private async afterConnectionLost(link: number): Promise<void> {
    if (link !== this.link) return;
    // Our waiter tells how a server ended, and tearing down would silence it: wait for its word
    // unless the server still answers. Whether its process is gone is no guide: a crashing
    // server has closed its sockets a moment before it is reaped (longer while it dumps core).
    if (this.waiter && !this.serverEnd) {
      await this.verdictOrLiveServer();
      if (link !== this.link) return; // Whoever woke us has already started over.
    }
    await this.teardownConnection(false);
    if (this.disposed) return;
    await this.connect();
  }

  private scheduleReconnect(reason: string): void {
    if (this.disposed) return;
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt++;
    // A first failure is often a moment of the server's own start-up (its socket exists before
    // its first session, and attaching then says "no sessions"): retry once before telling the user.
    if (this.attempt > 1) this.setState({ kind: 'reconnecting', attempt: this.attempt, reason });
    this.log.warn(`reconnecting in ${delay} ms (attempt ${this.attempt}): ${reason}`);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    // The socket watcher may bring the server back sooner than the backoff.
    this.watchForServer();
  }

  /**
   * Watches the socket's folder until a server appears. tmux creates the socket file when a
   * server starts, which fs.watch reports without any polling; the folder itself may not exist
   * before the first server, so its parent is watched until it does.
   */
  private watchForServer(): void {
    if (this.watcher || this.disposed) return;
    const socket = socketFilePath(this.address);
    const folder = path.dirname(socket);
    const watchTarget = fs.existsSync(folder) ? folder : path.dirname(folder);
    const interesting = watchTarget === folder ? path.basename(socket) : path.basename(folder);
    try {
      this.watcher = fs.watch(watchTarget, { persistent: false }, (_event, filename) => {
        if (filename !== null && filename.toString() !== interesting) return;
        if (watchTarget !== folder) {
          this.stopWatching();
          this.watchForServer();
          return;
        }
        if (fs.existsSync(socket)) void this.connect();
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch (error) {
      this.log.warn(`cannot watch ${watchTarget} for a tmux server: ${(error as Error).message}`);
    }
    // The server may have started between the failed connect and the watch.
    if (fs.existsSync(socket) && watchTarget === folder) {
      void this.serverAnswers().then((answer) => {
        if (answer !== 'down') void this.connect();
      });
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private subscriptionIsSafe(): boolean {
    return !!this.version && versionAtLeast(this.version, SAFE_SUBSCRIPTION_VERSION);
  }

  /** Control mode's blind spots, closed by hooks and our plain `wait-for` client (see hooks.ts). */
  private async startChangeHooks(client: ControlClient): Promise<void> {
    const run = (argv: readonly string[]) => client.command(argv);
    await this.prepareHooks(run);
    const index = this.hookIndex!;
    this.startWaiter(index);
    const startedAt = Date.now();
    await client.commands([...installHookArgs(BLIND_SPOT_HOOKS, this.knownHookNames, index), clearDirtyArgs(index)]);
    this.waiter?.readSucceeded(startedAt);
    this.hookNames = BLIND_SPOT_HOOKS;
    this.log.trace(`change hooks installed at index ${index}`);
  }

  private async teardownConnection(removeFromTmux: boolean): Promise<void> {
    this.link++;
    const client = this.client;
    const waiter = this.waiter;
    const index = this.hookIndex;
    this.waiter = undefined;
    this.hooksLink = false;
    this.stopProgramWatch();
    waiter?.stop();
    if (removeFromTmux && index !== undefined) {
      const hooks = removeHookArgs(this.hookNames, this.knownHookNames, index);
      const cleanup = client && !client.closed
        ? Promise.all([client.commands(hooks).catch(() => undefined), client.command(['refresh-client', '-B', 'tsm-watch']).catch(() => undefined)])
        : runTmuxCommands(this.address, hooks, { timeoutMs: 1500 }, this.observer).catch(() => undefined);
      await Promise.race([cleanup, delay(1500)]);
    }
    this.hookIndex = undefined;
    this.client = undefined;
    client?.close();
  }

  /** Asks for a whole snapshot; bursts coalesce (one in flight, one more after it). */
  requestSnapshot(): void {
    this.wantFull = true;
    if (this.batches === 0) void this.catchUp().catch((error: Error) => this.recordError(error));
  }

  /** Asks for a fresh reading of one window only: a control-mode event named it. */
  private requestWindow(windowId: string): void {
    this.wantWindows.add(windowId);
    if (this.batches === 0) void this.catchUp().catch((error: Error) => this.recordError(error));
  }

  /**
   * Runs `body`, a burst of changes of our own (a restore builds dozens of windows and panes),
   * reading the tree once after it instead of after each change: every split fires our hooks,
   * and each hook costs a whole-tree read. An explicit refresh() still reads at once. Resolves
   * once the tree has been read after the burst, so callers see everything it made (a read taken
   * in the middle, when the connection came up, would otherwise stand until the next event).
   */
  async batch<T>(body: () => Promise<T>): Promise<T> {
    this.batches++;
    try {
      // Another window must not connect in the middle of it (see serverLock.ts).
      return await this.withServerLock(body);
    } finally {
      if (--this.batches === 0) await this.snapshot().catch((error: Error) => this.recordError(error));
    }
  }

  /**
   * Runs `body` holding the lock in the server (serverLock.ts). Nested and concurrent callers in
   * this service share one hold. With no server yet, the command of `body` that starts one takes
   * the lock in the same command list (startServerLocked), so nobody can connect in between.
   */
  private async withServerLock<T>(body: () => Promise<T>): Promise<T> {
    if (this.lockUsers++ === 0) {
      // A new hold starts after the previous one's release, which would otherwise free it.
      this.lockHold = this.lockReleased.then(() => this.takeServerLock());
    }
    try {
      await this.lockHold;
      return await body();
    } finally {
      if (--this.lockUsers === 0) {
        const hold = this.lockHold!;
        this.lockHold = undefined;
        this.lockOnServerStart = false;
        this.lockReleased = hold.then(async (token) => {
          if (token) await runTmux(this.address, releaseIfHeldArgs(token), { timeoutMs: 3000 }, this.observer).catch(() => undefined);
        });
        await this.lockReleased;
      }
    }
  }

  /** Resolves to the token it holds the lock with; never throws: a lock that cannot be had must not stop anything. */
  private async takeServerLock(): Promise<string | undefined> {
    // A token per hold: its time tells others how long it has been held.
    const token = newLockToken();
    try {
      if (await acquireServerLock(this.address, token, SERVER_LOCK_WAIT_MS, this.observer)) return token;
      this.log.warn(`another window or tool kept ${SERVER_LOCK_OPTION} for over ${SERVER_LOCK_WAIT_MS / 1000} s; going on without it`);
    } catch (error) {
      if (error instanceof NoServerError) this.lockOnServerStart = true;
      else this.log.warn(`could not take the server lock: ${(error as Error).message}`);
    }
    return undefined;
  }

  private async startServerLocked(argv: readonly string[]): Promise<string[]> {
    const token = newLockToken();
    const { stdout } = await runTmuxCommands(this.address, [argv, setLockArgs(token)], {}, this.observer);
    this.lockOnServerStart = false;
    this.lockHold = Promise.resolve(token);
    return splitLines(stdout);
  }

  /** Takes a whole snapshot now, or waits for the one that will follow the one in flight. */
  private snapshot(): Promise<void> {
    this.wantFull = true;
    return this.catchUp();
  }

  private catchUp(): Promise<void> {
    if (!this.connected) return Promise.resolve();
    this.updating ??= this.update().finally(() => {
      this.updating = undefined;
    });
    return this.updating;
  }

  /**
   * Works through what was asked until nothing is left: a whole snapshot when anything asked for
   * one (it covers every window), else the windows that events named, each read on its own
   * (about 1 ms against 20-35 ms for the whole tree at 600 panes).
   */
  private async update(): Promise<void> {
    while ((this.wantFull || this.wantWindows.size > 0) && this.connected) {
      const client = this.client;
      const link = this.link;
      if (this.wantFull || !client) {
        this.wantFull = false;
        this.wantWindows.clear();
        try {
          await this.readWholeTree(client);
        } catch (error) {
          if (this.hooksLink && error instanceof NoServerError) void this.afterConnectionLost(link);
          throw error;
        }
      } else {
        const windows = [...this.wantWindows];
        this.wantWindows.clear();
        for (const windowId of windows) await this.readWindow(client, windowId);
      }
    }
  }

  /**
   * One atomic reading of the whole tree, which also turns our hooks' dirty flag off (hooks.ts):
   * over the control client, or as one one-shot command list where there is none.
   */
  private async readWholeTree(client: ControlClient | undefined): Promise<void> {
    const clear = this.hookIndex !== undefined ? [clearDirtyArgs(this.hookIndex)] : [];
    const startedAt = Date.now();
    let paneLines: string[];
    let clientLines: string[];
    if (client) {
      [paneLines, clientLines] = (await client.commands([...clear, ...snapshotCommands()])).slice(clear.length);
    } else {
      [paneLines, clientLines] = await this.readTreeOneShot(clear);
    }
    this.waiter?.readSucceeded(startedAt);
    this.stats.commandsSent++;
    this.stats.snapshots++;
    // Most snapshots after an event read the same text as the last one: comparing the raw reply
    // skips parsing 600 rows for nothing.
    const key = paneLines.join('\n') + '\u0000' + clientLines.join('\n');
    if (key === this.treeKey) return;
    const tree = parseSnapshot(paneLines, clientLines);
    this.log.trace(`snapshot: ${paneLines.length} panes`);
    this.treeKey = key;
    this.setTree(tree);
  }

  /** The snapshot commands in one process; a marker line (and the server's pid) splits their output. */
  private async readTreeOneShot(clear: string[][]): Promise<[string[], string[]]> {
    const marker = `tsm-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const [panes, clients] = snapshotCommands();
    const first = this.pendingInstall;
    this.pendingInstall = [];
    const { stdout } = await runTmuxCommands(this.address, [...first, ...clear, ['display-message', '-p', `${marker} #{pid}`], panes, ['display-message', '-p', marker], clients], { timeoutMs: 10_000 }, this.observer);
    const lines = splitLines(stdout);
    const start = lines.findIndex((line) => line.startsWith(`${marker} `));
    const middle = lines.indexOf(marker);
    if (start < 0 || middle < start) throw new TmuxCommandError('tmux answered the tree reading out of order', { argv: panes, stderr: stdout.slice(0, 500) });
    this.serverPid = Number(lines[start].slice(marker.length + 1)) || this.serverPid;
    return [lines.slice(start + 1, middle), lines.slice(middle + 1)];
  }

  private async readWindow(client: ControlClient, windowId: string): Promise<void> {
    let lines: string[];
    try {
      this.stats.commandsSent++;
      lines = await client.command(['list-panes', '-t', windowId, '-F', formatString(PANE_ROW)]);
    } catch (error) {
      if (!(error instanceof TargetNotFoundError)) throw error;
      lines = [];
    }
    const tree = withWindow(this.currentTree, windowId, parseRows(PANE_ROW, lines));
    if (!tree) {
      this.wantFull = true;
      return;
    }
    // The raw text of the last whole snapshot no longer describes the tree.
    this.treeKey = '';
    this.setTree(tree);
  }

  private setTree(tree: Tree): void {
    this.currentTree = tree;
    this.treeEmitter.fire(tree);
  }

  private setState(state: ServerState): void {
    if (JSON.stringify(state) === JSON.stringify(this.currentState)) return;
    this.currentState = state;
    this.stateEmitter.fire(state);
  }

  private observe(argv: readonly string[], error?: Error): void {
    const line = argv.join(' ');
    this.log.trace(`$ tmux ${line.length > 400 ? `${line.slice(0, 400)}… (${argv.length} arguments)` : line}${error ? ` → ${error.message}` : ''}`);
  }

  private recordError(error: Error): void {
    this.stats.lastError = { message: error.message, at: Date.now() };
    if (!(error instanceof TmuxError) || !(error instanceof NoServerError)) this.log.error(error.message);
  }
}

function programsKey(lines: readonly string[]): string {
  return [...lines].sort().join('\n');
}

/** Control mode only where it cannot crash the server, unless told otherwise. */
export function chooseMode(setting: 'auto' | ConnectionMode, version: TmuxVersion): ConnectionMode {
  if (setting !== 'auto') return setting;
  return versionAtLeast(version, SAFE_CONTROL_MODE_VERSION) ? 'control' : 'hooks';
}


function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
