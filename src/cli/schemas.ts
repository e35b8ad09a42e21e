import { z } from 'zod';

/**
 * The --json output of every command: one definition per command, from which both the TypeScript
 * types the commands print and the published JSON Schemas (schemas/cli/*.json, made by
 * `npm run schemas`) come. The tool itself imports only the types, so zod is not loaded to print.
 *
 * Stability: fields are only ever added. A field's meaning or type does not change; a removal
 * would come with a new `schemas/cli/` major folder.
 */

const paneId = z.string().regex(/^%\d+$/).describe('tmux pane id, like %7');
const windowId = z.string().regex(/^@\d+$/).describe('tmux window id, like @3');
const sessionId = z.string().regex(/^\$\d+$/).describe('tmux session id, like $1');
const anyId = z.string().regex(/^[$@%]\d+$/);
const time = z.iso.datetime().describe('ISO 8601 time, UTC');

export const paneSchema = z.object({
  id: paneId,
  index: z.int().nonnegative(),
  active: z.boolean(),
  pid: z.int().describe("the pane's first process (usually its shell)"),
  command: z.string().describe("the pane's foreground program, as tmux names it"),
  path: z.string().describe("the pane's current folder"),
  title: z.string(),
  width: z.int(),
  height: z.int(),
  dead: z.boolean().describe('the program exited and the pane is kept (remain-on-exit)'),
  exitStatus: z.int().nullable().describe('for a dead pane, its exit status; null otherwise or when unknown'),
});

export const windowSchema = z.object({
  id: windowId,
  index: z.int().nonnegative(),
  name: z.string(),
  active: z.boolean(),
  zoomed: z.boolean(),
  layout: z.string(),
  panes: z.array(paneSchema),
});

export const sessionSchema = z.object({
  id: sessionId,
  name: z.string(),
  attachedClients: z.int().nonnegative().describe('clients attached, not counting control-mode clients'),
  created: time,
  activity: time,
  windows: z.array(windowSchema),
});

export const lsSchema = z
  .object({
    socket: z.string().describe("the server's socket file"),
    sessions: z.array(sessionSchema),
  })
  .meta({ title: 'tmux-session-manager ls --json', description: 'Every session (or the one named), its windows and panes.' });

export const newSchema = z.object({ id: sessionId, name: z.string() }).meta({ title: 'tmux-session-manager new --json' });

const targetSchema = z.object({ kind: z.enum(['session', 'window', 'pane']), id: anyId, description: z.string() });

export const killSchema = z
  .object({
    target: targetSchema,
    lastStep: z.enum(['interrupt', 'terminate', 'kill', 'close']).describe('interrupt: everything stopped on C-c; close: nothing was running'),
    terminated: z.int().nonnegative().describe('processes that got SIGTERM'),
    killed: z.int().nonnegative().describe('processes that got SIGKILL'),
  })
  .meta({ title: 'tmux-session-manager kill --json' });

export const sendSchema = z
  .object({
    pane: paneId,
    text: z.string().nullable().describe('typed literally; null when none was given'),
    keys: z.array(z.string()).describe('key names pressed after the text'),
    enter: z.boolean(),
    signal: z
      .object({
        name: z.string(),
        processGroup: z.int().optional().describe("the pane's foreground job, when one ran"),
        pid: z.int().optional().describe("the pane's first process, when no job ran"),
      })
      .nullable(),
  })
  .meta({ title: 'tmux-session-manager send --json' });

export const captureSchema = z
  .object({ pane: paneId, text: z.string().describe('scrollback and screen, wrapped lines joined, trailing blank lines dropped') })
  .meta({ title: 'tmux-session-manager capture --json' });

export const followSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('start'), pane: paneId }),
    z.object({ type: z.literal('output'), text: z.string() }),
    z.object({ type: z.literal('end'), reason: z.enum(['paneExited', 'paneGone', 'pipeClosed', 'stopped', 'timeout']) }),
  ])
  .meta({ title: 'tmux-session-manager follow --json', description: 'One JSON object per line: start, then output chunks, then end.' });

