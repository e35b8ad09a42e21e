import * as fs from 'node:fs';
import * as path from 'node:path';
import { shellQuote } from '../snapshots/programs';
import { commandLine } from '../../tmux/quote';
import { AGENTS_CHANNEL, AGENTS_DIRTY_OPTION, EVENT_OPTION, SEQUENCE_OPTION } from './hooks';

/**
 * The hook command every agent kind runs: a POSIX sh script, so it works where no Node is on PATH
 * (the agent's own environment, a container, a remote host reached over ssh).
 *
 * It takes the event JSON from its last argument when that is JSON (Codex's notify) and otherwise
 * from stdin (Claude Code, Gemini CLI, Codex hooks); aider's notifications command names the event
 * as an argument and sends no JSON. It picks out the few fields the state needs with sed, and
 * writes them, with a timestamp, into a user option of its own pane (`$TMUX_PANE`), bumps that
 * pane's sequence number, and signals the agents channel — only when it turns the global dirty
 * flag on, because tmux remembers one signal sent while nobody waits and a second one erases it
 * (the same rule as the structure hooks, see src/tmux/hooks.ts). One tmux process does all of it
 * as one command list, so a reader never sees an event without its sequence number.
 *
 * It never prints (Gemini CLI parses a hook's stdout as JSON) and always exits 0 (a failing hook
 * must not disturb the agent). Outside tmux it only drains its input.
 */
export const HOOK_SCRIPT_NAME = 'tmux-session-manager-agent-hook.sh';

/** At most this many characters of a message are kept (the option is read for every agent at once). */
export const MESSAGE_LIMIT = 200;

export function hookScriptText(tmuxPath: string): string {
  // The if-shell body is parsed by tmux's command parser, so it is built by the one quoter.
  const unlessDirty = `#{!=:#{${AGENTS_DIRTY_OPTION}},1}`;
  const markAndSignal = [commandLine(['set-option', '-g', AGENTS_DIRTY_OPTION, '1']), commandLine(['wait-for', '-S', AGENTS_CHANNEL])].join(' ; ');
  // One sed pass picks every field: `h` keeps the line, each `s///p` prints `name=value` for a
  // field that is there, `g` brings the line back for the next. A value ends at its closing quote
  // or at its first backslash (an escape), and keeps at most MESSAGE_LIMIT characters.
  // (An interval such as \{0,200\} would be neater, but GNU sed compiles it into a slow matcher.)
  const pick = (key: string) => `-e 's/.*"${key}"[[:space:]]*:[[:space:]]*"\\([^"\\\\]*\\).*/${key}=\\1/p' -e g`;
  // cut keeps MESSAGE_LIMIT characters of a message; the other fields are short names anyway.
  const messageWidth = MESSAGE_LIMIT + 'message='.length;
  const keys = ['hook_event_name', 'type', 'notification_type', 'source', 'reason', 'tool_name', 'error', 'message'];
  return `#!/bin/sh
# Tmux Session Manager: passes a coding agent's hook event to tmux (see the extension's README,
# "Agent states"). Safe to delete: the extension writes it again when it starts an agent.
kind=\${1:-agent}
given=\${2:-}
json=
case $given in
  '{'*) json=$given; given= ;;
  '') if [ ! -t 0 ]; then json=$(tr '\\n\\r\\t' '   '); fi ;;
esac
[ -n "\${TMUX_PANE:-}" ] || exit 0
hook_event_name= type= notification_type= source= reason= tool_name= error= message=
if [ -n "$json" ]; then
  fields=$(printf '%s\\n' "$json" | sed -n -e h ${keys.map(pick).join(' ')} | cut -c1-${messageWidth})
  while IFS= read -r line; do
    case $line in
${keys.map((key) => `      ${key}=*) ${key}=\${line#*=} ;;`).join('\n')}
    esac
  done <<FIELDS
$fields
FIELDS
fi
event=\${given:-\${hook_event_name:-$type}}
sub=\${notification_type:-\${source:-$reason}}
case $event in StopFailure|*[Ee]rror*) ;; *) error= ;; esac
record="1	$(date +%s)	$kind	$event	$sub	$tool_name	$error	$message	."
\${TSM_TMUX:-${shellQuote(tmuxPath)}} set-option -p -t "$TMUX_PANE" ${EVENT_OPTION} "$record" \\; \\
  set-option -p -F -t "$TMUX_PANE" ${SEQUENCE_OPTION} '#{e|+:#{${SEQUENCE_OPTION}},1}' \\; \\
  if-shell -F ${shellQuote(unlessDirty)} ${shellQuote(markAndSignal)} >/dev/null 2>&1
exit 0
`;
}

/**
 * Writes the script into `folder` (only when its text changed, through a temporary file and a
 * rename, so an agent running it meanwhile never reads half a script); returns its path.
 */
export function writeHookScript(folder: string, tmuxPath: string): string {
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, HOOK_SCRIPT_NAME);
  const text = hookScriptText(tmuxPath);
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== text) {
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, text, { mode: 0o755 });
    fs.renameSync(temporary, file);
  }
  return file;
}

/** The shell command an agent runs for a hook (its JSON on stdin or as a last argument). */
export function hookCommand(script: string, kind: string): string {
  return `sh ${shellQuote(script)} ${shellQuote(kind)}`;
}
