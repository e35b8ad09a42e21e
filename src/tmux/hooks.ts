import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { Logger } from './log';
import { commandLine } from './quote';
import { ServerAddress, serverFlags, tmuxEnvironment } from './server';

/**
 * How changes made by anyone reach us without a control-mode client listening, or where control
 * mode hears nothing: global hooks, one array index per editor so several editors can each have
 * theirs, whose command marks a user option "dirty" and signals a `wait-for` channel. A plain
 * `tmux wait-for` process of ours (an ordinary client: it never takes part in tmux's control-mode
 * notifications, so it cannot trip their crash, see service.ts) waits on the channel.
 *
 * Why the dirty flag: tmux remembers one signal sent while nobody waits, but a second one erases
 * that memory (cmd-wait-for.c removes a woken channel), and one command fires several hooks. The
 * hook therefore signals only when it turns the flag on, and we turn it off in the same command
 * list that reads the tree. Between two reads the channel gets at most one signal: it wakes the
 * waiter, or waits in the channel for the next one. A change after a read turns the flag on again,
 * so no change is ever left unread.
 */

/**
 * Control mode's blind spots (tmux 3.3a, control-notify.c only writes to clients attached to the
 * session): a `split-window -d`, killing an inactive pane, an inactive pane's program exiting, all
 * in a session the client is not attached to.
 */
export const BLIND_SPOT_HOOKS = [
  'after-split-window',
  'after-kill-pane',
  'after-select-pane',
  'after-select-window',
  'after-resize-pane',
  'after-rename-window',
  'after-swap-pane',
  'after-break-pane',
  'after-join-pane',
  'after-move-window',
  'after-swap-window',
  'pane-exited',
  'pane-died',
  'window-layout-changed',
];

/**
 * Every change the tree shows, for a connection with no control client: what control mode's
 * notifications would have said, plus its blind spots. `window-renamed` also follows programs:
 * automatic-rename names a window after its active pane's program.
 */
export const ALL_CHANGE_HOOKS = [
  ...BLIND_SPOT_HOOKS,
  'session-created',
  'session-closed',
  'session-renamed',
  'session-window-changed',
  'window-linked',
  'window-unlinked',
  'window-renamed',
  'window-pane-changed',
  'window-resized',
  'client-attached',
  'client-detached',
  'client-session-changed',
  'pane-mode-changed',
  'after-new-window',
  'after-respawn-pane',
  'after-respawn-window',
  'after-select-layout',
  'after-resize-window',
];

/** Channel names carry this prefix, so hooks of ours left by a crashed editor can be recognised. */
export const CHANNEL_PREFIX = 'tmux-session-manager-changed-';
/** The channel of the sentinel waiter (see ChangeWaiter): nothing of ours ever signals it. */
const ALIVE_PREFIX = 'tmux-session-manager-alive-';
const DIRTY_PREFIX = '@tmux-session-manager-dirty-';

export type Run = (argv: readonly string[]) => Promise<string[]>;

/** How the server ended, as our waiting client saw it. */
export interface ServerEnd {
  /** True when tmux went away without shutting down (a crash, SIGKILL, an OOM kill). */
  readonly unexpected: boolean;
  readonly at: Date;
  readonly detail: string;
}

let nextInstance = 0;

/**
 * An index for one editor's hooks: its process id and a counter (several services in one process,
 * as in tests, must not share one). Hooks whose process is gone are removed by the next editor.
 */
export function newHookIndex(pid = process.pid): number {
  return pid * 100 + (nextInstance++ % 100);
}

export function channelFor(index: number): string {
  return CHANNEL_PREFIX + index;
}

export function aliveChannelFor(index: number): string {
  return ALIVE_PREFIX + index;
}

export function dirtyOptionFor(index: number): string {
  return DIRTY_PREFIX + index;
}

/** The process that installed the hooks of `index` (see newHookIndex). */
export function ownerOf(index: number): number {
  return Math.floor(index / 100);
}

/** The hook's command: signal only when turning the dirty flag on (see above). */
export function hookCommand(index: number): string {
  const option = dirtyOptionFor(index);
  const inner = [commandLine(['set-option', '-g', option, '1']), commandLine(['wait-for', '-S', channelFor(index)])].join(' ; ');
  return commandLine(['if-shell', '-F', `#{!=:#{${option}},1}`, inner]);
}

