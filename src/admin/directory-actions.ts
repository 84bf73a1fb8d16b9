// The directory's changes as an operator makes them (admin API and console alike): checked
// against the registry here, then applied and broadcast like a trust change (trust-lane.ts), so
// that every hub of the network applies them live, and audited where they are applied.
import type { Result } from '../errors.js';
import { ok } from '../errors.js';
import type { Registry } from '../agency/registry.js';
import { checkChange, checkRetirement } from '../agency/directory.js';
import type { TrustChange, TrustChangeBody } from './trust-changes.js';

export interface DirectoryActions {
  /** Closes `code` into `successor` from `from` (now if absent). */
  close(actor: string, code: string, successor: string, from?: string): Promise<Result<{ code: string; successor: string; from: string }>>;
  /** Moves `code` to hub `hubId`; `from` is the hub it leaves. */
  move(actor: string, code: string, hubId: string): Promise<Result<{ code: string; hubId: string; from: string }>>;
  /** Retires hub `hubId` into `into`: the agencies and child hubs that go there. */
  retire(actor: string, hubId: string, into: string): Promise<Result<{ hubId: string; into: string; agencies: string[]; hubs: string[] }>>;
}

export function directoryActions(deps: {
  hubId: string; registry: Registry; clock: () => Date; changeTrust: (change: TrustChange) => Promise<Result<void>>;
}): DirectoryActions {
  const { registry } = deps;
  const change = (actor: string, c: TrustChangeBody) => deps.changeTrust({ ...c, actor, at: deps.clock().toISOString(), origin: deps.hubId });
  return {
    async close(actor, code, successor, given) {
      // Without a time, in force from now (the closed key's grace period counts from it).
      const from = new Date(given ?? deps.clock()).toISOString();
      const checked = checkChange(registry, { code, successor, from, hubId: null });
      if (!checked.ok) return checked;
      const made = await change(actor, { kind: 'agency.successor', code, successor, from });
      if (!made.ok) return made;
      return ok({ code, successor, from });
    },
    async move(actor, code, hubId) {
      const checked = checkChange(registry, { code, successor: null, from: null, hubId });
      if (!checked.ok) return checked;
      const from = registry.agencies.get(code)!.hubId;
      const made = await change(actor, { kind: 'agency.move', code, hubId });
      if (!made.ok) return made;
      return ok({ code, hubId, from });
    },
    async retire(actor, hubId, into) {
      const checked = checkRetirement(registry, hubId, into);
      if (!checked.ok) return checked;
      const agencies = [...registry.agencies.values()].filter((a) => a.hubId === hubId).map((a) => a.code).sort();
      const hubs = [...registry.hubs.values()].filter((h) => h.parentId === hubId).map((h) => h.id).sort();
      const made = await change(actor, { kind: 'hub.retire', hubId, into });
      if (!made.ok) return made;
      return ok({ hubId, into, agencies, hubs });
    },
  };
}
