// The hub's live trust: a snapshot rebuilt from the ledger's trust store whenever it changes, and
// swapped in whole, so a change takes effect for the next package without a restart and a package
// in the middle of its check keeps the snapshot it started with.
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/store.js';
import { loadCrl, type RevocationList } from '../trust/crl.js';
import { buildTrustSnapshot, type TrustSnapshot } from '../trust/store.js';

export interface TrustState {
  /** The trusted CAs now (they can change at run time). */
  anchors(): readonly X509Certificate[];
  current(): TrustSnapshot;
  /** The seal certificates accepted from a hub (more than one while it rotates its key). */
  hubCertificates(hubId: string): readonly X509Certificate[];
  reload(): Promise<void>;
  /** CAs whose newest CRL is past its nextUpdate (a loud health warning). */
  staleCrls(now: Date): { issuer: string; nextUpdate: string }[];
}

export async function createTrustState(opts: {
  ledger: Ledger;
  log: Logger;
  failClosed: boolean;
}): Promise<TrustState> {
  let anchors: X509Certificate[] = [];
  let snapshot: TrustSnapshot = buildTrustSnapshot({ anchors });
  let loaded: RevocationList[] = [];
  let hubCerts = new Map<string, X509Certificate[]>();
  const reload = async () => {
    const certs = await opts.ledger.certificates();
    const hubs = await opts.ledger.hubCertificates();
    anchors = (await opts.ledger.trustedCas()).map((ca) => new X509Certificate(ca.pem));
    const crls: RevocationList[] = [];
    for (const record of await opts.ledger.crls()) {
      const crl = await loadCrl(record.der, anchors);
      if (crl.ok) crls.push(crl.value);
      else opts.log.error({ issuer: record.issuerFingerprint, err: crl.error.message }, 'stored CRL no longer verifies; ignored');
    }
    snapshot = buildTrustSnapshot({
      anchors,
      crls,
      registrations: [
        // A hub signs the 02 statuses it emits as the agency it serves, with its seal key.
        ...hubs.map((h) => ({ agency: h.hubId, fingerprint: h.fingerprint })),
        ...certs.filter((c) => c.state !== 'revoked').map((c) => ({
          agency: c.agency, fingerprint: c.fingerprint, ...(c.retireAt !== undefined ? { retireAt: new Date(c.retireAt) } : {}),
          ...(c.state === 'retired' ? { retireAt: new Date(0) } : {}),
        })),
      ],
      revokedFingerprints: certs.filter((c) => c.state === 'revoked').map((c) => c.fingerprint),
      failClosed: opts.failClosed,
    });
    loaded = crls;
    hubCerts = new Map();
    for (const h of hubs) hubCerts.set(h.hubId, [...(hubCerts.get(h.hubId) ?? []), new X509Certificate(h.pem)]);
  };
  await reload();
  return {
    anchors: () => anchors, current: () => snapshot, reload,
    hubCertificates: (hubId) => hubCerts.get(hubId) ?? [],
    staleCrls: (now) => loaded.filter((c) => c.nextUpdate !== null && c.nextUpdate < now)
      .map((c) => ({ issuer: c.issuer, nextUpdate: c.nextUpdate!.toISOString() })),
  };
}
