import type * as Zod from 'zod/mini';
import type * as Libraries from '../../vendor/snapshotLibraries';
import { snapshotLibraries } from './libraries';

/**
 * The snapshot file: one tmux session, versioned, validated on every read. A file we cannot
 * trust (truncated, not JSON, wrong types, written by a newer version, too large) is reported
 * with its reason and never used.
 */

export const SNAPSHOT_FORMAT = 'tmux-session-manager/snapshot';
export const SNAPSHOT_VERSION = 1;
/** Larger files are refused before they are read: a session's snapshot is far smaller. */
export const MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024;

/** The schema, built with zod/mini (its tree-shakable build) when first needed. */
function buildSnapshotSchema(z: typeof Libraries.z) {
  const ProgramSchema = z.object({
    /** The program's own name (`vim`, `node`), as `ps` and tmux's pane_current_command show it. */
    name: z.string(),
    /** Its exact argument vector, read from the process table. */
    argv: z.array(z.string()).check(z.minLength(1)),
  });

  const ScrollbackSchema = z.object({
    /** Lines as `capture-pane -e -p -J` printed them, escape sequences kept, joined with `\n`. */
    text: z.string(),
    lines: z.int().check(z.nonnegative()),
  });

  const PaneSchema = z.object({
    index: z.int().check(z.nonnegative()),
    cwd: z.string(),
    title: z.string(),
    active: z.boolean(),
    /** The foreground program when it is not the pane's shell; null at a shell prompt. */
    program: z.nullable(ProgramSchema),
    /** The shell (or the first program) tmux started in the pane. */
    shell: z.optional(z.string()),
    scrollback: z.nullable(ScrollbackSchema),
  });

  const WindowSchema = z.object({
    index: z.int().check(z.nonnegative()),
    name: z.string(),
    /** tmux's `window_layout`, verbatim: its checksum, size and split tree. */
    layout: z.string().check(z.minLength(1)),
    active: z.boolean(),
    zoomed: z.boolean(),
    /** tmux names the window after its program (the name was not set by hand): restore keeps that. */
    automaticRename: z.optional(z.boolean()),
    panes: z.array(PaneSchema).check(z.minLength(1)),
  });

  const SnapshotSchema = z.object({
    format: z.literal(SNAPSHOT_FORMAT),
    version: z.literal(SNAPSHOT_VERSION),
    /** `auto` snapshots are pruned to the newest N per session; `manual` ones stay until deleted. */
    kind: z.enum(['auto', 'manual']),
    /** The name the user gave ("before refactor"); absent for autosaves and unnamed saves. */
    label: z.optional(z.string()),
    savedAt: z.iso.datetime(),
    tmuxVersion: z.string(),
    host: z.string(),
    session: z.object({
      name: z.string().check(z.minLength(1)),
      windows: z.array(WindowSchema).check(z.minLength(1)),
    }),
  });
  return SnapshotSchema;
}

let schema: ReturnType<typeof buildSnapshotSchema> | undefined;
export function snapshotSchema(): ReturnType<typeof buildSnapshotSchema> {
  return (schema ??= buildSnapshotSchema(snapshotLibraries().z));
}

export type Snapshot = Zod.infer<ReturnType<typeof buildSnapshotSchema>>;
export type SnapshotSession = Snapshot['session'];
export type SnapshotWindow = SnapshotSession['windows'][number];
export type SnapshotPane = SnapshotWindow['panes'][number];
export type SnapshotProgram = NonNullable<SnapshotPane['program']>;
export type SnapshotKind = Snapshot['kind'];

/** Why a file cannot be used, in words that say what to do. */
export class SnapshotFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'SnapshotFileError';
  }
}

export type ParseResult = { readonly ok: true; readonly snapshot: Snapshot } | { readonly ok: false; readonly reason: string };

/** Parses and validates a snapshot file's text. Never throws. */
export function parseSnapshotText(text: string): ParseResult {
  if (text.trim() === '') return { ok: false, reason: 'the file is empty (a save was interrupted before anything was written)' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const truncated = /end of (json )?input|unterminated/i.test(String(error));
    return { ok: false, reason: truncated ? 'the file is truncated (it ends in the middle of the JSON)' : `the file is not JSON (${(error as Error).message})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, reason: 'the file is JSON but not a snapshot (expected an object)' };
  const header = data as { format?: unknown; version?: unknown };
  if (header.format !== SNAPSHOT_FORMAT) return { ok: false, reason: `the file is not a tmux-session-manager snapshot (format is ${JSON.stringify(header.format) ?? 'missing'})` };
  if (typeof header.version === 'number' && header.version > SNAPSHOT_VERSION) {
    return { ok: false, reason: `the snapshot was written by a newer version (format ${header.version}; this one reads ${SNAPSHOT_VERSION}). Update the extension to restore it.` };
  }
  const result = snapshotSchema().safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : 'the document';
    return { ok: false, reason: `the snapshot is invalid at ${where}: ${issue.message}` };
  }
  return { ok: true, snapshot: result.data };
}

export function serializeSnapshot(snapshot: Snapshot): string {
  return `${JSON.stringify(snapshot, null, 1)}\n`;
}

export function countPanes(snapshot: Snapshot): number {
  return snapshot.session.windows.reduce((n, w) => n + w.panes.length, 0);
}
