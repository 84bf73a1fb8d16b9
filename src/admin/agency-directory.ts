// The agencies a hub knows, live: the registry (routing) and the API-key maps (sign-in) start from
// the configuration, and agencies registered at run time (an agency.add trust change) join both.
import type { Registry } from '../agency/registry.js';
import { resolveAgency } from '../agency/registry.js';
import type { Ledger } from '../ledger/store.js';

export interface AgencyDirectory {
  /** API key hash → agency code, for every agency of the network (the admin API's lookups). */
  agencyKeys: Map<string, string>;
  /** API key hash → agency code, for the agencies served by this hub (agency API sign-in). */
  keys: Map<string, string>;
  /** Adds the agencies the ledger holds that the registry does not yet know. */
  reload(): Promise<void>;
}

export function agencyDirectory(opts: {
  hubId: string; registry: Registry; ledger: Ledger; configured: readonly { code: string; apiKeyHash: string }[];
}): AgencyDirectory {
  const { hubId, registry, ledger } = opts;
  const servedHere = (code: string) => registry.agencies.get(code)?.hubId === hubId;
  const agencyKeys = new Map(opts.configured.map((a) => [a.apiKeyHash, a.code]));
  const keys = new Map(opts.configured.filter((a) => servedHere(a.code)).map((a) => [a.apiKeyHash, a.code]));
  return {
    agencyKeys, keys,
    async reload() {
      for (const a of await ledger.agencies()) {
        if (registry.agencies.has(a.code)) continue;
        const agency = resolveAgency(registry, a);
        if (agency === null) continue;
        registry.agencies.set(a.code, agency);
        agencyKeys.set(a.apiKeyHash, a.code);
        if (agency.hubId === hubId) keys.set(a.apiKeyHash, a.code);
      }
    },
  };
}
