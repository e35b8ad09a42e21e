import * as vscode from 'vscode';
import { installLaunchers, InstallResult, pathAdvice } from '../../cli/install';
import { ExtensionContextServices } from '../context';

/**
 * "Tmux: Install Command-Line Tool": `tmux-session-manager` and `tsm` in ~/.local/bin, running
 * this copy of the extension's dist/cli.js. Returns what it did (for scripts and tests).
 */
export async function installCli(ctx: ExtensionContextServices): Promise<InstallResult> {
  const result = installLaunchers({ cliPath: ctx.extension.asAbsolutePath('dist/cli.js'), runtimePath: process.execPath });
  ctx.log.info(`install command-line tool: written ${result.written.join(', ') || 'none'}; unchanged ${result.unchanged.join(', ') || 'none'}; refused ${result.refused.join(', ') || 'none'}`);
  const installed = [...result.written, ...result.unchanged].map((file) => file.slice(result.folder.length + 1));
  if (result.refused.length > 0) {
    void vscode.window.showWarningMessage(
      `${result.refused.join(' and ')} already exist${result.refused.length === 1 ? 's' : ''} and ${result.refused.length === 1 ? 'was' : 'were'} not installed by this extension, so ${result.refused.length === 1 ? 'it was' : 'they were'} left as ${result.refused.length === 1 ? 'it is' : 'they are'}.` +
        (installed.length > 0 ? ` Use ${installed.join(' or ')} instead.` : ' Remove or rename them, then run this command again.'),
    );
  }
  if (installed.length === 0) return result;
  const names = installed.join(' and ');
  if (result.onPath) {
    void vscode.window.showInformationMessage(`${names} ${result.written.length > 0 ? 'installed' : 'already installed'} in ${result.folder}. Try "tsm ls" in a terminal.`);
    return result;
  }
  const advice = pathAdvice(result.folder);
  void vscode.window
    .showInformationMessage(`${names} installed in ${result.folder}, which is not on your PATH. Add this line to ${advice.file}, then open a new terminal: ${advice.line}`, 'Copy Line')
    .then((choice) => {
      if (choice === 'Copy Line') void vscode.env.clipboard.writeText(advice.line);
    });
  return result;
}

/**
 * After an update the extension lives in a new folder and launchers point at the old one: on
 * activation, launchers that are ours and already installed are rewritten; none are created.
 */
export function refreshInstalledCli(ctx: Pick<ExtensionContextServices, 'extension' | 'log'>): void {
  try {
    const result = installLaunchers({ cliPath: ctx.extension.asAbsolutePath('dist/cli.js'), runtimePath: process.execPath, onlyRefresh: true });
    if (result.written.length > 0) ctx.log.info(`command-line tool now runs this version: ${result.written.join(', ')}`);
  } catch (error) {
    ctx.log.warn(`could not bring the command-line tool's launchers up to date: ${(error as Error).message}`);
  }
}
