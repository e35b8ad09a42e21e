// Writes schemas/tmux-session.schema.json from the profile definition (npm run schema).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { profileJsonSchema } from '../src/core/profiles/schema';

const target = path.join(__dirname, '../../schemas/tmux-session.schema.json');
fs.writeFileSync(target, JSON.stringify(profileJsonSchema(), null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), target)}`);
