// The hub's live trust: a snapshot rebuilt from the ledger's trust store whenever it changes, and
// swapped in whole, so a change takes effect for the next package without a restart and a package
// in the middle of its check keeps the snapshot it started with.
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/store.js';
import { loadCrl, type RevocationList } from '../trust/crl.js';
import { buildTrustSnapshot, type TrustSnapshot } from '../trust/store.js';
import type { OutsideSenders } from '../trust/binding.js';
import type { TrustMaterial } from '../trust/material.js';
import { fingerprintOf } from '../trust/x509.js';
import { certRecord } from './trust-changes.js';
import { caSubject } from './trust-versions.js';

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
  /** The outside-sender rule with the network as it is now (agencies registered at run time included). */
  outsideSenders: () => OutsideSenders;
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
      outsideSenders: opts.outsideSenders(),
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

/**
 * The configuration's CAs are seeded as a change made at the epoch, older than any an operator
 * makes: once a CA has been added or removed live, the ledger's word stands, and a restart does
 * not bring back a CA removed through the admin API (removal deletes its row; the trust version
 * of the removal remains).
 */
const SEED_VERSION = { at: new Date(0).toISOString(), digest: 'config' } as const;

/** The configuration seeds the trust store; from then on the ledger holds it, changed live. */
export async function seedTrustStore(ledger: Ledger, material: TrustMaterial, now: Date): Promise<void> {
  const at = now.toISOString();
  for (const r of material.seed) await ledger.addCertificate(certRecord(r.cert, r.agency, now, 'config'));
  for (const ca of material.anchors) {
    const fingerprint = fingerprintOf(ca);
    const held = await ledger.claimTrustVersions([caSubject(fingerprint)], SEED_VERSION.at, SEED_VERSION.digest);
    if (held.length > 0) await ledger.addTrustedCa(fingerprint, ca.toString(), at, 'config');
  }
  for (const [id, c] of material.hubCertificates) await ledger.addHubCertificate(id, fingerprintOf(c), c.toString(), at);
  for (const c of material.crls) {
    await ledger.putCrl({ issuerFingerprint: c.list.issuerFingerprint, der: c.der, thisUpdate: c.list.thisUpdate.toISOString(), importedAt: at, importedBy: 'config' });
  }
}
