// Installs (or checks) everything the offline e2e runners need. Safe to run again: each step
// is skipped when already done.   node test/e2e/setup.mjs
import { ensureWorkbench } from './install.mjs';

const t0 = Date.now();
try {
  await ensureWorkbench();
  console.log(`[e2e-setup] ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
} catch (error) {
  console.error(`[e2e-setup] FAILED: ${error.message}`);
  process.exit(1);
}
