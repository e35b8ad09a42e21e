import type { z as Z } from 'zod';
import { profileLibraries } from './libraries';

/**
 * The ONE definition of a profile file (`.tmux-session.yaml`): the parser validates against it and
 * the JSON Schema shipped for editors (schemas/tmux-session.schema.json) is generated from it.
 * Built on first use, since zod is loaded only when a profile is read.
 */
function build(z: typeof Z) {
  const duration = z
    .union([z.number().nonnegative(), z.string().regex(DURATION, 'write a duration like 500ms, 2s, 1.5m or 1h, or a number of milliseconds')])
    .describe('A duration: milliseconds as a number, or a string like 500ms, 2s, 1.5m, 1h.');
  const command = z.string().min(1, 'the command is empty');
  const env = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).describe('Environment variables set for the program(s).');
  const probeKeys = {
    http: z.string().describe('Passes on a 2xx answer from this URL (http:// or https://).').optional(),
    tcp: z.union([z.number().int().min(1).max(65535), z.string()]).describe('Passes when this port (or "host:port") accepts a connection.').optional(),
    output: z.string().describe('A regular expression; passes when the pane prints a match (new output only).').optional(),
    command: command.describe('Passes when this shell command exits 0.').optional(),
    interval: duration.describe('Between attempts. Default 200ms for a readiness probe (it runs only while the service starts), 1s for a health probe.').optional(),
    timeout: duration.describe('One attempt that takes longer fails. Default 1s.').optional(),
    initialDelay: duration.describe('From the start to the first attempt. Default 0.').optional(),
    startPeriod: duration.describe('Failures in this time after a start do not count. Default 0.').optional(),
  };
  const ready = z.strictObject(probeKeys).describe('Readiness probe: exactly one of http, tcp, output, command.');
  const health = z
    .strictObject({ ...probeKeys, failureThreshold: z.number().int().min(1).describe('Failures in a row that make the service unhealthy. Default 3.').optional() })
    .describe('Liveness probe: exactly one of http, tcp, output, command.');
  const condition = z.enum(['started', 'ready', 'completed']);
  const pane = z
    .strictObject({
      name: z.string().min(1).describe('Names the pane; a pane with a name and a command is a service others can depend on.').optional(),
      command: command.describe('Runs as the pane’s own process through your login shell ($SHELL -lc), never typed into a shell.').optional(),
      cwd: z.string().describe('Folder, relative to root. Default: root.').optional(),
      env: env.optional(),
      focus: z.boolean().describe('This pane is selected in its window.').optional(),
      dependsOn: z
        .record(z.string(), condition)
        .describe('Services to wait for, each with its condition: started, ready (its ready probe passed) or completed (exited 0).')
        .optional(),
      dependencyTimeout: duration.describe('How long to wait for dependencies. Default 60s.').optional(),
      ready: ready.optional(),
      health: health.optional(),
      restart: z.enum(['never', 'on-failure', 'always']).describe('Default on-failure.').optional(),
      backoff: z
        .strictObject({
          initialDelay: duration.describe('Default 1s.').optional(),
          maxDelay: duration.describe('Default 30s.').optional(),
          multiplier: z.number().min(1).describe('Default 2.').optional(),
          jitter: z.number().min(0).max(1).describe('± this fraction. Default 0.1.').optional(),
          resetAfter: duration.describe('A run this long resets the delay. Default 10s.').optional(),
        })
        .optional(),
      breaker: z
        .strictObject({
          failures: z.number().int().min(1).describe('This many failures inside the window open the breaker. Default 5.').optional(),
          window: duration.describe('Default 60s.').optional(),
          cooldown: duration.describe('Open this long, then one trial restart. Default 30s.').optional(),
          maxCooldown: duration.describe('Each failed trial doubles the cooldown up to this. Default 8m.').optional(),
        })
        .optional(),
      stop: z
        .strictObject({
          signal: z.string().regex(/^SIG[A-Z0-9]+$/, 'write a signal name like SIGTERM or SIGINT').describe('Default SIGTERM.').optional(),
          keys: z.array(z.string().min(1)).min(1).describe('tmux key names sent to the pane, like ["C-c"].').optional(),
          command: command.describe('A shell command that asks the service to stop.').optional(),
          timeout: duration.describe('Then SIGKILL to its process group. Default 10s.').optional(),
        })
        .optional(),
    })
    .describe('A pane: a shell, a program, or (with a name and a command) a supervised service.');
  const window = z.strictObject({
    name: z.string().describe('Default: the first pane’s name, or "1", "2"…').optional(),
    layout: z.string().describe('tiled, even-horizontal, even-vertical, main-horizontal, main-vertical, or an exact layout string.').optional(),
    focus: z.boolean().describe('This window is selected.').optional(),
    panes: z.array(pane).min(1, 'a window needs at least one pane'),
  });
  const hook = command.optional();
  return z
    .strictObject({
      session: z.string().describe('The tmux session’s name. Default: the folder’s name.').optional(),
      root: z.string().describe('Folder the panes start in, relative to the profile’s folder. Default: that folder.').optional(),
      env: env.optional(),
      hooks: z
        .strictObject({
          onStart: hook.describe('Runs after Up started the services.'),
          onStop: hook.describe('Runs after Down stopped them.'),
          beforeSwitch: hook.describe('Runs before switching to another project.'),
          afterSwitch: hook.describe('Runs after switching to this project.'),
        })
        .optional(),
      windows: z.array(window).min(1, 'a profile needs at least one window'),
      agents: z
        .array(
          z.strictObject({
            kind: z.string().min(1).describe('claude, codex, gemini, aider, or a kind of the agents.customKinds setting.'),
            task: z.string().min(1).describe('A short name; it goes into the session’s name (agents.namePattern) and its branch.'),
            prompt: z.string().describe('The first prompt, given on the agent’s command line.').optional(),
            worktree: z.boolean().describe('A git worktree and branch of its own, beside the repository. Default false.').optional(),
            baseBranch: z.string().describe('The branch its worktree starts from. Default: the current one.').optional(),
            timeout: duration.describe('Wall-clock limit across retries: past it the agent is stopped and shows timed out.').optional(),
            stalledAfter: duration.describe('No progress this long while it says it works: it shows stalled.').optional(),
            noProgressTimeout: duration.describe('No progress this long: a failure, retried through the resume command.').optional(),
            retries: z.number().int().min(0).describe('Retries through the kind’s resume command. Default 0.').optional(),
            memoryWarnMb: z.number().positive().describe('Resident memory of its processes (MB) that warns.').optional(),
            memoryStopMb: z.number().positive().describe('Resident memory of its processes (MB) that stops it.').optional(),
          }),
        )
        .describe('Coding agents Up starts beside the services (as Spawn Agents does, one session each) and Down finishes, keeping their worktrees.')
        .optional(),
    })
    .describe('A tmux session profile: windows, panes and supervised services.');
}

const DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;

export type ProfileSchema = ReturnType<typeof build>;
export type ProfileFile = Z.output<ProfileSchema>;
export type PaneEntry = ProfileFile['windows'][number]['panes'][number];
export type ProbeEntry = NonNullable<PaneEntry['health']>;
export type Duration = number | string;

let schema: ProfileSchema | undefined;

export function profileSchema(): ProfileSchema {
  return (schema ??= build(profileLibraries().z));
}

/** What editors read (contributes.yamlValidation): generated, never written by hand. */
export function profileJsonSchema(): object {
  const { z } = profileLibraries();
  return { title: 'tmux session profile', ...z.toJSONSchema(profileSchema(), { target: 'draft-7', io: 'input' }) };
}

/** Milliseconds of a duration the schema accepted. */
export function durationMs(value: Duration | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value)!;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

/** The keys that make a pane a service: a pane with any of them needs a name and a command. */
export const SERVICE_KEYS = ['dependsOn', 'dependencyTimeout', 'ready', 'health', 'restart', 'backoff', 'breaker', 'stop'] as const;