export const waitSchema = z
  .object({
    pane: paneId,
    outcome: z.enum(['matched', 'quiet', 'exited', 'timeout', 'cancelled']),
    match: z.string().optional().describe('for matched: the text the pattern matched'),
    elapsedMs: z.int().nonnegative(),
    lastLines: z.array(z.string()).describe('the last lines of output seen while waiting, plain text'),
  })
  .meta({ title: 'tmux-session-manager wait --json' });

export const snapshotEntrySchema = z.object({
  id: z.string().describe('pass it to restore'),
  session: z.string(),
  kind: z.enum(['auto', 'manual']),
  label: z.string().optional(),
  savedAt: time,
  windows: z.int().nonnegative(),
  panes: z.int().nonnegative(),
  bytes: z.int().nonnegative(),
  file: z.string(),
  broken: z.string().optional().describe('why the file cannot be restored; absent for a good one'),
});

export const snapshotsSchema = z.object({ snapshots: z.array(snapshotEntrySchema) }).meta({ title: 'tmux-session-manager snapshots --json', description: 'Newest first.' });

export const saveSchema = z.object({ saved: z.array(snapshotEntrySchema) }).meta({ title: 'tmux-session-manager save --json' });

export const restoreSchema = z
  .object({
    snapshot: z.string(),
    sessionId,
    name: z.string(),
    programsStarted: z.array(z.string()),
    programsSkipped: z.array(z.string()).describe('outside the safe list and not approved with --yes, or left out by --programs'),
    warnings: z.array(z.string()),
  })
  .meta({ title: 'tmux-session-manager restore --json' });

export const healthSchema = z
  .object({
    ok: z.boolean(),
    checks: z.array(
      z.object({
        id: z.enum(['binary', 'version', 'server', 'socket', 'connection', 'dataDir']),
        label: z.string(),
        ok: z.boolean(),
        detail: z.string(),
        fixes: z.array(z.string()),
      }),
    ),
  })
  .meta({ title: 'tmux-session-manager health --json' });

const bytesPerSecond = z.number().nonnegative().optional().describe('bytes per second since the first reading; absent without two readings, on macOS, or when unreadable');
const cpuPercent = z.number().nonnegative().optional().describe('percent of one core since the first reading; absent without two readings');

export const metricsSchema = z
  .object({
    takenAt: z.number().describe('when the processes were read, milliseconds since the epoch'),
    intervalSeconds: z.number().optional().describe('seconds between the two readings'),
    source: z.enum(['proc', 'ps']),
    panes: z.array(
      z.object({
        paneId,
        sessionId,
        sessionName: z.string(),
        target: z.string().describe('session:window.pane'),
        program: z.string(),
        pid: z.int(),
        processes: z.int().nonnegative(),
        cpuPercent,
        rssBytes: z.int().nonnegative(),
        readBytesPerSecond: bytesPerSecond,
        writeBytesPerSecond: bytesPerSecond,
      }),
    ),
    sessions: z.array(
      z.object({
        sessionId,
        sessionName: z.string(),
        panes: z.int().nonnegative(),
        cpuPercent,
        rssBytes: z.int().nonnegative(),
        readBytesPerSecond: bytesPerSecond,
        writeBytesPerSecond: bytesPerSecond,
      }),
    ),
  })
  .meta({ title: 'tmux-session-manager metrics --json', description: 'Panes sorted as asked (CPU by default); sessions sum their panes.' });

const candidateSchema = z.object({
  key: z.string().describe('pass it to "gc --yes KEY" to clean up only this'),
  kind: z.enum(['idleSession', 'missingFolder', 'deadPane', 'deletedSessionSnapshots', 'staleLock', 'staleTempFile']),
  target: z.discriminatedUnion('type', [
    z.object({ type: z.literal('session'), id: sessionId, name: z.string() }),
    z.object({ type: z.literal('pane'), id: paneId, sessionId, sessionName: z.string(), windowIndex: z.int(), paneIndex: z.int() }),
    z.object({ type: z.literal('snapshots'), sessionName: z.string(), ids: z.array(z.string()) }),
    z.object({ type: z.literal('file'), path: z.string() }),
  ]),
  label: z.string(),
  reason: z.string(),
});

