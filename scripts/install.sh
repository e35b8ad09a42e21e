#!/usr/bin/env bash
# Builds the extension from a fresh checkout and installs it:
#   installs dependencies, type-checks, bundles (minified), packs tmux-session-manager.vsix,
#   and installs that into VS Code when the `code` command is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install: Node.js 20 or newer with npm is needed (https://nodejs.org)." >&2
  exit 1
fi

echo "==> installing dependencies"
npm ci --no-audit --no-fund

echo "==> packing the extension (type check, minified bundle, .vsix)"
npx vsce package --no-dependencies --allow-missing-repository --no-rewrite-relative-links -o tmux-session-manager.vsix

installed=0
for editor in code code-insiders codium code-server; do
  if command -v "$editor" >/dev/null; then
    echo "==> installing into $editor"
    "$editor" --install-extension tmux-session-manager.vsix --force
    installed=1
  fi
done
if [ "$installed" = 0 ]; then
  echo "==> no 'code' command found: install tmux-session-manager.vsix from VS Code's Extensions view (… → Install from VSIX…)"
fi

if ! command -v tmux >/dev/null; then
  echo "note: tmux is not installed; the extension needs tmux 3.2 or newer (for example: sudo apt install tmux)." >&2
fi
echo "done: $(pwd)/tmux-session-manager.vsix"
