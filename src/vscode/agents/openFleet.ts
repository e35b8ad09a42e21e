import type { AgentFleet, AgentFleetOptions } from '../../core/agents/fleet';

/**
 * The one place the editor opens the agents' engine. Until the fleet's runtime is part of this
 * build the Agents view says so instead of failing in every command.
 */
export async function openFleet(options: AgentFleetOptions): Promise<AgentFleet> {
  void options;
  throw new Error('The agents engine is not part of this build yet; the Agents view lists nothing and its commands do nothing.');
}
