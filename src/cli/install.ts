import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The command-line tool on PATH without a separate Node install, the way VS Code's own `code`
 * command gets there: a small POSIX sh launcher per name, which runs the extension's dist/cli.js
 * with `node` when there is one and otherwise with the editor's own runtime (Electron, or the
 * remote server's Node, run as plain Node with ELECTRON_RUN_AS_NODE=1). No vscode import: tests
 * run it with HOME pointed at a temporary folder.
 */

export const LAUNCHER_NAMES = ['tmux-session-manager', 'tsm'] as const;

/** The line that marks a launcher as ours: only files that carry it are ever overwritten. */
const MARKER = '# tmux-session-manager launcher (written by the VS Code extension "Tmux Session Manager")';

/** Where launchers go: ~/.local/bin, the per-user folder of the XDG base directory spec and systemd's file-hierarchy. */
export function launcherFolder(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME || os.homedir(), '.local', 'bin');
}

/** `value` as one sh word, whatever it holds. */
function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function launcherText(cliPath: string, runtimePath: string): string {
  return [
    '#!/bin/sh',
    MARKER,
    '# "Tmux: Install Command-Line Tool" rewrites it; delete it to uninstall.',
    `cli=${shQuote(cliPath)}`,
    'if [ ! -f "$cli" ]; then',
    '  echo "tmux-session-manager: $cli is gone (the extension was updated or removed). Open VS Code once, or run \\"Tmux: Install Command-Line Tool\\" again." >&2',
    '  exit 1',
    'fi',
    'if command -v node >/dev/null 2>&1; then exec node "$cli" "$@"; fi',
    `ELECTRON_RUN_AS_NODE=1 exec ${shQuote(runtimePath)} "$cli" "$@"`,
    '',
  ].join('\n');
}

export function isOurLauncher(text: string): boolean {
  return text.split('\n', 3).includes(MARKER);
}

export interface InstallResult {
  readonly folder: string;
  /** Launchers written now (new, or pointing at an older copy of the extension). */
  readonly written: string[];
  /** Already there and current. */
  readonly unchanged: string[];
  /** Files of those names that are not ours, left as they are. */
  readonly refused: string[];
  /** The folder is on PATH, so `tsm` works in a new shell. */
  readonly onPath: boolean;
}

/**
 * Writes the launchers into `folder` (made if missing). A file of the same name that is not ours
 * (another program called tsm, say) is never touched. Running it again changes nothing unless the
 * extension moved (an update installs it in a new folder).
 */
export function installLaunchers(options: { cliPath: string; runtimePath: string; folder?: string; env?: NodeJS.ProcessEnv; onlyRefresh?: boolean }): InstallResult {
  const env = options.env ?? process.env;
  const folder = options.folder ?? launcherFolder(env);
  const text = launcherText(options.cliPath, options.runtimePath);
  const result: InstallResult = { folder, written: [], unchanged: [], refused: [], onPath: isOnPath(folder, env) };
  if (!options.onlyRefresh) fs.mkdirSync(folder, { recursive: true });
  for (const name of LAUNCHER_NAMES) {
    const file = path.join(folder, name);
    let existing: string | undefined;
    try {
      // lstat: a symbolic link of that name belongs to someone else even if it points at ours.
      const stat = fs.lstatSync(file);
      existing = stat.isFile() && stat.size < 64 * 1024 ? fs.readFileSync(file, 'utf8') : '';
    } catch {
      existing = undefined;
    }
    if (existing === undefined && options.onlyRefresh) continue;
    if (existing !== undefined && !isOurLauncher(existing)) {
      result.refused.push(file);
      continue;
    }
    if (existing === text) {
      result.unchanged.push(file);
      continue;
    }
    // Written beside it and renamed over it: a shell running the old one never reads half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, text, { mode: 0o755 });
    fs.renameSync(temporary, file);
    result.written.push(file);
  }
  return result;
}

export function isOnPath(folder: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const wanted = path.resolve(folder);
  return (env.PATH ?? '').split(path.delimiter).some((entry) => entry !== '' && path.resolve(entry) === wanted);
}

/** The line to add to the shell's startup file, and which file, for a folder that is not on PATH. */
export function pathAdvice(folder: string, env: NodeJS.ProcessEnv = process.env): { line: string; file: string } {
  const home = env.HOME || os.homedir();
  const shown = folder.startsWith(`${home}/`) ? `$HOME/${folder.slice(home.length + 1)}` : folder;
  const shell = path.basename(env.SHELL ?? '');
  const file = shell === 'zsh' ? '~/.zshrc' : shell === 'bash' ? '~/.bashrc' : shell === 'fish' ? '~/.config/fish/config.fish' : '~/.profile';
  const line = shell === 'fish' ? `fish_add_path ${shown.replace('$HOME', '~')}` : `export PATH="${shown}:$PATH"`;
  return { line, file };
}
