import { PaneOutputHub } from '../core/output/outputHub';
import { TmuxService } from '../tmux/service';

const hubs = new WeakMap<TmuxService, PaneOutputHub>();

/**
 * The one hub of pane output streams for a service: every Follow view, Wait for Output and tool
 * call of this window shares it, since tmux gives a pane only one pipe at a time.
 */
export function outputHub(service: TmuxService): PaneOutputHub {
  let hub = hubs.get(service);
  if (!hub) {
    hub = new PaneOutputHub((argv) => service.run(argv), service.address);
    hubs.set(service, hub);
  }
  return hub;
}
