// The agency registry: which agencies exist, which hub serves each, and the hub tree. Explicit
// parents and hubs from the configuration come first; code arithmetic fills the gaps, so any
// tree works (three levels, two after the 2025 merger, deeper).
import { ancestorCodes, type AgencyCode } from './code.js';

export interface Agency {
  code: string;
  name: string;
  parent: string | null;
  hubId: string;
  /** Closed into this successor (agency/directory.ts), from a time or (null) at once. */
  successor?: { code: string; from: string | null };
  /** Hubs that served it before a move or a retired hub: receipts still in flight from them are genuine. */
  formerHubs?: string[];
}

export interface HubNode {
  id: string;
  parentId: string | null;
}

/** An agency of the national directory (the axis's getAgenciesList), by its code. */
export interface NationalAgency {
  id: string;
  pid: string;
  code: string;
  name: string;
  mail: string;
  oldCode: string;
}

export interface Registry {
  /** Live: agencies registered at run time are added to this map. */
  agencies: Map<string, Agency>;
  hubs: ReadonlyMap<string, HubNode>;
  /** Live: the national directory as last read by the network's link to the axis (replaced whole). */
  national: Map<string, NationalAgency>;
  /** The hubs that link their network to the national axis (one per network at most). */
  upstreams: ReadonlySet<string>;
  /** Hubs retired into another (agency/directory.ts), by the hub they were retired into. */
  retired?: Map<string, string>;
  /**
   * Live, with `national`: codes outside the network that the national directory names as an
   * entry's `oldCode`, by the code that replaced them (agency/directory.ts, nationalRenames).
   */
  nationalOldCodes?: Map<string, string>;
}

export interface AgencySource { code: string; name: string; parent?: string | null | undefined; hubId?: string | undefined }

export interface RegistrySource {
  hubs: readonly { id: string; parentId?: string | null | undefined; upstream?: unknown }[];
  agencies: readonly AgencySource[];
}

export function buildRegistry(source: RegistrySource): Registry {
  const hubIds = new Set(source.hubs.map((h) => h.id));
  const hubs = new Map<string, HubNode>();
  for (const h of source.hubs) {
    const parentId = h.parentId !== undefined ? h.parentId
      : ancestorCodes(h.id as AgencyCode).find((c) => hubIds.has(c)) ?? null;
    hubs.set(h.id, { id: h.id, parentId });
  }
  const upstreams = new Set(source.hubs.filter((h) => h.upstream !== undefined).map((h) => h.id));
  const registry: Registry = { agencies: new Map(), hubs, national: new Map(), upstreams };
  for (const a of source.agencies) {
    const agency = resolveAgency(registry, a);
    if (agency !== null) registry.agencies.set(a.code, agency); // no hub serves it: it stays unknown, and is refused as such
  }
  return registry;
}

/** An agency's parent and serving hub: explicit where given, else by code arithmetic; null if no hub serves it. */
export function resolveAgency(registry: Pick<Registry, 'hubs'>, a: AgencySource): Agency | null {
  const nearestHub = (code: string): string | null =>
    [code, ...ancestorCodes(code as AgencyCode)].find((c) => registry.hubs.has(c)) ?? null;
  const parent = a.parent !== undefined ? a.parent : ancestorCodes(a.code as AgencyCode)[0] ?? null;
  const hubId = a.hubId ?? nearestHub(a.code) ?? (parent === null ? null : nearestHub(parent));
  return hubId === null || !registry.hubs.has(hubId) ? null : { code: a.code, name: a.name, parent, hubId };
}

/** The hubs from `hubId` up to the top of the tree, `hubId` first. */
export function hubAncestry(registry: Registry, hubId: string): string[] {
  const out: string[] = [];
  for (let cur: string | null = hubId; cur !== null && !out.includes(cur); cur = registry.hubs.get(cur)?.parentId ?? null) {
    out.push(cur);
  }
  return out;
}

/** The hubs next to `hubId` in the tree: its children, then its parent. */
export function neighboursOf(registry: Registry, hubId: string): string[] {
  const neighbours = [...registry.hubs.values()].filter((h) => h.parentId === hubId).map((h) => h.id);
  const parent = registry.hubs.get(hubId)?.parentId ?? null;
  if (parent !== null) neighbours.push(parent);
  return neighbours;
}

/** The hub that links `hubId`'s network to the national axis, or null when the network has none. */
export function nationalGateway(registry: Registry, hubId: string): string | null {
  const top = hubAncestry(registry, hubId).at(-1);
  return [...registry.upstreams].find((u) => hubAncestry(registry, u).at(-1) === top) ?? null;
}

/**
 * The hub of `hubId`'s network that leads to a recipient: the one serving it, or for an agency
 * the network does not serve but the national directory knows, the network's gateway to the axis.
 */
export function servingHub(registry: Registry, hubId: string, organId: string): string | null {
  const served = registry.agencies.get(organId)?.hubId;
  if (served !== undefined) return served;
  return registry.national.has(organId) ? nationalGateway(registry, hubId) : null;
}
