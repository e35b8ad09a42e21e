// Bundles the extension into dist/extension.js and the command-line tool into dist/cli.js.
// Libraries only snapshots use go into dist/snapshot-libraries.js, loaded on first use.
// Type checking is its own script (`npm run check-types`); esbuild only strips types.
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints build errors in the `file:line:col: error: text` form VS Code's problem matchers read. */
const problemReporter = {
  name: 'problem-reporter',
  setup(build) {
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
    });
  },
};

const shared = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  plugins: [problemReporter],
};

/**
 * The libraries only snapshots use go into dist/snapshot-libraries.js, required on first use
 * (src/core/snapshots/libraries.ts), so activation does not parse them.
 */
const snapshotLibrariesApart = {
  name: 'snapshot-libraries-apart',
  setup(build) {
    build.onResolve({ filter: /vendor\/snapshotLibraries$/ }, () => ({ path: './snapshot-libraries.js', external: true }));
    build.onResolve({ filter: /vendor\/profileLibraries$/ }, () => ({ path: './profile-libraries.js', external: true }));
  },
};

/**
 * The command-line tool gets src/cli/execaLite.ts for execa: a one-shot process would spend about
 * as long loading execa as running the tmux command it makes (see that file).
 */
const liteExeca = {
  name: 'lite-execa',
  setup(build) {
    build.onResolve({ filter: /^execa$/ }, () => ({ path: require('node:path').join(__dirname, 'src/cli/execaLite.ts') }));
  },
};

async function main() {
  const apart = { ...shared, plugins: [...shared.plugins, snapshotLibrariesApart] };
  const contexts = await Promise.all([
    esbuild.context({ ...apart, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
    esbuild.context({ ...apart, plugins: [...apart.plugins, liteExeca], entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
    esbuild.context({ ...shared, entryPoints: ['src/vendor/snapshotLibraries.ts'], outfile: 'dist/snapshot-libraries.js' }),
    esbuild.context({ ...shared, entryPoints: ['src/vendor/profileLibraries.ts'], outfile: 'dist/profile-libraries.js' }),
  ]);
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  try {
    await Promise.all(contexts.map((c) => c.rebuild()));
  } finally {
    await Promise.all(contexts.map((c) => c.dispose()));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
