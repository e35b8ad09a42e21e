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
