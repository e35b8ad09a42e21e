/**
 * Dependencies between units: which order to start and stop them in, and what is wrong with a
 * graph (an unknown name, a cycle), said so the author of a profile can fix it.
 */

/**
 * What a dependent waits for: its dependency's process `started`, its readiness probe passed
 * (`ready`; a unit with no readiness probe is ready once started), or it `completed` (exited 0).
 */
export type DependencyCondition = 'started' | 'ready' | 'completed';

export const DEPENDENCY_CONDITIONS: readonly DependencyCondition[] = ['started', 'ready', 'completed'];

export interface Dependency {
  readonly name: string;
  readonly condition: DependencyCondition;
}

export interface GraphNode {
  readonly name: string;
  readonly dependsOn: readonly Dependency[];
}

export class DependencyGraphError extends Error {
  constructor(message: string, readonly cycle?: readonly string[]) {
    super(message);
    this.name = 'DependencyGraphError';
  }
}

/** Throws DependencyGraphError for a duplicate or unknown name or a cycle; the cycle is named in order. */
export function checkGraph(nodes: readonly GraphNode[]): void {
  const byName = new Map<string, GraphNode>();
  for (const node of nodes) {
    if (byName.has(node.name)) throw new DependencyGraphError(`Two units are named "${node.name}"; give each its own name.`);
    byName.set(node.name, node);
  }
  for (const node of nodes) {
    for (const dependency of node.dependsOn) {
      if (!byName.has(dependency.name)) {
        throw new DependencyGraphError(`"${node.name}" depends on "${dependency.name}", which is not defined; known units: ${[...byName.keys()].map((name) => `"${name}"`).join(', ')}.`);
      }
    }
  }
  const cycle = findCycle(nodes, byName);
  if (cycle) throw new DependencyGraphError(`Dependency cycle: ${cycle.map((name) => `"${name}"`).join(' → ')}. Remove one of these dependsOn entries.`, cycle);
}

/** The cycle as a path that ends where it starts (["a", "b", "a"]), or undefined. */
function findCycle(nodes: readonly GraphNode[], byName: ReadonlyMap<string, GraphNode>): string[] | undefined {
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const at = onPath.indexOf(name);
    if (at >= 0) return [...onPath.slice(at), name];
    if (done.has(name)) return undefined;
    onPath.push(name);
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      const cycle = visit(dependency.name);
      if (cycle) return cycle;
    }
    onPath.pop();
    done.add(name);
    return undefined;
  };
  for (const node of nodes) {
    const cycle = visit(node.name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Names in an order where every unit comes after all its dependencies; among units free to go,
 * the order they were declared in. The graph must have passed checkGraph.
 */
export function startOrder(nodes: readonly GraphNode[]): string[] {
  const waitingOn = new Map(nodes.map((node) => [node.name, new Set(node.dependsOn.map((dependency) => dependency.name))]));
  const order: string[] = [];
  while (order.length < nodes.length) {
    const free = nodes.filter((node) => waitingOn.has(node.name) && waitingOn.get(node.name)!.size === 0);
    if (free.length === 0) throw new DependencyGraphError('Dependency cycle; run checkGraph for its names.');
    for (const node of free) {
      order.push(node.name);
      waitingOn.delete(node.name);
      for (const pending of waitingOn.values()) pending.delete(node.name);
    }
  }
  return order;
}

/** Every unit after all its dependents: the start order reversed. */
export function stopOrder(nodes: readonly GraphNode[]): string[] {
  return startOrder(nodes).reverse();
}

/** `names` and everything they depend on, directly or not. */
export function withDependencies(nodes: readonly GraphNode[], names: Iterable<string>): Set<string> {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  return closure(names, (name) => (byName.get(name)?.dependsOn ?? []).map((dependency) => dependency.name));
}

/** `names` and everything that depends on them, directly or not. */
export function withDependents(nodes: readonly GraphNode[], names: Iterable<string>): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const node of nodes) for (const dependency of node.dependsOn) dependents.set(dependency.name, [...(dependents.get(dependency.name) ?? []), node.name]);
  return closure(names, (name) => dependents.get(name) ?? []);
}

function closure(start: Iterable<string>, next: (name: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...start];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    pending.push(...next(name));
  }
  return seen;
}
