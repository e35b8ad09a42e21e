import { healthChecks } from '../../core/health';
import { detectVersion, runTmux } from '../../tmux/exec';
import { NoServerError, TmuxNotInstalledError, TmuxVersionError } from '../../tmux/errors';
import { socketFilePath } from '../../tmux/server';
import type { ServerState } from '../../tmux/service';
import { TmuxVersion } from '../../tmux/version';
import { ParsedArgs } from '../args';
import { CliContext, printJson } from '../context';
import { EXIT, ExitCode, UsageError } from '../errors';
import type { HealthOutput } from '../schemas';

export async function run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode> {
  if (args.positionals.length > 0) throw new UsageError('health takes no arguments.');
  let state: ServerState = { kind: 'ok' };
  let version: TmuxVersion | undefined;
  let sessions = 0;
  try {
    version = await detectVersion(ctx.address.tmuxPath);
    const { stdout } = await runTmux(ctx.address, ['list-sessions', '-F', '#{session_id}']);
    sessions = stdout.split('\n').filter(Boolean).length;
  } catch (error) {
    if (error instanceof TmuxNotInstalledError) state = { kind: 'tmuxMissing', message: `tmux was not found at "${ctx.address.tmuxPath}". Install tmux 3.2 or newer, or pass its path with --tmux PATH.` };
    else if (error instanceof TmuxVersionError) state = { kind: 'versionTooOld', message: `tmux ${error.found} is too old: this tool needs tmux ${error.required} or newer. Upgrade tmux, or pass a newer one with --tmux PATH.`, found: error.found };
    else if (error instanceof NoServerError) state = { kind: 'noServer' };
    else state = { kind: 'error', message: (error as Error).message };
  }
  const checks = await healthChecks({ address: ctx.address, state, version, socket: socketFilePath(ctx.address), sessions }, ctx.dataDir);
  const ok = checks.every((check) => check.ok);
  if (ctx.json) printJson(ctx, { ok, checks: checks.map((check) => ({ ...check, fixes: [...check.fixes] })) } satisfies HealthOutput);
  else ctx.stdout(checks.map((check) => `${check.ok ? 'ok  ' : 'FAIL'}  ${check.label}: ${check.detail}`).join('\n'));
  if (ok) return EXIT.ok;
  if (state.kind === 'tmuxMissing' || state.kind === 'versionTooOld') return EXIT.tmuxMissing;
  if (state.kind === 'noServer') return EXIT.noServer;
  return EXIT.failed;
}
