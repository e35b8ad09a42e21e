import * as fs from 'node:fs';
import * as path from 'node:path';
import type WriteFileAtomic from 'write-file-atomic';

/**
 * Writes `data` so that `file` is always either the old or the new content, even if the process
 * is killed or the machine loses power: a temporary file in the same folder (`<file>.<number>`),
 * fsync, rename, then fsync of the folder so the rename itself is on disk.
 *
 * Its own module, free of the schema library, so that a process that only writes starts fast
 * (the fault test starts hundreds of them).
 */
export async function writeFileAtomically(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  // Loaded on first use, like proper-lockfile in the store: activation does not write.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const writeFileAtomic = require('write-file-atomic') as typeof WriteFileAtomic;
  await writeFileAtomic(file, data, { fsync: true, mode });
  await fsyncFolder(path.dirname(file));
}

async function fsyncFolder(folder: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(folder, 'r');
    await handle.sync();
  } catch {
    // Some platforms and file systems cannot fsync a folder; the rename is still atomic there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
