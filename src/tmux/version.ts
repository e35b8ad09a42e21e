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