/** The command that turns the flag off; sent in the same list as the read that follows a signal. */
export function clearDirtyArgs(index: number): string[] {
  return ['set-option', '-g', dirtyOptionFor(index), '0'];
}

/** Every global hook tmux knows, set or not, one a line (`show-hooks -g` and `-gw`, in one process). */
export async function readHooks(run: Run): Promise<string[]> {
  return [...(await run(['show-hooks', '-g']).catch(() => [])), ...(await run(['show-hooks', '-gw']).catch(() => []))];
}

/** The hook names this tmux knows (names differ between versions: 3.3a has no after-join-pane). */
export function knownHooks(lines: readonly string[]): Set<string> {
  return new Set(lines.map((line) => /^([a-z-]+)/.exec(line)?.[1]).filter((name): name is string => !!name));
}

/** The commands that install our hooks at `index`, as one command list. */
export function installHookArgs(hooks: readonly string[], known: ReadonlySet<string>, index: number): string[][] {
  const command = hookCommand(index);
  return hooks.filter((hook) => known.has(hook)).map((hook) => ['set-hook', '-g', `${hook}[${index}]`, command]);
}

export function removeHookArgs(hooks: readonly string[], known: ReadonlySet<string>, index: number): string[][] {
  return [...hooks.filter((hook) => known.has(hook)).map((hook) => ['set-hook', '-gu', `${hook}[${index}]`]), ['set-option', '-gqu', dirtyOptionFor(index)]];
}

/**
 * Removes hooks of ours whose editor is gone: their index names the process that installed them
 * (older versions used their control client's pid, which is gone too once that client is).
 */
export async function removeStaleHooks(run: Run, lines: readonly string[], isAlive: (pid: number) => boolean, log: Logger): Promise<void> {
  const stale = new Set<string>();
  const options = new Set<string>();
  const channels = new Set<string>();
  for (const line of lines) {
    const match = /^([a-z-]+)\[(\d+)\] .*tmux-session-manager-changed-(\d+)/.exec(line);
    if (!match) continue;
    const index = Number(match[2]);
    const owner = line.includes(DIRTY_PREFIX) ? ownerOf(index) : index;
    if (isAlive(owner)) continue;
    stale.add(`${match[1]}[${index}]`);
    options.add(dirtyOptionFor(index));
    channels.add(channelFor(index));
    channels.add(aliveChannelFor(index));
  }
  if (stale.size === 0) return;
  log.info(`removing ${stale.size} hooks left by editors that are gone`);
  await Promise.all([
    ...[...stale].map((hook) => run(['set-hook', '-gu', hook]).catch(() => undefined)),
    ...[...options].map((option) => run(['set-option', '-gqu', option]).catch(() => undefined)),
    // An editor killed outright leaves its `tmux wait-for` process behind; nothing would signal
    // its channel again, so release it.
    ...[...channels].map((channel) => run(['wait-for', '-S', channel]).catch(() => undefined)),
  ]);
}

/** Whether the process runs; a zombie (a container whose init does not reap) counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    // No such process, or no /proc (macOS): ask the kernel.
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SignalHandlers {
  /** The channel was signalled: something changed since the last read. */
  onSignal(): void;
  /** The waiting client could not wait: the server is gone (or refuses clients); says how it ended. */
  onServerEnd(end: ServerEnd): void;
  /** Any short command to the server (its answer counts the sentinel, see ChangeWaiter). */
  confirm(): Promise<unknown>;
}

/**
 * Our plain `tmux wait-for` process: it returns when a hook signals the channel, and we start the
 * next one at once.
 *
 * Beside it waits a sentinel: a second `tmux wait-for`, on a channel nothing signals, started once
 * per connection. How the sentinel ends tells how the server ended. tmux releases every waiting
 * client with success when it shuts down in order (kill-server, SIGTERM, its last session closed:
 * cmd_wait_for_flush), while a server that dies (a crash, SIGKILL) drops them and the client says
 * "server exited unexpectedly". The change waiter alone cannot tell: it is started again after
 * every change, and one started after kill-server began is turned away at accept (server.c closes
 * new connections once exiting) with that same "unexpectedly", as if the server had crashed.
 * The sentinel counts only once the server has answered a command sent a while after it
 * (SENTINEL_SETTLE_MS: a new client's messages can take that long to be read by a busy server);
 * until then, its end says nothing, and the server's end is not called a crash.
 */
