import * as vscode from 'vscode';
import { sendKeyNames, sendText } from '../../tmux/commands';
import { COMMON_KEYS, keyNameProblem, splitKeyNames } from '../../tmux/keys';
import { Pane } from '../../tmux/model';
import { ExtensionContextServices } from '../context';
import { Cancelled, targetPane } from '../pick';

export interface SendKeysArgs {
  /** Typed literally (no key-name lookup). */
  readonly text?: string;
  /** Press Enter after the text. */
  readonly enter?: boolean;
  /** tmux key names such as `C-c`, `Enter`, `Up`, `F5`. */
  readonly keys?: readonly string[];
}

type Action = vscode.QuickPickItem & { readonly send?: SendKeysArgs };

/**
 * Sends text or keys to a pane. One box does both: what you type is offered as text with Enter,
 * text without Enter, or (when every word is a tmux key name) as key presses.
 */
export async function sendKeys(ctx: ExtensionContextServices, node?: unknown, args?: SendKeysArgs): Promise<void> {
  const service = ctx.service();
  const pane = await targetPane(service, node, 'Send keys to which pane?');
  const send = args ?? (await askWhatToSend(pane));
  const run = (argv: readonly string[]) => service.run(argv);
  if (send.keys && send.keys.length > 0) await sendKeyNames(run, pane.id, send.keys);
  if (send.text !== undefined || send.enter) await sendText(run, pane.id, send.text ?? '', send.enter ?? false);
  ctx.log.info(`sent to ${pane.id}: ${JSON.stringify(send)}`);
}

function actionsFor(value: string): Action[] {
  const actions: Action[] = [];
  const words = splitKeyNames(value);
  const allKeys = words.length > 0 && words.every((word) => keyNameProblem(word) === undefined);
  // alwaysShow: the quick pick filters items by what was typed, which would hide these.
  const keyAction: Action = { label: `$(keyboard) Press ${words.join(' ')}`, description: 'as tmux key names', send: { keys: words }, alwaysShow: true };
  if (value.length > 0) {
    if (allKeys && /^[A-Z^]|^[CMS]-/.test(value)) actions.push(keyAction);
    actions.push({ label: '$(newline) Send with Enter', description: JSON.stringify(value), send: { text: value, enter: true }, alwaysShow: true });
    actions.push({ label: '$(whitespace) Send without Enter', description: JSON.stringify(value), send: { text: value, enter: false }, alwaysShow: true });
    if (allKeys && actions[0] !== keyAction) actions.push(keyAction);
    if (!allKeys && words.length > 0 && /^[A-Z^]|^[CMS]-/.test(value)) {
      const problem = words.map(keyNameProblem).find((p) => p !== undefined);
      if (problem) actions.push({ label: '$(warning) Not key names', detail: problem, alwaysShow: true });
    }
  }
  actions.push({ label: 'keys', kind: vscode.QuickPickItemKind.Separator });
  for (const key of COMMON_KEYS) actions.push({ label: `$(keyboard) ${key}`, description: 'press', send: { keys: [key] } });
  return actions;
}

async function askWhatToSend(pane: Pane): Promise<SendKeysArgs> {
  const quickPick = vscode.window.createQuickPick<Action>();
  quickPick.title = `Send to ${pane.currentCommand} (${pane.id})`;
  quickPick.placeholder = 'Type text to send, or key names like C-c, Enter, Up, F5';
  quickPick.matchOnDescription = false;
  quickPick.items = actionsFor('');
  const disposables: vscode.Disposable[] = [quickPick];
  try {
    return await new Promise<SendKeysArgs>((resolve, reject) => {
      disposables.push(
        quickPick.onDidChangeValue((value) => {
          quickPick.items = actionsFor(value);
        }),
        quickPick.onDidAccept(() => {
          const [selected] = quickPick.selectedItems;
          if (selected?.send) resolve(selected.send);
        }),
        quickPick.onDidHide(() => reject(new Cancelled())),
      );
      quickPick.show();
    });
  } finally {
    disposables.forEach((d) => d.dispose());
  }
}
