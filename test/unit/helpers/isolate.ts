import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Loaded before every test file (see .mocharc.json): points HOME, the XDG folders and tmux's
 * socket folder at a temporary folder, so no test reads the user's tmux.conf, writes into their
 * home or can reach their default tmux server.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsm-home-'));
for (const [name, folder] of [
  ['HOME', 'home'],
  ['XDG_CONFIG_HOME', 'home/.config'],
  ['XDG_STATE_HOME', 'home/.local/state'],
  ['XDG_DATA_HOME', 'home/.local/share'],
  ['XDG_CACHE_HOME', 'home/.cache'],
  ['TMUX_TMPDIR', 'tmux'],
] as const) {
  process.env[name] = path.join(root, folder);
  fs.mkdirSync(process.env[name]!, { recursive: true });
}
delete process.env.TMUX;
delete process.env.TMUX_PANE;

export const mochaHooks = {
  afterAll(): void {
    fs.rmSync(root, { recursive: true, force: true });
  },
};
