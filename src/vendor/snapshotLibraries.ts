/**
 * The libraries only snapshots use, bundled into a file of their own (dist/snapshot-libraries.js,
 * see esbuild.js) and loaded on first use: parsing them cost every activation ~5 ms, and
 * activation reads no snapshot.
 */
import { array, boolean, enum as oneOf, int, iso, literal, minLength, nonnegative, nullable, object, optional, record, string } from 'zod/mini';

/** The parts of zod/mini the schemas use, named so the bundler keeps only those. */
export const z = { array, boolean, enum: oneOf, int, iso: { datetime: iso.datetime }, literal, minLength, nonnegative, nullable, object, optional, record, string };
export * as lockfile from 'proper-lockfile';
