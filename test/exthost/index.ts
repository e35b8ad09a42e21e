import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/**
 * Entry point the extension host loads (extensionTestsPath): runs every *.test.js beside it inside
 * the real VS Code, with the real `vscode` API.
 */
export function run(): Promise<void> {
  // The runner's --untrusted run picks its tests by name (TSM_EXTHOST_GREP).
  const grep = process.env.TSM_EXTHOST_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: 'spec', ...(grep ? { grep } : {}) });
  for (const file of fs.readdirSync(__dirname).sort()) {
    if (file.endsWith('.test.js')) mocha.addFile(path.join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolve()));
  });
}
