import * as os from 'node:os';
import { Pane, Session } from '../../tmux/model';
import { socketFilePath } from '../../tmux/server';
import { ParsedArgs } from '../args';
import { CliContext, printJson, readTree } from '../context';
import { UsageError } from '../errors';
import type { LsOutput, PaneOutput } from '../schemas';
import { resolveTarget } from '../target';

export async function run(ctx: CliContext, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 1) throw new UsageError('ls takes at most one TARGET. Quote a session name that has spaces.');
  const tree = await readTree(ctx.address);
  let sessions = tree.sessions;
  if (args.positionals.length === 1) {
    const target = resolveTarget(tree, args.positionals[0]);
    const id = target.kind === 'session' ? target.id : target.sessionId;
    sessions = sessions.filter((session) => session.id === id);
  }
  if (ctx.json) printJson(ctx, { socket: socketFilePath(ctx.address), sessions: sessions.map(sessionJson) } satisfies LsOutput);
  else ctx.stdout(sessions.map(sessionText).join(''));
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

function sessionJson(session: Session): LsOutput['sessions'][number] {
  return {
    id: session.id,
    name: session.name,
    attachedClients: session.attachedClients,
    created: iso(session.created),
    activity: iso(session.activity),
    windows: session.windows.map((window) => ({
      id: window.id,
      index: window.index,
      name: window.name,
      active: window.active,
      zoomed: window.zoomed,
      layout: window.layout,
      panes: window.panes.map(paneJson),
    })),
  };
}

function paneJson(pane: Pane): PaneOutput {
  return {
    id: pane.id,
    index: pane.index,
    active: pane.active,
    pid: pane.pid,
    command: pane.currentCommand,
    path: pane.currentPath,
    title: pane.title,
    width: pane.width,
    height: pane.height,
    dead: pane.dead,
    exitStatus: pane.dead ? (pane.deadStatus ?? null) : null,
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * One line per session, window and pane, indented, like the extension's tree: names are printed
 * as they are (JSON-quoted only when they hold what would break a line or hide an edge).
 */
function sessionText(session: Session): string {
  const home = os.homedir();
  const lines = [[shown(session.name), session.id, plural(session.windows.length, 'window'), session.attachedClients > 0 ? 'attached' : ''].filter(Boolean).join('  ')];
  for (const window of session.windows) {
    lines.push(`  ${window.index}: ${shown(window.name)}  ${[window.id, window.active ? 'active' : '', window.zoomed ? 'zoomed' : '', plural(window.panes.length, 'pane')].filter(Boolean).join('  ')}`);
    for (const pane of window.panes) {
      const folder = pane.currentPath === home || pane.currentPath.startsWith(`${home}/`) ? `~${pane.currentPath.slice(home.length)}` : pane.currentPath;
      const program = pane.dead ? `exited${pane.deadStatus === undefined ? '' : ` ${pane.deadStatus}`}` : pane.currentCommand;
      lines.push(`    ${pane.index}  ${[pane.id, shown(program), shown(folder), pane.active ? 'active' : ''].filter(Boolean).join('  ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function shown(value: string): string {
  return value === '' || /^\s|\s$|[\u0000-\u001f\u007f]/.test(value) ? JSON.stringify(value) : value;
}
