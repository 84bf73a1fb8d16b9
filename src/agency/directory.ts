// The agency directory after a restructuring (the 2025 merger of provinces and communes): an
// agency closed into its successor, an agency moved to another hub, a hub retired into its
// parent. Pure: each change is checked against the registry, then applied to it; every hub
// applies the same changes, so that every hub routes a closed code alike.
import { fail, ok, type Result } from '../errors.js';
import { hubAncestry, type Agency, type Registry } from './registry.js';

/** What the directory changes for one agency: its successor (closed from `from`) and/or its hub. */
export interface DirectoryChange { code: string; successor: string | null; from: string | null; hubId: string | null }

/** Whether an agency is closed at `now` (its successor in force). */
export function isClosed(agency: Agency | undefined, now: Date): boolean {
  const s = agency?.successor;
  return s !== undefined && (s.from === null || Date.parse(s.from) <= now.getTime());
}

/**
 * The code a package addressed to `code` goes to at `now`: the end of its chain of successors in
 * force (and of the national directory's renames of codes outside the network).
 */
export function currentCode(registry: Registry, code: string, now: Date): string {
  const seen = new Set([code]);
  let cur = code;
  for (;;) {
    const agency = registry.agencies.get(cur);
    // A closed agency of the network, or a code outside it that the national directory renamed.
    const next = isClosed(agency, now) ? agency!.successor!.code : agency === undefined ? registry.nationalOldCodes?.get(cur) : undefined;
    if (next === undefined || seen.has(next)) return cur; // a cycle is refused when made; never followed
    cur = next;
    seen.add(cur);
  }
}

/** The closed codes whose chain of successors (in force or later) leads to `code`, nearest first. */
export function oldCodesOf(registry: Pick<Registry, 'agencies'>, code: string): string[] {
  const out: string[] = [];
  for (let frontier = [code]; frontier.length > 0;) {
    frontier = [...registry.agencies.values()]
      .filter((a) => a.successor !== undefined && frontier.includes(a.successor.code) && !out.includes(a.code) && a.code !== code)
      .map((a) => a.code).sort();
    out.push(...frontier);
  }
  return out;
}

/** Checks one change against the registry as it stands (apply the ones before it first). */
export function checkChange(registry: Registry, c: DirectoryChange): Result<void> {
  const agency = registry.agencies.get(c.code);
  if (agency === undefined) return fail('NOT_FOUND', `no agency ${c.code} in the directory`);
  if (c.hubId !== null) {
    const hub = registry.hubs.get(c.hubId);
    if (hub === undefined) return fail('NOT_FOUND', `no hub ${c.hubId} in this network`);
    if (retiredInto(registry, c.hubId) !== null) return fail('DIRECTORY_CONFLICT', `hub ${c.hubId} is retired: move ${c.code} to the hub it was retired into`);
  }
  if (c.successor === null) return ok(undefined);
  if (c.successor === c.code) return fail('DIRECTORY_CONFLICT', `agency ${c.code} cannot be its own successor`);
  if (!registry.agencies.has(c.successor)) return fail('NOT_FOUND', `no agency ${c.successor} to be the successor of ${c.code}`);
  if (agency.successor !== undefined && agency.successor.code !== c.successor) {
    return fail('DIRECTORY_CONFLICT', `agency ${c.code} is already closed into ${agency.successor.code}: close ${agency.successor.code} instead, and ${c.code} follows`);
  }
  // Every successor counts, in force or later: a cycle would send a package round for ever once both are.
  const chain = [c.code, c.successor];
  for (let next = registry.agencies.get(c.successor)?.successor; next !== undefined; next = registry.agencies.get(next.code)?.successor) {
    chain.push(next.code);
    if (next.code === c.code) return fail('DIRECTORY_CONFLICT', `closing ${c.code} into ${c.successor} would make a cycle: ${chain.join(' → ')}`);
  }
  return ok(undefined);
}

/** Applies a checked change to the registry. */
export function applyChange(registry: Registry, c: DirectoryChange): void {
  const agency = registry.agencies.get(c.code);
  if (agency === undefined) return;
  if (c.hubId !== null) moveTo(agency, c.hubId);
  if (c.successor !== null) agency.successor = { code: c.successor, from: c.from };
}

function moveTo(agency: Agency, hubId: string): void {
  if (agency.hubId === hubId) return;
  agency.formerHubs = [...new Set([...(agency.formerHubs ?? []), agency.hubId])].filter((h) => h !== hubId);
  agency.hubId = hubId;
}

/** The hub `hubId` was retired into, or null. */
export function retiredInto(registry: Registry, hubId: string): string | null {
  return registry.retired?.get(hubId) ?? null;
}

