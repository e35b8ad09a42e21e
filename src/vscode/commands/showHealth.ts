import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Fix, HealthCheck, runHealthChecks } from '../../core/health';
import { ExtensionContextServices } from '../context';

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

type Item = vscode.QuickPickItem & { check?: HealthCheck; fix?: Fix };

/** A report of every check; picking a failing one runs its fix. */
export async function showHealth(ctx: ExtensionContextServices, args: ShowHealthArgs = {}): Promise<HealthCheck[]> {
  const checks = await runHealthChecks(ctx.service(), ctx.settings().dataDir);
  if (args.silent) return checks;
  const failing = checks.filter((c) => !c.ok);
  const items: Item[] = [];
  for (const check of checks) {
    items.push({ label: `${check.ok ? '$(pass-filled)' : '$(error)'} ${check.label}`, detail: check.detail, check, fix: check.fixes[0] });
    for (const fix of check.fixes.slice(1)) items.push({ label: `      $(tools) ${FIX_LABEL[fix]}`, fix });
  }
  for (const item of items) if (item.check && item.fix) item.description = `$(tools) ${FIX_LABEL[item.fix]}`;
  const picked = await vscode.window.showQuickPick(items, {
    title: failing.length === 0 ? 'Tmux Health: all checks pass' : `Tmux Health: ${failing.length} problem${failing.length === 1 ? '' : 's'}`,
    placeHolder: failing.length === 0 ? 'Everything looks right.' : 'Pick a failing check to fix it',
    matchOnDetail: true,
  });
  if (picked?.fix) await runFix(ctx, picked.fix);
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