export const gcSchema = z
  .object({
    dryRun: z.boolean(),
    candidates: z.array(candidateSchema).describe('what the policy proposes now'),
    outcomes: z
      .array(z.object({ key: z.string(), result: z.enum(['done', 'skipped', 'failed']), detail: z.string() }))
      .optional()
      .describe('with --yes: what was done to each, after deciding again on a fresh reading'),
  })
  .meta({ title: 'tmux-session-manager gc --json' });

export const serviceSchema = z.object({
  name: z.string(),
  phase: z
    .enum(['stopped', 'waiting', 'starting', 'running', 'unhealthy', 'stalled', 'restarting', 'failed', 'stopping', 'completed', 'timedOut'])
    .describe('running: started, and ready when it has a ready probe'),
  pane: paneId.nullable(),
  restarts: z.int().nonnegative(),
  lastExit: z.string().nullable().describe('how its last run ended: "exited 1", "killed by SIGKILL"'),
  lastProbe: z.object({ ok: z.boolean(), message: z.string(), at: time }).nullable(),
  message: z.string().nullable().describe('why it failed, or what it waits for'),
});

export const upSchema = z
  .object({
    session: z.string(),
    sessionId,
    file: z.string().describe('the profile'),
    outcome: z.enum(['ready', 'failed', 'timeout']).describe('every service ready; one failed; --timeout passed first'),
    services: z.array(serviceSchema),
  })
  .meta({ title: 'tmux-session-manager up --json' });

export const downSchema = z
  .object({ session: z.string(), stopped: z.array(z.string()).describe('the services stopped, before the session was closed') })
  .meta({ title: 'tmux-session-manager down --json' });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(['usage', 'notFound', 'noServer', 'tmuxMissing', 'tmuxTooOld', 'timeout', 'notAvailable', 'failed']),
      message: z.string(),
      exitCode: z.int(),
    }),
  })
  .meta({ title: 'tmux-session-manager error (--json)', description: 'Printed on standard error when a command fails with --json.' });

/** Every published schema, by file name (schemas/cli/<name>.json). */
export const CLI_SCHEMAS = {
  ls: lsSchema,
  new: newSchema,
  kill: killSchema,
  send: sendSchema,
  capture: captureSchema,
  follow: followSchema,
  wait: waitSchema,
  save: saveSchema,
  restore: restoreSchema,
  snapshots: snapshotsSchema,
  health: healthSchema,
  metrics: metricsSchema,
  gc: gcSchema,
  up: upSchema,
  down: downSchema,
  error: errorSchema,
} as const;

export type LsOutput = z.infer<typeof lsSchema>;
export type PaneOutput = z.infer<typeof paneSchema>;
export type NewOutput = z.infer<typeof newSchema>;
export type KillOutput = z.infer<typeof killSchema>;
export type SendOutput = z.infer<typeof sendSchema>;
export type CaptureOutput = z.infer<typeof captureSchema>;
export type FollowLine = z.infer<typeof followSchema>;
export type WaitOutput = z.infer<typeof waitSchema>;
export type SnapshotEntryOutput = z.infer<typeof snapshotEntrySchema>;
export type SnapshotsOutput = z.infer<typeof snapshotsSchema>;
export type SaveOutput = z.infer<typeof saveSchema>;
export type RestoreOutput = z.infer<typeof restoreSchema>;
export type HealthOutput = z.infer<typeof healthSchema>;
export type MetricsOutput = z.infer<typeof metricsSchema>;
export type GcOutput = z.infer<typeof gcSchema>;
export type ServiceOutput = z.infer<typeof serviceSchema>;
export type UpOutput = z.infer<typeof upSchema>;
export type DownOutput = z.infer<typeof downSchema>;
export type ErrorOutput = z.infer<typeof errorSchema>;

/** The published form of one schema: JSON Schema 2020-12, with an id naming the command. */
export function schemaDocument(name: string, schema: z.ZodType): Record<string, unknown> {
  return { $id: `tmux-session-manager/cli/${name}.json`, ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }) };
}
