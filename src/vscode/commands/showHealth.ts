import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Fix, HealthCheck, runHealthChecks } from '../../core/health';
import { serviceProblem } from '../../core/profiles/serviceReport';
import { ExtensionContextServices } from '../context';
import { profileController } from '../profiles/controller';

export interface ShowHealthArgs {
  /** Return the checks without showing anything (for scripts and tests). */
  readonly silent?: boolean;
}

const FIX_LABEL: Record<Fix, string> = {
  installTmux: 'How to install tmux',
  setTmuxPath: 'Set the tmux path',
  startServer: 'Start a server (new session)',
  reconnect: 'Reconnect',
  createDataDir: 'Create the data folder',
  setDataDir: 'Choose another data folder',
  showLog: 'Show the log',
};

type ServiceAction = { readonly restart: string } | { readonly openProfile: true };
type Item = vscode.QuickPickItem & { check?: HealthCheck; fix?: Fix; service?: ServiceAction };

/**
 * A report of the profile services that need a person (first: the status bar's service item opens
 * it), then every check; picking a service restarts it, picking a failing check runs its fix.
 */
export async function showHealth(ctx: ExtensionContextServices, args: ShowHealthArgs = {}): Promise<HealthCheck[]> {
  const checks = await runHealthChecks(ctx.service(), ctx.settings().dataDir);
  if (args.silent) return checks;
  const failing = checks.filter((c) => !c.ok);
  const problems = profileController(ctx).statuses().flatMap((status) => serviceProblem(status) ?? []);
  const items: Item[] = [];
  if (problems.length > 0) {
    items.push({ label: 'Services', kind: vscode.QuickPickItemKind.Separator });
    for (const problem of problems) {
      items.push({ label: `$(error) ${problem.name}`, description: `${problem.summary} · $(debug-restart) Restart`, detail: problem.details.join(' · '), service: { restart: problem.name } });
      items.push({ label: `      $(debug-restart) Restart ${problem.name}`, service: { restart: problem.name } });
    }
    items.push({ label: '      $(go-to-file) Open Profile', service: { openProfile: true } });
    items.push({ label: 'Checks', kind: vscode.QuickPickItemKind.Separator });
  }
  for (const check of checks) {
    items.push({ label: `${check.ok ? '$(pass-filled)' : '$(error)'} ${check.label}`, detail: check.detail, check, fix: check.fixes[0] });
    for (const fix of check.fixes.slice(1)) items.push({ label: `      $(tools) ${FIX_LABEL[fix]}`, fix });
  }
  for (const item of items) if (item.check && item.fix) item.description = `$(tools) ${FIX_LABEL[item.fix]}`;
  const count = failing.length + problems.length;
  const picked = await vscode.window.showQuickPick(items, {
    title: count === 0 ? 'Tmux Health: all checks pass' : `Tmux Health: ${count} problem${count === 1 ? '' : 's'}`,
    placeHolder: count === 0 ? 'Everything looks right.' : problems.length > 0 ? 'Pick a failing service to restart it, or a failing check to fix it' : 'Pick a failing check to fix it',
    matchOnDetail: true,
  });
  if (picked?.service) {
    if ('restart' in picked.service) await profileController(ctx).restartService(picked.service.restart);
    else await profileController(ctx).openProfile();
  } else if (picked?.fix) await runFix(ctx, picked.fix);
  return checks;
}

async function runFix(ctx: ExtensionContextServices, fix: Fix): Promise<void> {
  switch (fix) {
    case 'installTmux': {
      const choice = await vscode.window.showInformationMessage(
        'Install tmux 3.2 or newer with your package manager, then reload the window.',
        { modal: true, detail: 'Debian/Ubuntu: sudo apt install tmux\nFedora: sudo dnf install tmux\nArch: sudo pacman -S tmux\nmacOS: brew install tmux' },
        'Copy apt command',
      );
      if (choice) await vscode.env.clipboard.writeText('sudo apt install tmux');
      return;
    }
    case 'setTmuxPath':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'tmuxSessionManager.tmuxPath');
      return;
    case 'setDataDir':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'tmuxSessionManager.dataDir');
      return;
    case 'startServer':
      await vscode.commands.executeCommand('tmuxSessionManager.newSession');
      return;
    case 'reconnect':
      await vscode.commands.executeCommand('tmuxSessionManager.refresh');
      return;
    case 'createDataDir':
      await fs.promises.mkdir(ctx.settings().dataDir, { recursive: true });
      return;
    case 'showLog':
      ctx.log.show();
      return;
  }
}
