import { spawn, StdioOptions } from 'node:child_process';

/**
 * The part of execa's API that src/tmux/exec.ts and src/core/processes.ts use, on plain
 * child_process. The command-line tool's bundle gets this instead of execa (esbuild.js): loading
 * execa and the Node modules it pulls in cost a one-shot process about as much as the tmux call it
 * makes (`npm run bench -- cli`), while the extension, loaded once, keeps execa.
 */

export interface LiteOptions {
  readonly timeout?: number;
  readonly input?: string;
  readonly stdin?: 'ignore' | 'pipe';
  readonly env?: NodeJS.ProcessEnv;
  readonly extendEnv?: boolean;
  readonly reject?: boolean;
  readonly stripFinalNewline?: boolean;
}

export interface LiteResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly failed: boolean;
  readonly timedOut: boolean;
  readonly exitCode?: number;
  /** The spawn error's code (ENOENT, EACCES) when the program could not be started. */
  readonly code?: string;
  readonly originalMessage?: string;
}

export function execa(file: string, args: readonly string[], options: LiteOptions = {}): Promise<LiteResult> {
  return new Promise((resolve, reject) => {
    const env = options.extendEnv === false ? options.env : { ...process.env, ...options.env };
    const stdio: StdioOptions = [options.input !== undefined ? 'pipe' : (options.stdin ?? 'ignore'), 'pipe', 'pipe'];
    const child = spawn(file, args, { env, stdio });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    let timedOut = false;
    const timer = options.timeout ? setTimeout(() => ((timedOut = true), child.kill('SIGTERM')), options.timeout) : undefined;
    let settled = false;
    const settle = (exitCode: number | null, spawnError?: NodeJS.ErrnoException): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const strip = (text: string): string => (options.stripFinalNewline === false ? text : text.replace(/\r?\n$/, ''));
      const stdout = strip(Buffer.concat(out).toString('utf8'));
      const stderr = strip(Buffer.concat(err).toString('utf8'));
      const failed = spawnError !== undefined || timedOut || exitCode !== 0;
      const result: LiteResult = { stdout, stderr, failed, timedOut, exitCode: exitCode ?? undefined, code: spawnError?.code, originalMessage: spawnError?.message };
      if (failed && options.reject !== false) {
        reject(Object.assign(new Error(spawnError?.message ?? `Command failed${timedOut ? ' (timed out)' : ` with exit code ${exitCode}`}: ${file} ${args.join(' ')}\n${stderr}`), result));
      } else {
        resolve(result);
      }
    };
    // A program that could not be started reports only 'error'; one that ran reports 'close'
    // once its output is all read.
    child.on('error', (error: NodeJS.ErrnoException) => settle(null, error));
    child.on('close', (exitCode) => settle(exitCode));
    if (options.input !== undefined) {
      child.stdin?.on('error', () => undefined); // It may exit without reading; its exit code says why.
      child.stdin?.end(options.input);
    }
  });
}
