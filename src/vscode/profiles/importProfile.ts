import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeWarning, importedProfileText, importFormatOf, importProfile } from '../../core/profiles/import';
import { ProfileError } from '../../core/profiles/parse';
import { ExtensionContextServices } from '../context';
import { Cancelled } from '../pick';

const IMPORTABLE = '{.tmuxinator.yml,.tmuxinator.yaml,.tmuxp.yaml,.tmuxp.yml,.tmuxp.json}';

/**
 * "Tmux: Import as Profile…": reads a tmuxinator or tmuxp file and writes `.tmux-session.yaml` next
 * to it (asking before it replaces one), opens it, and says what did not carry over. Returns the
 * written file's path, or undefined when nothing was written.
 */
export async function importAsProfile(ctx: ExtensionContextServices, target?: unknown): Promise<string | undefined> {
  const source = target instanceof vscode.Uri ? target : typeof target === 'string' ? vscode.Uri.file(target) : await pickSource();
  const format = importFormatOf(source.fsPath);
  const text = Buffer.from(await vscode.workspace.fs.readFile(source)).toString('utf8');
  let result;
  try {
    result = importProfile(text, source.fsPath, format);
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    ctx.log.error(error.message);
    const first = error.issues[0];
    void vscode.window.showTextDocument(source, { selection: new vscode.Range(first.line - 1, first.column - 1, first.line - 1, first.column - 1) });
    throw new Error(`${path.basename(source.fsPath)}:${first.line}:${first.column}: ${first.message}. Nothing was imported.`);
  }

  const written = vscode.Uri.file(path.join(path.dirname(source.fsPath), '.tmux-session.yaml'));
  if (await exists(written)) {
    const choice = await vscode.window.showWarningMessage(
      `${written.fsPath} already exists. Replace it with the profile imported from ${path.basename(source.fsPath)}?`,
      { modal: true },
      'Replace',
    );
    if (choice !== 'Replace') return undefined;
  }
  await vscode.workspace.fs.writeFile(written, Buffer.from(importedProfileText(result, source.fsPath), 'utf8'));
  await vscode.window.showTextDocument(written);

  const summary = `Imported ${path.basename(source.fsPath)} (${result.format}) as ${path.basename(written.fsPath)}`;
  if (result.warnings.length === 0) {
    ctx.log.info(`${summary}; every key carried over.`);
    void vscode.window.showInformationMessage(`${summary}; every key carried over.`);
  } else {
    ctx.log.warn(`${summary}; not carried over, or only in part:\n${result.warnings.map(describeWarning).join('\n')}`);
    const keys = result.warnings.map((warning) => warning.key);
    const named = keys.slice(0, 3).join(', ') + (keys.length > 3 ? ` and ${keys.length - 3} more` : '');
    void vscode.window
      .showWarningMessage(`${summary}. ${keys.length} key${keys.length === 1 ? '' : 's'} did not carry over exactly (${named}); they are listed at the top of the file and in the Tmux log.`, 'Show Log')
      .then((choice) => choice && ctx.log.show(true));
  }
  return written.fsPath;
}

/** The importable files of the workspace folders and the tools' own config folders, or one picked by hand. */
async function pickSource(): Promise<vscode.Uri> {
  const found = await vscode.workspace.findFiles(`**/${IMPORTABLE}`, '**/node_modules/**', 50);
  const home = os.homedir();
  for (const folder of [path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'tmuxinator'), path.join(home, '.tmuxinator'), path.join(home, '.tmuxp')]) {
    try {
      for (const [name, type] of await vscode.workspace.fs.readDirectory(vscode.Uri.file(folder))) {
        const file = vscode.Uri.file(path.join(folder, name));
        if (type === vscode.FileType.File && importFormatOf(file.fsPath)) found.push(file);
      }
    } catch {
      // That tool is not set up here.
    }
  }
  const browse = { label: '$(folder-opened) Browse…', description: 'pick a tmuxinator or tmuxp file anywhere' };
  const items = [
    ...found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), description: importFormatOf(uri.fsPath), uri })),
    browse,
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: found.length ? 'Which tmuxinator or tmuxp file?' : 'No tmuxinator or tmuxp file found in the workspace' });
  if (!picked) throw new Cancelled();
  if ('uri' in picked) return picked.uri;
  const [chosen] =
    (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Import', filters: { 'tmuxinator / tmuxp': ['yml', 'yaml', 'json'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri })) ?? [];
  if (!chosen) throw new Cancelled();
  return chosen;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
