import { ExtensionContextServices } from '../context';
import { profileController } from './controller';
import { switchProject } from './switchProject';
import { importAsProfile } from './importProfile';

type Handler = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Profile commands: Up, Down, Apply (the difference first), Restart / Stop Service, Open Profile, Import as Profile, Switch Project. */
export function profileCommands(ctx: ExtensionContextServices): Record<string, Handler> {
  const controller = () => profileController(ctx);
  // A window that reloads finds the services of its profile's running session again.
  setTimeout(() => void controller().adoptRunning(), 500);
  return {
    'tmuxSessionManager.up': () => controller().up(),
    'tmuxSessionManager.down': () => controller().down(),
    'tmuxSessionManager.applyProfile': (args?: { confirm?: boolean }) => controller().apply(typeof args === 'object' && args !== null && !('kind' in args) ? args : {}),
    'tmuxSessionManager.restartService': (node?: unknown) => controller().restartService(node),
    'tmuxSessionManager.stopService': (node?: unknown) => controller().stopService(node),
    'tmuxSessionManager.openProfile': () => controller().openProfile(),
    'tmuxSessionManager.switchProject': (args?: { folder?: string }) => switchProject(ctx, typeof args === 'object' && args !== null && !('kind' in args) ? args : {}),
    'tmuxSessionManager.importProfile': (source?: unknown) => importAsProfile(ctx, source),
    'tmuxSessionManager.serviceStatuses': () => controller().statuses().map((status) => ({ name: status.name, phase: status.state.phase, paneId: status.paneId, restarts: status.restarts, breaker: status.breaker.status })),
  };
}
