/** A tmux version as `tmux -V` prints it: `tmux 3.3a`, `tmux 3.4`, `tmux next-3.5`, `tmux master`. */
export interface TmuxVersion {
  readonly major: number;
  readonly minor: number;
  /** The letter of a patch release (`a` in 3.3a), or ''. */
  readonly patch: string;
  /** What tmux printed after its name. */
  readonly text: string;
}

export const MINIMUM_VERSION: TmuxVersion = { major: 3, minor: 2, patch: '', text: '3.2' };

/** Builds from git (`master`) and OpenBSD base (`openbsd-7.4`) are newer than any release we need. */
const UNNUMBERED: TmuxVersion = { major: 999, minor: 0, patch: '', text: '' };

export function parseVersion(output: string): TmuxVersion {
  const text = output.trim().replace(/^tmux\s+/, '');
  const match = /(\d+)\.(\d+)([a-z]?)/.exec(text);
  if (!match) return { ...UNNUMBERED, text };
  if (text.startsWith('openbsd-')) return { ...UNNUMBERED, text };
  return { major: Number(match[1]), minor: Number(match[2]), patch: match[3], text };
}

export function versionAtLeast(version: TmuxVersion, wanted: TmuxVersion): boolean {
  if (version.major !== wanted.major) return version.major > wanted.major;
  if (version.minor !== wanted.minor) return version.minor > wanted.minor;
  return version.patch >= wanted.patch;
}

/**
 * The first release we trust to take a control-mode client while it is busy. Every release through
 * 3.7c can crash the whole server when a notification reaches a control client that is half way
 * through identifying itself (control-notify.c, CONTROL_SHOULD_NOTIFY_CLIENT; upstream issue 5570),
 * so with those the service connects without one (see service.ts).
 */
export const SAFE_CONTROL_MODE_VERSION: TmuxVersion = { major: 3, minor: 8, patch: '', text: '3.8' };

/**
 * Before 3.7 a control client's session subscription (refresh-client -B) crashes the server when
 * the session the client is attached to is killed and the subscription's once-a-second check runs
 * before the client has left (control.c, control_check_subs_session reads s->id of no session).
 */
export const SAFE_SUBSCRIPTION_VERSION: TmuxVersion = { major: 3, minor: 7, patch: '', text: '3.7' };
