import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, eventually, killServer, tmux } from './helpers';

/** The language model API is newer than the @types/vscode this project builds against. */
interface LanguageModelApi {
  readonly tools: readonly { readonly name: string; readonly inputSchema?: object }[];
  invokeTool(name: string, options: { input: object; toolInvocationToken: undefined }, token?: vscode.CancellationToken): Thenable<{ content: { value?: string }[] }>;
}
const lm = (vscode as unknown as { lm?: Partial<LanguageModelApi> }).lm;

/** The agent-mode tools, invoked as VS Code's agent would, through vscode.lm.invokeTool. */
describe('Language model tools', function () {
  const invoke = async (name: string, input: object): Promise<string> => {
    const result = await lm!.invokeTool!(name, { input, toolInvocationToken: undefined });
    return result.content.map((part) => part.value ?? '').join('');
  };

  before(async function () {
    if (!lm?.invokeTool) this.skip();
    await killServer();
    const tsm = await api();
    tmux('new-session', '-d', '-s', 'lm "tools"', '-x', '100', '-y', '20');
    await eventually('the session in the tree', () => tsm.service().tree.sessions.some((s) => s.name === 'lm "tools"'));
  });

  after(async function () {
    await killServer();
  });

  it('registers the four tools with their input schemas', function () {
    for (const name of ['tmux_list_sessions', 'tmux_capture_pane', 'tmux_send_keys', 'tmux_wait_for_output']) {
      const tool = lm!.tools!.find((t) => t.name === name);
      assert.ok(tool, `${name} is not registered`);
      assert.equal((tool.inputSchema as { type?: string }).type, 'object');
    }
  });

  it('lists sessions, waits for output that a send causes, and captures the pane', async function () {
    const listed = JSON.parse(await invoke('tmux_list_sessions', {})) as { sessions: { name: string; windows: { panes: { address: string; id: string }[] }[] }[] };
    const pane = listed.sessions.find((s) => s.name === 'lm "tools"')!.windows[0].panes[0];
    assert.equal(pane.address, 'lm "tools":0.0');
    const waiting = invoke('tmux_wait_for_output', { pane: pane.address, pattern: 'sum=\\d+', timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.match(await invoke('tmux_send_keys', { pane: pane.id, text: 'echo sum=$((20+22))', enter: true }), /^Sent to pane %\d+/);
    const waited = JSON.parse(await waiting) as { kind: string; match: string };
    assert.equal(waited.kind, 'matched');
    assert.equal(waited.match, 'sum=42');
    assert.match(await invoke('tmux_capture_pane', { pane: 'lm "tools"', lines: 10 }), /\nsum=42/);
  });

  it('refuses an unknown pane and a bad key name with a message that says what to give', async function () {
    await assert.rejects(invoke('tmux_capture_pane', { pane: 'nope:0.0' }), /No pane matches "nope:0\.0"/);
    await assert.rejects(invoke('tmux_send_keys', { pane: 'lm "tools"', keys: ['Ctrl+C'] }), /key/i);
  });
});
