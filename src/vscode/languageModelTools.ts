import * as vscode from 'vscode';
import { parseUserPattern } from '../core/output/pattern';
import { waitForOutput } from '../core/output/waitFor';
import { capturePane, sendKeyNames, sendText } from '../tmux/commands';
import { InvalidInputError } from '../tmux/errors';
import { keyNameProblem } from '../tmux/keys';
import { findPane, paneAddress } from '../tmux/paneSpec';
import { ExtensionContextServices } from './context';
import { outputHub } from './outputs';

/**
 * Tools for VS Code's own agent mode: list sessions, capture a pane, send keys, wait for output.
 * They go through the same tmux and core code as the commands.
 *
 * The language model API arrived after VS Code 1.85, the oldest version this extension supports,
 * and its types are not in the @types/vscode we build against: the few members used are declared
 * here, and nothing is registered where the running VS Code lacks them.
 */
interface ToolInvocation<T> {
  readonly input: T;
}
interface PreparedInvocation {
  invocationMessage?: string;
  confirmationMessages?: { title: string; message: string | vscode.MarkdownString };
}
interface LanguageModelTool<T> {
  invoke(options: ToolInvocation<T>, token: vscode.CancellationToken): Promise<unknown>;
  prepareInvocation?(options: ToolInvocation<T>, token: vscode.CancellationToken): PreparedInvocation | undefined;
}
interface LanguageModelApi {
  registerTool<T>(name: string, tool: LanguageModelTool<T>): vscode.Disposable;
}
type TextResult = new (parts: unknown[]) => unknown;
type TextPart = new (value: string) => unknown;

export const TOOL_NAMES = ['tmux_list_sessions', 'tmux_capture_pane', 'tmux_send_keys', 'tmux_wait_for_output'] as const;

/** Longest wait a tool call may ask for: a model should not hold a chat turn for longer. */
const MAX_TOOL_WAIT_MS = 10 * 60 * 1000;
const DEFAULT_TOOL_WAIT_MS = 60 * 1000;

