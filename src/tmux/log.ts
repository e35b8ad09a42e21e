/** Where the tmux layer reports what it does. The extension maps it to its output channel. */
export interface Logger {
  trace(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const SILENT_LOGGER: Logger = { trace() {}, info() {}, warn() {}, error() {} };
