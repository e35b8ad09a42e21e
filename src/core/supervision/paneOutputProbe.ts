import { Runner } from '../../tmux/commands';
import { PaneId } from '../../tmux/model';
import { ServerAddress } from '../../tmux/server';
import { waitForOutput, WaitForOptions } from '../output/waitFor';
import { OutputWatcher } from './probes';

/** Output probes on tmux: the unit's handle is its pane, and waitForOutput reads what the pane prints from now on. */
export function paneOutputWatcher(run: Runner, address: ServerAddress, output?: WaitForOptions['output']): OutputWatcher {
  return async (handle, regex, timeoutMs, signal) => {
    const result = await waitForOutput(run, address, handle as PaneId, { regex, timeoutMs, signal, ...(output ? { output } : {}) });
    const last = result.lastLines.length > 0 ? ` (last line: ${JSON.stringify(result.lastLines[result.lastLines.length - 1])})` : '';
    switch (result.kind) {
      case 'matched':
        return { ok: true, message: `printed ${JSON.stringify(result.match)}` };
      case 'timeout':
        return { ok: false, message: `nothing printed matched /${regex.source}/ within ${timeoutMs} ms${last}` };
      case 'exited':
        return { ok: false, message: `the program exited before printing a match for /${regex.source}/${last}` };
      default:
        return { ok: false, message: `stopped waiting for /${regex.source}/` };
    }
  };
}
