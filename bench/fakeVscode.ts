/**
 * The smallest stand-in for the `vscode` module that lets a bundled extension's `activate` run in
 * plain Node, where the real module cannot be loaded. Every property is a no-op that can be
 * called, constructed or read further; a few answers are real because code depends on them:
 * configuration (so the extension talks to the bench's private tmux server, never the default
 * one), registerCommand (counted), and `then` (absent, so nothing awaits a fake forever).
 */
export interface FakeVscode {
  readonly module: unknown;
  readonly registered: string[];
}

/** Names the real module exports, used when @types/vscode cannot be read. */
const FALLBACK_NAMES = [
  'commands', 'window', 'workspace', 'env', 'languages', 'extensions', 'debug', 'tasks', 'scm', 'tests', 'l10n',
  'authentication', 'Uri', 'EventEmitter', 'Disposable', 'TreeItem', 'TreeItemCollapsibleState', 'ThemeIcon',
  'ThemeColor', 'MarkdownString', 'StatusBarAlignment', 'QuickPickItemKind', 'ConfigurationTarget', 'ViewColumn',
  'ProgressLocation', 'TerminalLocation', 'CancellationTokenSource', 'RelativePattern', 'FileType', 'LogLevel',
  'ExtensionMode', 'Position', 'Range', 'Selection', 'version',
];

/**
 * The top-level names of the real API, read from @types/vscode's declarations (bundlers copy a
 * module's own properties, so the fake must have them as real keys, not only through a Proxy).
 */
export function vscodeApiNames(declarations: string | undefined): string[] {
  if (!declarations) return FALLBACK_NAMES;
  const names = new Set<string>(FALLBACK_NAMES);
  for (const match of declarations.matchAll(/^\t?(?: {4})?export (?:namespace|class|enum|const|let|function) (\w+)/gm)) names.add(match[1]);
  return [...names];
}

export function createFakeVscode(settings: Readonly<Record<string, unknown>>, names: readonly string[] = FALLBACK_NAMES): FakeVscode {
  const registered: string[] = [];
  const disposable = { dispose() {} };

  const configuration = (section?: string) => ({
    get(key: string, fallback?: unknown) {
      const full = section ? `${section}.${key}` : key;
      return full in settings ? settings[full] : fallback;
    },
    has: (key: string) => (section ? `${section}.${key}` : key) in settings,
    inspect: () => undefined,
    update: async () => undefined,
  });

  const special: Record<string, (...args: unknown[]) => unknown> = {
    'commands.registerCommand': (id) => {
      registered.push(String(id));
      return disposable;
    },
    'commands.registerTextEditorCommand': (id) => {
      registered.push(String(id));
      return disposable;
    },
    'workspace.getConfiguration': (section) => configuration(section as string | undefined),
  };

  const anything = (path: string): unknown =>
    new Proxy(function () {}, {
      get(target, key) {
        if (key === 'then') return undefined;
        if (key === Symbol.toPrimitive) return () => '';
        if (key === Symbol.iterator) return function* () {};
        if (typeof key === 'symbol') return undefined;
        if (key === 'dispose') return () => undefined;
        // What code stored on a fake (a `view.message = ...`) reads back as stored.
        if (Object.prototype.hasOwnProperty.call(target, key) && !['name', 'length', 'prototype'].includes(key)) return Reflect.get(target, key);
        const next = path ? `${path}.${key}` : key;
        if (next in special) return special[next];
        return anything(next);
      },
      // Results are objects (status bar items, views, channels): code sets fields on them freely.
      apply: () => instance(`${path}()`, Object),
      // A real object, so subclasses (`class Item extends vscode.TreeItem`) keep their own fields and methods.
      construct: (_target, _args, newTarget) => instance(`new ${path}`, newTarget),
    });

  const instance = (path: string, newTarget: { prototype?: object }): object =>
    new Proxy(Object.create((newTarget.prototype as object | undefined) ?? Object.prototype) as object, {
      get(target, key, receiver) {
        if (typeof key === 'symbol' || key in target) return Reflect.get(target, key, receiver);
        if (key === 'then') return undefined;
        if (key === 'dispose') return () => undefined;
        return anything(`${path}.${key}`);
      },
    });

  const module: Record<string, unknown> = {};
  for (const name of names) module[name] = anything(name);
  return { module, registered };
}