export class ChangeWaiter {
  private child: ChildProcess | undefined;
  private stopped = false;
  private sentinel: Sentinel | undefined;

  constructor(
    private readonly address: ServerAddress,
    readonly index: number,
    private readonly handlers: SignalHandlers,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.stopped || this.child) return;
    if (!this.sentinel || this.sentinel.ended) this.startSentinel();
    const child = this.spawnWait(channelFor(this.index));
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!this.stopped) this.handlers.onServerEnd({ unexpected: false, at: new Date(), detail: error.message });
    });
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopped) return;
      if (code === 0) {
        this.start();
        this.handlers.onSignal();
        return;
      }
      const at = new Date();
      const text = stderr.trim() || (signal ? `ended by ${signal}` : `exited with code ${code}`);
      this.log.trace(`change waiter ended: ${text}`);
      void this.howServerEnded().then((verdict) => {
        if (this.stopped) return;
        this.log.trace(`sentinel: ${verdict}`);
        this.handlers.onServerEnd({ unexpected: verdict === 'dropped', at, detail: verdict === 'dropped' ? (this.sentinel?.detail ?? text) : text });
      });
    });
  }

  /** The sentinel's word on the server's end, once it has one (a live sentinel: the server lives). */
  private async howServerEnded(): Promise<'dropped' | 'released' | 'unknown' | 'alive'> {
    const sentinel = this.sentinel;
    if (!sentinel) return 'unknown';
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([sentinel.outcome, new Promise<'alive'>((resolve) => (timer = setTimeout(() => resolve('alive'), SENTINEL_WAIT_MS)))]);
    clearTimeout(timer);
    if (outcome === 'dropped' && !sentinel.confirmed) return 'unknown';
    return outcome;
  }

  /** Starts the sentinel, and a while later asks the server something to count it (see above). */
  private startSentinel(): void {
    this.sentinel?.stop();
    const sentinel = new Sentinel(this.spawnWait(aliveChannelFor(this.index)));
    this.sentinel = sentinel;
    // The timer is the settling time; Date.now() may read a millisecond short of it when it fires.
    sentinel.settle = setTimeout(() => {
      void this.handlers
        .confirm()
        .then(() => sentinel.confirm())
        .catch(() => undefined);
    }, SENTINEL_SETTLE_MS);
  }

  private spawnWait(channel: string): ChildProcess {
    return spawn(this.address.tmuxPath, [...serverFlags(this.address), 'wait-for', channel], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: tmuxEnvironment(),
    });
  }

  /** A read that started at `startedAt` succeeded: the sentinel counts if it had settled by then. */
  readSucceeded(startedAt: number): void {
    this.sentinel?.confirmIfAfterSettling(startedAt);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the sentinel counts now, so that a crash would be named one. */
  get crashWatch(): boolean {
    return !!this.sentinel?.confirmed && !this.sentinel.ended;
  }

  stop(): void {
    this.stopped = true;
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) child.kill('SIGTERM');
    this.sentinel?.stop();
  }
}

/** How long a waiter that ended waits for the sentinel's end; still waiting after it, the server lives. */
const SENTINEL_WAIT_MS = 2000;
/** How long after its start a command's answer counts the sentinel as taken in by the server. */
const SENTINEL_SETTLE_MS = 1000;

/** The sentinel `wait-for` of a ChangeWaiter: how it ends, and whether the server had accepted it. */
class Sentinel {
  readonly outcome: Promise<'dropped' | 'released' | 'unknown'>;
  readonly spawnedAt = Date.now();
  confirmed = false;
  ended = false;
  detail = '';

  constructor(private readonly child: ChildProcess) {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    this.outcome = new Promise((resolve) => {
      child.on('error', () => {
        this.ended = true;
        resolve('unknown');
      });
      child.on('close', (code) => {
        this.ended = true;
        this.detail = stderr.trim();
        resolve(code === 0 ? 'released' : /server exited unexpectedly/i.test(stderr) ? 'dropped' : 'unknown');
      });
    });
  }

  settle: NodeJS.Timeout | undefined;

  confirmIfAfterSettling(askedAt: number): void {
    if (askedAt >= this.spawnedAt + SENTINEL_SETTLE_MS) this.confirm();
  }

  confirm(): void {
    if (!this.ended) this.confirmed = true;
  }

  stop(): void {
    clearTimeout(this.settle);
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
