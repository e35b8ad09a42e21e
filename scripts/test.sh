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

# Each step's output is kept to count the results for one closing line.
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> unit and tmux integration tests"
npx mocha --no-color 2>&1 | tee -a "$log"

echo "==> extension-host tests in a real VS Code"
node test/e2e/run-exthost.mjs 2>&1 | tee -a "$log"

echo "==> extension-host tests in an untrusted workspace (Workspace Trust on)"
node test/e2e/run-exthost.mjs --untrusted 2>&1 | tee -a "$log"

echo "==> UI test in a real browser"
node test/e2e/run-ui.mjs 2>&1 | tee -a "$log"

# grep finds nothing (exit 1) when a kind of line is absent; that is a count of 0, not an error.
count() { { grep -Eo "$1" "$log" || true; } | awk '{ n += $1 } END { print n + 0 }'; }
passed=$(( $(count '^ *[0-9]+ passing') + $(grep -Ec '^  PASS \(' "$log" || true) ))
failed=$(( $(count '^ *[0-9]+ failing') + $(grep -Ec '^  FAIL \(' "$log" || true) ))
echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
