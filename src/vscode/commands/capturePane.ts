import * as vscode from 'vscode';
import { capturePane as capture } from '../../tmux/commands';
import { ExtensionContextServices } from '../context';
import { targetPane } from '../pick';

export const CAPTURE_SCHEME = 'tmux-capture';

/**
 * Read-only documents holding captured pane text. A content provider (not an untitled file) makes
 * the editor read-only and closing it asks nothing.
 */
export class CaptureDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();

  set(uri: vscode.Uri, text: string): void {
    this.contents.set(uri.toString(), text);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }
}

/** Opens the pane's scrollback and screen as plain text in a read-only editor. */
export async function capturePane(ctx: ExtensionContextServices, documents: CaptureDocuments, node?: unknown): Promise<vscode.TextDocument> {
  const service = ctx.service();
  const pane = await targetPane(service, node, 'Capture which pane?');
  const session = service.tree.sessions.find((s) => s.id === pane.sessionId);
  const window = session?.windows.find((w) => w.id === pane.windowId);
  const text = await capture((argv) => service.run(argv), pane.id, ctx.settings().captureLines);
  return showCapturedText(documents, `${session?.name ?? pane.sessionId} ${window?.index ?? ''}.${pane.index} ${pane.currentCommand}`, pane.id, text);
}

/** Opens text taken from a pane in a read-only editor titled `label`. */
export async function showCapturedText(documents: CaptureDocuments, label: string, paneId: string, text: string): Promise<vscode.TextDocument> {
  const name = label.replace(/[/\\]/g, '_');
  const uri = vscode.Uri.from({ scheme: CAPTURE_SCHEME, path: `/${name}.txt`, query: `pane=${encodeURIComponent(paneId)}&at=${Date.now()}` });
  documents.set(uri, text + '\n');
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document, { preview: false });
  return document;
}
