import type { AgentFleet, AgentFleetOptions } from '../../core/agents/fleet';
import { openAgentFleet } from '../../core/agents/fleetRuntime';

/** The one place the editor opens the agents' engine (tests of the view can stand in for it here). */
export function openFleet(options: AgentFleetOptions): Promise<AgentFleet> {
  return openAgentFleet(options);
}
