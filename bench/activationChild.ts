/**
 * Run as its own process by run.ts: `node out/bench/activationChild.js BUNDLE SOCKET`. Times
 * `require` of the bundled extension and its `activate` with a fake `vscode` (see fakeVscode.ts)
 * and a fake ExtensionContext, in a fresh process so nothing is cached. Prints one JSON line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// Types only: loading src/ here would warm the caches the bundle's require is timed on.
import type { Tree } from '../src/tmux/model';
import type { TmuxService } from '../src/tmux/service';
import { createFakeVscode, vscodeApiNames } from './fakeVscode';
import { msSince, now, waitFor } from './stats';

function readDeclarations(): string | undefined {
  try {
    return fs.readFileSync(require.resolve('@types/vscode/index.d.ts'), 'utf8');
  } catch {
    return undefined;
  }
}

const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };

async function main(): Promise<void> {
  const [bundle, socketPath, panesText] = process.argv.slice(2);
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-bench-ext-'));
  const fake = createFakeVscode({
    'tmuxSessionManager.tmuxPath': 'tmux',
    'tmuxSessionManager.socketPath': socketPath,
    'tmuxSessionManager.dataDir': path.join(storage, 'data'),
  }, vscodeApiNames(readDeclarations()));
  const load = Module._load;
  Module._load = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fake.module : load.call(this, request, ...rest);
  };
  const uri = (p: string) => ({ fsPath: p, path: p, scheme: 'file', toString: () => `file://${p}`, with: () => uri(p) });
  const memento = () => {
    const values = new Map<string, unknown>();
    return { get: (k: string, d?: unknown) => (values.has(k) ? values.get(k) : d), update: async (k: string, v: unknown) => void values.set(k, v), keys: () => [...values.keys()], setKeysForSync() {} };
  };
  const subscriptions: { dispose(): unknown }[] = [];
  const extensionPath = path.dirname(path.dirname(path.resolve(bundle)));
  const context = {
    subscriptions,
    extensionPath,
    extensionUri: uri(extensionPath),
    asAbsolutePath: (p: string) => path.join(extensionPath, p),
    globalState: memento(),
    workspaceState: memento(),
    globalStorageUri: uri(path.join(storage, 'global')),
    globalStoragePath: path.join(storage, 'global'),
    storageUri: uri(path.join(storage, 'workspace')),
    storagePath: path.join(storage, 'workspace'),
    logUri: uri(path.join(storage, 'log')),
    logPath: path.join(storage, 'log'),
    extensionMode: 1,
    environmentVariableCollection: createFakeVscode({}).module,
    secrets: { get: async () => undefined, store: async () => undefined, delete: async () => undefined, onDidChange: () => ({ dispose() {} }) },
    extension: { id: 'tmux-session-manager.tmux-session-manager', extensionPath, packageJSON: {} },
  };

  const start = now();
  const extension = require(path.resolve(bundle)) as { activate?: (context: unknown) => unknown; deactivate?: () => unknown };
  const required = msSince(start);
  try {
    await measure(extension, context, required, fake.registered, Number(panesText));
  } finally {
    try {
      await extension.deactivate?.();
      for (const s of subscriptions) await s.dispose();
    } finally {
      fs.rmSync(storage, { recursive: true, force: true });
    }
  }
}

async function measure(
  extension: { activate?: (context: unknown) => unknown },
  context: unknown,
  required: number,
  registered: readonly string[],
  panes: number,
): Promise<void> {
  if (typeof extension.activate !== 'function') {
    console.log(JSON.stringify({ requireMs: required, activate: false, commands: 0 }));
    return;
  }
  const activateStart = now();
  const result = extension.activate(context);
  const activateSyncMs = msSince(activateStart);
  const api = (await result) as { service?: () => TmuxService } | undefined;
  const activateMs = msSince(activateStart);
  // If activate hands back the live service (the extension's API does), time until its tree is whole.
  let treeReadyMs: number | undefined;
  if (api && typeof api.service === 'function') {
    await waitFor(`the extension's tree with ${panes} panes`, () => api.service!().state.kind === 'ok' && paneCount(api.service!().tree) === panes, 20_000, 1);
    treeReadyMs = msSince(activateStart);
  }
  console.log(JSON.stringify({ requireMs: required, activateSyncMs, activateMs, treeReadyMs, activate: true, commands: registered.length }));
}

function paneCount(tree: Tree): number {
  return tree.sessions.reduce((n, s) => n + s.windows.reduce((m, w) => m + w.panes.length, 0), 0);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(String((error as Error).stack ?? error));
    process.exit(1);
  },
);
