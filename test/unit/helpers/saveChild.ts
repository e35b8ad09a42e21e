import * as fs from 'node:fs';
import { writeFileAtomically } from '../../../src/core/snapshots/atomicFile';
import type { LockPurpose } from '../../../src/core/snapshots/store';

/**
 * A separate process for the fault tests: something the test can SIGKILL halfway, or run next to
 * itself, exactly as another VS Code window or the command-line tool would. Modes:
 *
 *   atomic <file> <contentA> <contentB>   rewrite <file> with A, B, A, … forever, until killed
 *   save <dataDir> <session> <count> <tag> save <count> snapshots of <session>, then exit
 *   hold <dataDir> <purpose> <ms> <staleMs> take the activity lock and hold it for <ms>
 *
 * It prints `ready`, `locked <epoch ms>`, `releasing <epoch ms>` and `done` lines for the test.
 */
async function main(argv: string[]): Promise<void> {
  const [mode, ...args] = argv;
  if (mode === 'atomic') {
    const [file, fileA, fileB] = args;
    const contents = [fs.readFileSync(fileA), fs.readFileSync(fileB)];
    process.stdout.write('ready\n');
    for (let i = 0; ; i++) await writeFileAtomically(file, contents[i % 2]);
  }
  // Loaded only when needed: the `atomic` mode must start fast, it is started hundreds of times.
  const { SnapshotStore } = require('../../../src/core/snapshots/store') as typeof import('../../../src/core/snapshots/store');
  const { makeSnapshot, sleep } = require('./snapshotFixtures') as typeof import('./snapshotFixtures');
  if (mode === 'save') {
    const [dataDir, session, count, tag] = args;
    const store = new SnapshotStore(dataDir);
    for (let i = 0; i < Number(count); i++) {
      await store.save(makeSnapshot(session, { label: `${tag} ${i}`, kind: 'manual', scrollbackChars: 200_000, seed: `${tag}-${i}` }));
    }
    process.stdout.write('done\n');
    return;
  }
  if (mode === 'hold') {
    const [dataDir, purpose, ms, staleMs] = args;
    const store = new SnapshotStore(dataDir, { staleLockMs: Number(staleMs) });
    await store.withLock(purpose as LockPurpose, async () => {
      process.stdout.write(`locked ${Date.now()}\n`);
      await sleep(Number(ms));
      process.stdout.write(`releasing ${Date.now()}\n`);
    });
    process.stdout.write('done\n');
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