/** Registers the tools where the running VS Code has the API; none (and no error) where it has not. */
export function registerLanguageModelTools(ctx: ExtensionContextServices): vscode.Disposable[] {
  const api = vscode as unknown as { lm?: Partial<LanguageModelApi>; LanguageModelToolResult?: TextResult; LanguageModelTextPart?: TextPart };
  const register = api.lm?.registerTool;
  const Result = api.LanguageModelToolResult;
  const Part = api.LanguageModelTextPart;
  if (typeof register !== 'function' || !Result || !Part) {
    ctx.log.info('this VS Code has no language model tool API: agent-mode tools are not registered');
    return [];
  }
  const answer = (text: string) => new Result([new Part(text)]);
  const tools: Record<(typeof TOOL_NAMES)[number], LanguageModelTool<any>> = {
    tmux_list_sessions: { invoke: async () => answer(listSessions(ctx)) },
    tmux_capture_pane: {
      invoke: async ({ input }: ToolInvocation<{ pane: string; lines?: number }>) => {
        const service = ctx.service();
        const pane = findPane(service.tree, requireString(input.pane, 'pane'));
        const text = await capturePane((argv) => service.run(argv), pane.id, boundedLines(input.lines));
        return answer(`Pane ${pane.id} (${paneAddress(service.tree, pane)}, running ${pane.currentCommand}):\n${text}`);
      },
      prepareInvocation: ({ input }) => ({ invocationMessage: `Reading tmux pane ${input.pane}` }),
    },
    tmux_send_keys: {
      prepareInvocation: ({ input }: ToolInvocation<SendInput>) => {
        const service = ctx.service();
        const pane = findPane(service.tree, requireString(input.pane, 'pane'));
        return {
          invocationMessage: `Sending to tmux pane ${paneAddress(service.tree, pane)}`,
          confirmationMessages: {
            title: 'Send to a tmux pane?',
            message: new vscode.MarkdownString(`Pane **${paneAddress(service.tree, pane)}** (\`${pane.id}\`, running \`${pane.currentCommand}\`) gets:\n\n${describeSend(input)}`),
          },
        };
      },
      invoke: async ({ input }: ToolInvocation<SendInput>) => {
        const service = ctx.service();
        const pane = findPane(service.tree, requireString(input.pane, 'pane'));
        const keys = input.keys ?? [];
        const problem = keys.map(keyNameProblem).find((p) => p !== undefined);
        if (problem) throw new InvalidInputError(problem);
        if (input.text === undefined && keys.length === 0 && !input.enter) throw new InvalidInputError('Nothing to send: give text, keys (tmux key names such as C-c, Enter, Up) or enter: true.');
        const run = (argv: readonly string[]) => service.run(argv);
        if (input.text !== undefined || input.enter) await sendText(run, pane.id, input.text ?? '', input.enter ?? false);
        if (keys.length > 0) await sendKeyNames(run, pane.id, keys);
        ctx.log.info(`language model tool sent to ${pane.id}: ${JSON.stringify(input)}`);
        return answer(`Sent to pane ${pane.id}. To see the result, wait for its output (tmux_wait_for_output) or capture it (tmux_capture_pane).`);
      },
    },
    tmux_wait_for_output: {
      prepareInvocation: ({ input }: ToolInvocation<WaitInput>) => ({ invocationMessage: `Waiting for the output of tmux pane ${input.pane}` }),
      invoke: async ({ input }: ToolInvocation<WaitInput>, token) => {
        const service = ctx.service();
        const pane = findPane(service.tree, requireString(input.pane, 'pane'));
        if (input.pattern === undefined && input.quietMs === undefined && !input.untilExit) throw new InvalidInputError('Say what to wait for: pattern (a regular expression), quietMs, or untilExit: true.');
        const controller = new AbortController();
        const subscription = token.onCancellationRequested(() => controller.abort());
        try {
          const result = await waitForOutput((argv) => service.run(argv), service.address, pane.id, {
            ...(input.pattern !== undefined ? { regex: parseUserPattern(input.pattern) } : {}),
            ...(input.quietMs !== undefined ? { quietMs: input.quietMs } : {}),
            untilExit: !!input.untilExit,
            timeoutMs: Math.min(MAX_TOOL_WAIT_MS, input.timeoutMs ?? DEFAULT_TOOL_WAIT_MS),
            signal: controller.signal,
            open: outputHub(service).open,
          });
          return answer(JSON.stringify({ pane: pane.id, ...result }, null, 1));
        } finally {
          subscription.dispose();
        }
      },
    },
  };
  return Object.entries(tools).map(([name, tool]) => register.call(api.lm, name, tool));
}

interface SendInput {
  readonly pane: string;
  readonly text?: string;
  readonly enter?: boolean;
  readonly keys?: string[];
}
interface WaitInput {
  readonly pane: string;
  readonly pattern?: string;
  readonly quietMs?: number;
  readonly untilExit?: boolean;
  readonly timeoutMs?: number;
}

function listSessions(ctx: ExtensionContextServices): string {
  const service = ctx.service();
  if (service.state.kind !== 'ok') return `No tmux sessions: ${service.state.kind === 'noServer' ? 'no tmux server is running' : `tmux is ${service.state.kind}`}.`;
  const sessions = service.tree.sessions.map((session) => ({
    name: session.name,
    id: session.id,
    attached: session.attachedClients > 0,
    windows: session.windows.map((window) => ({
      index: window.index,
      name: window.name,
      panes: window.panes.map((pane) => ({ address: paneAddress(service.tree, pane), id: pane.id, program: pane.currentCommand, cwd: pane.currentPath, active: pane.active && window.active, dead: pane.dead })),
    })),
  }));
  return JSON.stringify({ sessions }, null, 1);
}

function describeSend(input: SendInput): string {
  const parts: string[] = [];
  if (input.text !== undefined) parts.push(`the text\n\n\`\`\`\n${input.text}\n\`\`\``);
  if (input.enter) parts.push('then Enter');
  if (input.keys?.length) parts.push(`the keys ${input.keys.map((k) => `\`${k}\``).join(' ')}`);
  return parts.join('\n\n') || '(nothing)';
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError(`${name} is required: a pane id like %3, or session:window.pane.`);
  return value;
}

function boundedLines(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(10_000, Math.max(0, Math.floor(value))) : 200;
}