/** Checks that hub `hubId` may retire into `into`: both exist, and `into` is not the hub or below it. */
export function checkRetirement(registry: Registry, hubId: string, into: string): Result<void> {
  if (!registry.hubs.has(hubId)) return fail('NOT_FOUND', `no hub ${hubId} in this network`);
  if (!registry.hubs.has(into)) return fail('NOT_FOUND', `no hub ${into} in this network`);
  if (retiredInto(registry, hubId) !== null) return fail('DIRECTORY_CONFLICT', `hub ${hubId} is retired already (into ${retiredInto(registry, hubId)})`);
  if (retiredInto(registry, into) !== null) return fail('DIRECTORY_CONFLICT', `hub ${into} is retired: it cannot take another hub's agencies`);
  if (hubAncestry(registry, into).includes(hubId)) return fail('DIRECTORY_CONFLICT', `hub ${hubId} cannot retire into ${into}, which is itself or below it`);
  return ok(undefined);
}

/**
 * Retires hub `hubId` into `into`: its agencies and child hubs go to `into`. The hub itself stays
 * in the tree below `into`, serving nobody, so that what still waits in it drains through `into`.
 */
export function applyRetirement(registry: Registry, hubId: string, into: string): void {
  for (const a of registry.agencies.values()) if (a.hubId === hubId) moveTo(a, into);
  for (const h of registry.hubs.values()) if (h.parentId === hubId) h.parentId = into;
  const hub = registry.hubs.get(hubId);
  if (hub !== undefined) hub.parentId = into;
  registry.retired ??= new Map();
  registry.retired.set(hubId, into);
}

/** A copy of the registry to check a whole plan on, change by change, before any of it is applied. */
export function draftOf(registry: Registry): Registry {
  return {
    agencies: new Map([...registry.agencies].map(([code, a]) => [code, {
      ...a, ...(a.successor ? { successor: { ...a.successor } } : {}), ...(a.formerHubs ? { formerHubs: [...a.formerHubs] } : {}),
    }])),
    hubs: new Map([...registry.hubs].map(([id, h]) => [id, { ...h }])),
    retired: new Map(registry.retired),
    national: registry.national, upstreams: registry.upstreams,
    ...(registry.nationalOldCodes === undefined ? {} : { nationalOldCodes: registry.nationalOldCodes }),
  };
}

/**
 * The closures an `oldCode` list implies (the national directory's field: each agency with the
 * codes it replaced, comma-separated), for the codes this registry knows and has not closed yet.
 * A pair that cannot stand (a cycle) is left out and named, never applied.
 */
export function closuresFromOldCodes(
  registry: Registry, entries: readonly { code: string; oldCode: string }[], from: string,
): { changes: DirectoryChange[]; refused: { code: string; reason: string }[] } {
  const draft = draftOf(registry);
  const changes: DirectoryChange[] = [];
  const refused: { code: string; reason: string }[] = [];
  for (const e of entries) {
    for (const old of oldCodesIn(e)) {
      if (!draft.agencies.has(old) || draft.agencies.get(old)!.successor !== undefined) continue;
      const change: DirectoryChange = { code: old, successor: e.code, from, hubId: null };
      const checked = checkChange(draft, change);
      if (!checked.ok) { refused.push({ code: old, reason: checked.error.message }); continue; }
      applyChange(draft, change);
      changes.push(change);
    }
  }
  return { changes, refused };
}

/**
 * The renames an `oldCode` list implies for codes outside the network (no agency of the registry)
 * that the directory no longer lists itself: old code → the entry's code. A code two entries both
 * claim is left out and named: which one replaced it cannot be told.
 */
export function nationalRenames(
  registry: Pick<Registry, 'agencies'>, entries: readonly { code: string; oldCode: string }[],
): { renames: Map<string, string>; refused: { code: string; reason: string }[] } {
  const listed = new Set(entries.map((e) => e.code));
  const claims = new Map<string, string[]>();
  for (const e of entries) {
    for (const old of oldCodesIn(e)) if (!registry.agencies.has(old) && !listed.has(old)) claims.set(old, [...new Set([...(claims.get(old) ?? []), e.code])]);
  }
  const renames = new Map<string, string>();
  const refused: { code: string; reason: string }[] = [];
  for (const [old, by] of claims) {
    if (by.length === 1) renames.set(old, by[0]!);
    else refused.push({ code: old, reason: `the national directory names ${old} as the old code of ${by.join(', ')}` });
  }
  return { renames, refused };
}

/** The codes an entry's `oldCode` names (comma-separated), other than its own. */
function oldCodesIn(e: { code: string; oldCode: string }): string[] {
  return e.oldCode.split(',').map((c) => c.trim()).filter((c) => c !== '' && c !== e.code);
}
