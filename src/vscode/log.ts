import * as vscode from 'vscode';
import { Logger } from '../tmux/log';

/** The tmux layer's logger, written to the "Tmux" output channel at the level the user chose. */
export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    trace: (message) => channel.trace(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
}
