import { Runner } from '../../tmux/commands';
import { NoServerError } from '../../tmux/errors';
import { profileLibraries } from '../profiles/libraries';
import type { AgentRecord } from './fleet';
import { AGENT_OPTION, GeminiUndo } from './hooks';

/**
 * An agent's record lives in its own tmux session, as session user options: the server is the one
 * place every window (a reload, a second window, the command-line tool) can read, and the record
 * goes with the session when the session goes. One `list-sessions` reads all of them at once.
 */

/** The AgentRecord, as JSON. A session without it is not an agent's. */
export const AGENT_SESSION_OPTION = '@tmux-session-manager-agent-session';
/** The agent's supervision record (its unit's part of a SupervisionRecord), as JSON. */
export const AGENT_SUPERVISION_OPTION = '@tmux-session-manager-agent-supervision';

/** What Finish must undo besides the worktree: Gemini's hooks in the working folder's settings. */
export interface StoredAgentRecord extends AgentRecord {
  readonly geminiUndo?: GeminiUndo;
}

export interface AgentSessionRow {
  readonly sessionId: string;
  readonly name: string;
  /** The session's active pane (an agent's session has only the one). */
  readonly pane?: string;
  /** Its pane runs the agent's launch command already (it marks its own pane), not the placeholder before it. */
  readonly launched: boolean;
  /** Undefined when the session is not an agent's. */
  readonly record?: StoredAgentRecord;
  /** Why a record that is there could not be used. */
  readonly problem?: string;
  /** The supervision record's JSON, when there is one. */
  readonly supervision?: string;
}

/** Between fields of one session's line: tmux prints a tab inside an option value as itself, but JSON never holds a raw tab. */
const SEPARATOR = '\t';
const FIELDS = ['#{session_id}', '#{pane_id}', `#{?#{${AGENT_OPTION}},1,0}`, '#{session_name}', `#{${AGENT_SESSION_OPTION}}`, `#{${AGENT_SUPERVISION_OPTION}}`];

/** Every session of the server, with its agent record where it has one; no server: none. */
export async function readAgentSessions(run: Runner): Promise<AgentSessionRow[]> {
  let lines: string[];
  try {
    lines = await run(['list-sessions', '-F', FIELDS.join(SEPARATOR)]);
  } catch (error) {
    if (error instanceof NoServerError) return [];
    throw error;
  }
  const rows: AgentSessionRow[] = [];
  for (const line of lines) {
    if (!line) continue;
    const fields = line.split(SEPARATOR);
    if (fields.length < 6) continue;
    // A session name may hold a tab; the ids and the JSON never do, so the name is what lies between.
    const sessionId = fields[0];
    const pane = fields[1] || undefined;
    const launched = fields[2] === '1';
    const supervision = fields[fields.length - 1];
    const recordText = fields[fields.length - 2];
    const name = fields.slice(3, fields.length - 2).join(SEPARATOR);
    if (!recordText) {
      rows.push({ sessionId, name, launched, ...(pane ? { pane } : {}) });
      continue;
    }
    const parsed = parseAgentRecord(recordText, name);
    rows.push({ sessionId, name, launched, ...(pane ? { pane } : {}), ...parsed, ...(supervision ? { supervision } : {}) });
  }
  return rows;
}

/** Checks a record read back from tmux; one that cannot be trusted says why, and its session is left alone. */
export function parseAgentRecord(text: string, session: string): { record?: StoredAgentRecord; problem?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `The agent record of session "${session}" is not JSON (${(error as Error).message}); the session is shown as a plain session. Finish it by hand, or unset ${AGENT_SESSION_OPTION} on it.` };
  }
  const result = schema().safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { problem: `The agent record of session "${session}" is not understood (${issue.path.join('.') || 'the record'}: ${issue.message}); the session is shown as a plain session.` };
  }
  // The record's own name is what was spawned; the session may have been renamed since, and tmux's name wins.
  return { record: { ...(result.data as StoredAgentRecord), session } };
}

export function formatAgentRecord(record: StoredAgentRecord): string {
  return JSON.stringify(record);
}

let built: ReturnType<typeof build> | undefined;

function schema(): ReturnType<typeof build> {
  return (built ??= build());
}

function build() {
  const { z } = profileLibraries();
  const ms = z.number().int().nonnegative();
  const limits = z
    .object({
      wallClockTimeoutMs: ms.optional(),
      noProgressTimeoutMs: ms.optional(),
      stalledAfterMs: ms.optional(),
      retries: ms.optional(),
      memoryWarnBytes: ms.optional(),
      memoryStopBytes: ms.optional(),
    })
    .loose();
  return z
    .object({
      session: z.string(),
      kind: z.string().min(1),
      task: z.string(),
      cwd: z.string().min(1),
      repo: z.string().optional(),
      worktree: z.string().optional(),
      branch: z.string().optional(),
      baseBranch: z.string().optional(),
      createdAt: z.number(),
      limits: limits.optional(),
      geminiUndo: z
        .object({ file: z.string(), createdFile: z.boolean(), createdFolder: z.boolean(), enabledHooks: z.boolean() })
        .optional(),
    })
    // Fields a newer version adds are kept, not refused: a record is only ever extended.
    .loose();
}
