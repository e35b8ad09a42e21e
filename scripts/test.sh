#!/usr/bin/env bash
# Runs every test: unit and integration tests of src/tmux and src/core against real tmux, then the
# extension-host suite and the UI test in a real VS Code workbench (code-server + Chromium, set up
# on first use into .vscode-test/). Each test uses a private tmux server, never the default one.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tmux >/dev/null; then
  echo "test: tmux is not installed. Install tmux 3.2 or newer (sudo apt install tmux) and run again." >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

echo "==> type check and build"
npm run --silent check-types
node esbuild.js
npm run --silent compile-tests

echo "==> unit and tmux integration tests"
npx mocha

echo "==> extension-host tests in a real VS Code"
node test/e2e/run-exthost.mjs

echo "==> UI test in a real browser"
node test/e2e/run-ui.mjs
