// Writes schemas/cli/<command>.json, the JSON Schemas of the command-line tool's --json output,
// from the zod definitions in src/cli/schemas.ts (the ones the tool's types come from).
// `node scripts/cli-schemas.mjs --check` fails when a committed file differs from what they make.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as url from 'node:url';

const root = path.dirname(path.dirname(url.fileURLToPath(import.meta.url)));
const folder = path.join(root, 'schemas', 'cli');
const check = process.argv.includes('--check');

const result = await build({ entryPoints: [path.join(root, 'src/cli/schemas.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'error' });
const module = { exports: {} };
new Function('module', 'exports', 'require', result.outputFiles[0].text)(module, module.exports, createRequire(path.join(root, 'package.json')));
const { CLI_SCHEMAS, schemaDocument } = module.exports;

fs.mkdirSync(folder, { recursive: true });
let stale = 0;
for (const [name, schema] of Object.entries(CLI_SCHEMAS)) {
  const file = path.join(folder, `${name}.json`);
  const text = `${JSON.stringify(schemaDocument(name, schema), null, 2)}\n`;
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (old === text) continue;
  stale++;
  if (check) console.error(`schemas/cli/${name}.json is out of date; run npm run schemas`);
  else fs.writeFileSync(file, text);
}
if (check && stale > 0) process.exit(1);
