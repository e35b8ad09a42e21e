import { Logger } from './log';

/**
 * A control client hears nothing about some changes in sessions it is not attached to: a
 * `split-window -d`, killing an inactive pane, an inactive pane's program exiting (tmux 3.3a,
 * control-notify.c only writes to clients attached to the session). We close that gap with global
 * hooks, one array index per client so several editors can each have theirs, whose command
 * signals a `wait-for` channel that a second control client of ours keeps waiting on.
 *
 * tmux remembers one signal sent while nobody waits, but a second one erases that memory
 * (cmd-wait-for.c removes a woken channel), so the waiting must never pause: the listener keeps
 * two `wait-for` commands queued. When one returns, tmux runs the next in the same pass over the
 * client's queue, before any other command, so a signal can only go unheard if it came before the
 * reply we act on; and the snapshot we take after that reply sees its change.
 */
export const CHANGE_HOOKS = [
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

/** Channel names carry this prefix, so hooks of ours left by a crashed editor can be recognised. */
export const CHANNEL_PREFIX = 'tmux-session-manager-changed-';

export type Run = (argv: readonly string[]) => Promise<string[]>;

export function channelFor(index: number): string {
  return CHANNEL_PREFIX + index;
}

export async function installHooks(run: Run, index: number, log: Logger): Promise<void> {
  const command = `wait-for -S ${channelFor(index)}`;
  await Promise.all(
    CHANGE_HOOKS.map((hook) =>
      run(['set-hook', '-g', `${hook}[${index}]`, command]).catch((error: Error) => {
        // Hook names differ between tmux versions (3.3a has no after-join-pane, for one): a hook
        // this tmux does not know is expected, not worth a warning on every connect.
        if (/invalid option/.test(error.message)) log.trace(`this tmux has no hook ${hook}`);
        else log.warn(`could not set hook ${hook}: ${error.message}`);
      }),
    ),
  );
}

export async function removeHooks(run: Run, index: number): Promise<void> {
  await Promise.all(CHANGE_HOOKS.map((hook) => run(['set-hook', '-gu', `${hook}[${index}]`]).catch(() => undefined)));
}

/**
 * Removes hooks of ours whose editor is gone: their index is the process id of the control
 * client that installed them, so an index no live client has is stale.
 */
export async function removeStaleHooks(run: Run, liveIndexes: ReadonlySet<number>, log: Logger): Promise<void> {
  const lines = [...(await run(['show-hooks', '-g']).catch(() => [])), ...(await run(['show-hooks', '-gw']).catch(() => []))];
  const stale = new Set<string>();
  for (const line of lines) {
    const match = /^([a-z-]+)\[(\d+)\] .*wait-for -S "?tmux-session-manager-changed-(\d+)/.exec(line);
    if (!match) continue;
    const index = Number(match[2]);
    if (!liveIndexes.has(index)) stale.add(`${match[1]}[${index}]`);
  }
  if (stale.size) log.info(`removing ${stale.size} hooks left by editors that are gone`);
  await Promise.all([...stale].map((hook) => run(['set-hook', '-gu', hook]).catch(() => undefined)));
}
