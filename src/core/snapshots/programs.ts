/** Which programs a restore starts again, and with what command. */

export type ProgramPolicy = 'none' | 'safe' | 'all';

/** Programs that only show or edit what the user opened: running them again loses nothing. */
export const DEFAULT_SAFE_PROGRAMS: readonly string[] = ['vim', 'nvim', 'vi', 'view', 'nano', 'less', 'more', 'man', 'tail', 'top', 'htop', 'btop', 'watch'];

/**
 * Programs that would start blank if run again with the same arguments, mapped to the command
 * that resumes where they were (their own "continue the last conversation" flags).
 */
export const DEFAULT_RESTORE_COMMANDS: Readonly<Record<string, string>> = {
  claude: 'claude --continue',
  codex: 'codex resume --last',
  aider: 'aider --restore-chat-history',
};

/** Interpreters whose script, not themselves, is the program (`node /usr/bin/x` is x). */
const INTERPRETERS = /^(node|nodejs|bun|deno|python[0-9.]*|ruby|perl|php)$/;

function basename(file: string): string {
  return file.split('/').pop() ?? file;
}

/** The names a saved program answers to in the settings: its process name, its file, its script. */
export function programNames(program: { readonly name: string; readonly argv: readonly string[] }): string[] {
  const names = [program.name, basename(program.argv[0])];
  if (INTERPRETERS.test(basename(program.argv[0])) || INTERPRETERS.test(program.name)) {
    const script = program.argv.slice(1).find((arg) => !arg.startsWith('-'));
    if (script) names.push(basename(script).replace(/\.(m?js|cjs|ts|py|rb|pl|php)$/, ''));
  }
  return [...new Set(names.filter((name) => name.length > 0))];
}

/** One argument for a POSIX shell (and fish, bash, zsh alike): bare when plain, else single-quoted. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'"'"'`)}'`;
}

export function commandLineOf(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
