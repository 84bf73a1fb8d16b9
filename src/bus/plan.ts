// A hub's place on the broker, from the configuration: which neighbours share its broker (their
// ingress is published to straight away) and which are elsewhere (an outbox each, drained by a
// link), and the network's top hub, whose broadcast exchange carries trust changes. `lgsp start`
// lays the broker out from it, and `lgsp broker users` and the demo provision users from it.
import { buildRegistry, hubAncestry, neighboursOf, type Registry, type RegistrySource } from '../agency/registry.js';
import { NATIONAL } from '../routing/router.js';
import { brokerNodes, sameBroker, type BrokerSource } from '../config.js';

/** What a hub has on its broker: outboxes to its neighbours elsewhere (and to the national axis), ingress of those beside it, its network's broadcast. */
export interface HubPlan {
  hubId: string;
  /** The network's top hub, whose broadcast exchange carries trust changes. */
  root: string;
  /** Neighbours on the same broker: published to straight away. */
  direct: string[];
  /** Neighbours on another broker, each with an outbox its link drains. */
  linked: string[];
  /** An outbox each: the linked neighbours and, on the gateway, NATIONAL (national/connector.ts drains it). */
  outboxFor: string[];
}

/** What a plan reads from a configuration (the demo gives its own network in this shape). */
export interface PlanSource extends Omit<BrokerSource, 'hubs'>, Omit<RegistrySource, 'hubs'> {
  hubs: readonly (BrokerSource['hubs'][number] & RegistrySource['hubs'][number])[];
}

/** One hub's plan, from a registry built from `source`. */
export function hubPlan(source: PlanSource, registry: Registry, hubId: string): HubPlan {
  const nodes = brokerNodes(source, hubId);
  const neighbours = neighboursOf(registry, hubId);
  const direct = neighbours.filter((n) => sameBroker(brokerNodes(source, n), nodes));
  const linked = neighbours.filter((n) => !direct.includes(n));
  const gateway = source.hubs.find((h) => h.id === hubId)?.upstream !== undefined;
  return { hubId, root: hubAncestry(registry, hubId).at(-1)!, direct, linked, outboxFor: gateway ? [...linked, NATIONAL] : linked };
}

/** The plan of each hub named. */
export function hubPlans(source: PlanSource, hubIds: readonly string[]): HubPlan[] {
  const registry = buildRegistry(source);
  return hubIds.map((hubId) => hubPlan(source, registry, hubId));
}
