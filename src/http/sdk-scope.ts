// Whose documents an SDK caller reads and acknowledges: an agency's own account reads its mailbox
// and its sent documents; a system account (sdk.systems, issue 17) reads those of every agency
// whose code matches its patterns, served by this hub (only they have mailboxes here). A package
// for several of a system's agencies is one item for the system, as the national axis gives a
// province one package whatever the number of its recipients; its `to` lists them.
import { matchesCodePattern } from '../agency/code.js';
import type { PackageKind } from '../edxml/schema.js';
import type { Ledger, ReceivedItem, SentItem } from '../ledger/store.js';
import type { SdkCaller } from './sdk-auth.js';

export interface SdkScope {
  /** Waiting packages, oldest first; `to` is the agency, or for a system a JSON array of its agencies holding the package. */
  received(kind: PackageKind | undefined, limit: number): Promise<(ReceivedItem & { to: string })[]>;
  /** How many packages wait (each once). */
  count(kind: PackageKind | undefined): Promise<number>;
  /** Documents sent, newest first, with their real sender. */
  sent(limit: number): Promise<(SentItem & { sender: string })[]>;
  /** The agencies whose mailboxes, read by this caller, hold `docId` (an agency's account: itself, the ledger says whether it does). */
  holders(docId: string): Promise<string[]>;
}

export function scopeOf(caller: SdkCaller, ledger: Ledger): SdkScope {
  const { system, agency } = caller;
  if (system === null) {
    return {
      received: async (kind, limit) => (await ledger.received(agency, kind, limit)).map((i) => ({ ...i, to: agency })),
      count: (kind) => ledger.countReceived(agency, kind),
      sent: async (limit) => (await ledger.sent(agency, limit)).map((d) => ({ ...d, sender: agency })),
      holders: async () => [agency],
    };
  }
  const patterns = system.receivesFor;
  return {
    async received(kind, limit) {
      const byDoc = new Map<string, ReceivedItem & { agencies: string[] }>();
      for (const { agency: holder, ...item } of await ledger.receivedMatching(patterns, kind, limit)) {
        const seen = byDoc.get(item.docId);
        if (seen === undefined) byDoc.set(item.docId, { ...item, agencies: [holder] });
        else seen.agencies.push(holder);
      }
      return [...byDoc.values()].map(({ agencies, ...item }) => ({ ...item, to: JSON.stringify(agencies) }));
    },
    count: (kind) => ledger.countReceivedMatching(patterns, kind),
    sent: (limit) => ledger.sentMatching(system.sendsFor, limit),
    holders: async (docId) => (await ledger.mailboxEntries(docId)).map((e) => e.agency).filter((a) => patterns.some((p) => matchesCodePattern(a, p))),
  };
}

/** Whether a system may send for `from` (the real sender); an agency's account sends only as itself. */
export function maySendFor(caller: SdkCaller, from: string): boolean {
  return caller.system === null ? from === caller.agency : caller.system.sendsFor.some((p) => matchesCodePattern(from, p));
}
