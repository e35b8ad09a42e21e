import type * as Libraries from '../../vendor/profileLibraries';

let loaded: typeof Libraries | undefined;

/** yaml and zod, loaded on the first profile read. */
export function profileLibraries(): typeof Libraries {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('../../vendor/profileLibraries') as typeof Libraries);
}
