import type * as Libraries from '../../vendor/snapshotLibraries';

let loaded: typeof Libraries | undefined;

/** zod and proper-lockfile, loaded on the first snapshot read, write or lock. */
export function snapshotLibraries(): typeof Libraries {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('../../vendor/snapshotLibraries') as typeof Libraries);
}
