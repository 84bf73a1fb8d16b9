// The agencies a hub knows, live: the registry (routing) and the API-key maps (sign-in) start from
// the configuration; agencies registered at run time (an agency.add trust change) join both, and
// the directory's changes (closures, moves, retired hubs: agency/directory.ts) apply to them.
// What waits in this hub's mailboxes for an agency now closed or served elsewhere is carried on.
import type { Registry } from '../agency/registry.js';
import { resolveAgency } from '../agency/registry.js';
import { applyChange, applyRetirement, currentCode } from '../agency/directory.js';
import type { Ledger } from '../ledger/store.js';

export interface AgencyDirectory {
  /** API key hash → agency code, for every agency of the network (the admin API's lookups). */
  agencyKeys: Map<string, string>;
  /** API key hash → agency code, for the agencies served by this hub (agency API sign-in). */
  keys: Map<string, string>;
  /**
   * Brings the registry and the keys up to the ledger; then, in the background (a change does not
   * wait for it), carries on what waits here for agencies no longer here.
   */
  reload(): Promise<void>;
  /** Brings the registry and the keys up to the ledger, carrying nothing on (at start, before the pipeline runs). */
  load(): Promise<void>;
  /** Resolves once the carrying on started so far has ended. */
  carried(): Promise<void>;
}

export function agencyDirectory(opts: {
  hubId: string; registry: Registry; ledger: Ledger; configured: readonly { code: string; apiKeyHash: string }[];
  clock: () => Date;
  /** How long a closed agency's key still signs in here (to read and acknowledge what it had). */
  closedKeyGraceMs: number;
  /** Carries the documents waiting here for `agency` on to where it now is (pipeline forwardWaiting). */
  carryOn: (agency: string) => Promise<void>;
  /** Carrying on failed (the broker away): what is left is carried by the next reload or sweep. */
  onCarryError: (err: Error) => void;
}): AgencyDirectory {
  const { hubId, registry, ledger, clock } = opts;
  const agencyKeys = new Map(opts.configured.map((a) => [a.apiKeyHash, a.code]));
  const keys = new Map<string, string>();
  const signsInHere = (code: string, now: Date) => {
    const agency = registry.agencies.get(code);
    if (agency?.hubId !== hubId) return false;
    const closedFrom = agency.successor === undefined ? null : Date.parse(agency.successor.from ?? '1970-01-01T00:00:00Z');
    return closedFrom === null || now.getTime() < closedFrom + opts.closedKeyGraceMs;
  };
  const refreshKeys = () => {
    const now = clock();
    keys.clear();
    for (const [hash, code] of agencyKeys) if (signsInHere(code, now)) keys.set(hash, code);
  };
  refreshKeys();

  const reload = async () => {
    for (const a of await ledger.agencies()) {
      if (registry.agencies.has(a.code)) continue;
      const agency = resolveAgency(registry, a);
      if (agency === null) continue;
      registry.agencies.set(a.code, agency);
      agencyKeys.set(a.apiKeyHash, a.code);
    }
    // Every change is applied again on each reload: applying one twice changes nothing.
    for (const c of await ledger.directoryEntries()) applyChange(registry, c);
    for (const r of await ledger.hubRetirements()) applyRetirement(registry, r.hubId, r.into);
    refreshKeys();
  };
  const carry = async () => {
    const now = clock();
    for (const code of await ledger.waitingAgencies()) {
      if (currentCode(registry, code, now) !== code || registry.agencies.get(code)?.hubId !== hubId) await opts.carryOn(code);
    }
  };
  // One reload, and one carrying on, at a time (the trust lane and the sweep both reload): a
  // document is carried on once.
  let last: Promise<void> = Promise.resolve();
  let carrying: Promise<void> = Promise.resolve();
  return {
    agencyKeys, keys,
    load: async () => {
      await (last = last.then(reload, reload));
    },
    reload: async () => {
      await (last = last.then(reload, reload));
      carrying = carrying.then(carry).catch(opts.onCarryError);
    },
    carried: () => carrying,
  };
}
