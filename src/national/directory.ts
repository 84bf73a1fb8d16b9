// The national directory at every hub of a network linked to the axis: the gateway reads it
// (national/connector.ts) and broadcasts it, signed with its seal key, like a trust change
// (bus/broadcast.ts); each hub checks the signature, keeps the copy in its ledger and routes
// with it (routing/router.ts, the `national` route). So the first hop already knows whether a
// recipient the network does not serve is known nationally.
import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fail, ok, type HubError, type Result } from '../errors.js';
import { nationalGateway, type NationalAgency, type Registry } from '../agency/registry.js';
import { applyChange, closuresFromOldCodes, nationalRenames } from '../agency/directory.js';
import { verifyChange, type HubSigner } from '../hop/seal.js';
import type { Ledger } from '../ledger/store.js';
import { parseJson } from '../pipeline/hop-pipeline.js';
import { CHANGE_SIGNATURE, CHANGE_SIGNER } from '../admin/trust-changes.js';

/** The header that marks a broadcast as the national directory (the others are trust changes). */
export const BROADCAST_KIND = 'x-lgsp-broadcast';
export const DIRECTORY_KIND = 'national.directory';

const MAX_ENTRIES = 100_000;
const Field = z.string().max(1024);
const DirectoryBody = z.object({
  origin: z.string().max(64),
  fetchedAt: z.string().max(64),
  entries: z.array(z.object({ id: Field, pid: Field, code: Field.min(1), name: Field, mail: Field, oldCode: Field })).max(MAX_ENTRIES),
});

export interface NationalDirectory {
  /** Routes with the copy this hub's ledger holds (at start). */
  load(): Promise<void>;
  /** At the gateway: sends a fresh copy to every hub of the network (this one included). */
  publish(entries: readonly NationalAgency[], fetchedAt: string): Promise<void>;
  /** A copy from the broadcast; one that does not verify goes to the dead letters with its reason. */
  receive(body: Buffer, headers: Readonly<Record<string, string>>, deadLetter: (reason: HubError) => Promise<void>): Promise<void>;
  /** The directory as held, for the console: filtered by code or name (case-insensitive), at most `limit`. */
  search(query: string, limit: number): { entries: NationalAgency[]; total: number; fetchedAt: string | null };
}

export function nationalDirectory(opts: {
  hubId: string; registry: Registry; ledger: Ledger; signer: HubSigner; log: Logger;
  hubCertificates: (hubId: string) => readonly X509Certificate[];
  broadcast: (body: Buffer, headers: Record<string, string>, messageId: string) => Promise<void>;
}): NationalDirectory {
  const { registry, ledger, log } = opts;
  let fetchedAt: string | null = null;
  // The directory's oldCode entries are honoured like the network's own closures: a code of the
  // network it names is closed into its successor (from the copy's time), a code outside it is
  // renamed; both route (with redirectedTo) at every hub, each from its verified copy.
  const apply = (entries: readonly NationalAgency[], at: string) => {
    registry.national.clear();
    for (const e of entries) registry.national.set(e.code, e);
    const renamed = nationalRenames(registry, entries);
    registry.nationalOldCodes = renamed.renames;
    const closed = closuresFromOldCodes(registry, entries, at);
    for (const c of closed.changes) applyChange(registry, c);
    for (const r of [...renamed.refused, ...closed.refused]) log.warn({ code: r.code, reason: r.reason }, 'an oldCode of the national directory left out');
    fetchedAt = at;
  };
  const verified = (body: Buffer, headers: Readonly<Record<string, string>>): Result<z.output<typeof DirectoryBody>> => {
    const gateway = nationalGateway(registry, opts.hubId);
    const by = headers[CHANGE_SIGNER];
    const signature = headers[CHANGE_SIGNATURE];
    if (gateway === null || by !== gateway) return fail('SIGNATURE_INVALID', `a national directory from hub ${String(by).slice(0, 64)}, which does not link this network to the axis`);
    if (signature === undefined || !opts.hubCertificates(by).some((cert) => verifyChange(body, signature, cert))) {
      return fail('SIGNATURE_INVALID', `the national directory's signature does not verify with a seal certificate of hub ${by}`);
    }
    const parsed = DirectoryBody.safeParse(parseJson(body));
    if (!parsed.success) return fail('POLICY_VIOLATION', `unreadable national directory: ${parsed.error.message.slice(0, 512)}`);
    return ok(parsed.data);
  };
  return {
    async load() {
      const held = await ledger.nationalDirectory();
      if (held !== null) apply(held.entries, held.fetchedAt);
    },
    async publish(entries, at) {
      const body = Buffer.from(JSON.stringify({ origin: opts.hubId, fetchedAt: at, entries }));
      await opts.broadcast(body, { [CHANGE_SIGNATURE]: opts.signer.signChange(body), [CHANGE_SIGNER]: opts.hubId, [BROADCAST_KIND]: DIRECTORY_KIND }, `${opts.hubId}:${DIRECTORY_KIND}:${at}`);
    },
    async receive(body, headers, deadLetter) {
      const d = verified(body, headers);
      if (!d.ok) {
        log.error({ code: d.error.code, reason: d.error.message }, 'forged or unreadable national directory dead-lettered');
        return deadLetter(d.error);
      }
      // An older copy arriving late changes nothing.
      if (await ledger.saveNationalDirectory(d.value.entries, d.value.fetchedAt)) {
        apply(d.value.entries, d.value.fetchedAt);
        log.info({ agencies: d.value.entries.length, fetchedAt: d.value.fetchedAt }, 'national directory updated');
      }
    },
    search(query, limit) {
      const q = query.trim().toLowerCase();
      const all = [...registry.national.values()].filter((e) => q === '' || e.code.toLowerCase().includes(q) || e.name.toLowerCase().includes(q));
      return { entries: all.slice(0, limit), total: all.length, fetchedAt };
    },
  };
}
