// The agency registry: which agencies exist, which hub serves each, and the hub tree. Explicit
// parents and hubs from the configuration come first; code arithmetic fills the gaps, so any
// tree works (three levels, two after the 2025 merger, deeper).
import { ancestorCodes, type AgencyCode } from './code.js';

export interface Agency {
  code: string;
  name: string;
  parent: string | null;
  hubId: string;
}

export interface HubNode {
  id: string;
  parentId: string | null;
}

export interface Registry {
  agencies: ReadonlyMap<string, Agency>;
  hubs: ReadonlyMap<string, HubNode>;
}

export interface RegistrySource {
  hubs: readonly { id: string; parentId?: string | null | undefined }[];
  agencies: readonly { code: string; name: string; parent?: string | null | undefined; hubId?: string | undefined }[];
}

export function buildRegistry(source: RegistrySource): Registry {
  const hubIds = new Set(source.hubs.map((h) => h.id));
  const nearestHub = (code: string): string | null =>
    [code, ...ancestorCodes(code as AgencyCode)].find((c) => hubIds.has(c)) ?? null;
  const hubs = new Map<string, HubNode>();
  for (const h of source.hubs) {
    const parentId = h.parentId !== undefined ? h.parentId
      : ancestorCodes(h.id as AgencyCode).find((c) => hubIds.has(c)) ?? null;
    hubs.set(h.id, { id: h.id, parentId });
  }
  const agencies = new Map<string, Agency>();
  for (const a of source.agencies) {
    const parent = a.parent !== undefined ? a.parent : ancestorCodes(a.code as AgencyCode)[0] ?? null;
    const hubId = a.hubId ?? nearestHub(a.code) ?? (parent === null ? null : nearestHub(parent));
    if (hubId === null) continue; // no hub serves it: it stays unknown, and is refused as such
    agencies.set(a.code, { code: a.code, name: a.name, parent, hubId });
  }
  return { agencies, hubs };
}

/** The hubs from `hubId` up to the top of the tree, `hubId` first. */
export function hubAncestry(registry: Registry, hubId: string): string[] {
  const out: string[] = [];
  for (let cur: string | null = hubId; cur !== null && !out.includes(cur); cur = registry.hubs.get(cur)?.parentId ?? null) {
    out.push(cur);
  }
  return out;
}
