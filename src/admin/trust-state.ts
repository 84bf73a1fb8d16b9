// The hub's live trust: a snapshot rebuilt from the ledger's trust store whenever it changes, and
// swapped in whole, so a change takes effect for the next package without a restart and a package
// in the middle of its check keeps the snapshot it started with.
import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/store.js';
import { loadCrl, type RevocationList } from '../trust/crl.js';
import { buildTrustSnapshot, type Registration, type TrustSnapshot } from '../trust/store.js';

export interface TrustState {
  anchors: readonly X509Certificate[];
  current(): TrustSnapshot;
  reload(): Promise<void>;
  /** CAs whose newest CRL is past its nextUpdate (a loud health warning). */
  staleCrls(now: Date): { issuer: string; nextUpdate: string }[];
}

export async function createTrustState(opts: {
  anchors: readonly X509Certificate[];
  /** Registrations that do not live in the trust store (hub seal certificates, from the configuration). */
  fixed: readonly Registration[];
  ledger: Ledger;
  log: Logger;
  failClosed: boolean;
}): Promise<TrustState> {
  let snapshot: TrustSnapshot = buildTrustSnapshot({ anchors: opts.anchors, registrations: opts.fixed });
  let loaded: RevocationList[] = [];
  const reload = async () => {
    const certs = await opts.ledger.certificates();
    const crls: RevocationList[] = [];
    for (const record of await opts.ledger.crls()) {
      const crl = await loadCrl(record.der, opts.anchors);
      if (crl.ok) crls.push(crl.value);
      else opts.log.error({ issuer: record.issuerFingerprint, err: crl.error.message }, 'stored CRL no longer verifies; ignored');
    }
    snapshot = buildTrustSnapshot({
      anchors: opts.anchors,
      crls,
      registrations: [
        ...opts.fixed,
        ...certs.filter((c) => c.state !== 'revoked').map((c) => ({
          agency: c.agency, fingerprint: c.fingerprint, ...(c.retireAt !== undefined ? { retireAt: new Date(c.retireAt) } : {}),
          ...(c.state === 'retired' ? { retireAt: new Date(0) } : {}),
        })),
      ],
      revokedFingerprints: certs.filter((c) => c.state === 'revoked').map((c) => c.fingerprint),
      failClosed: opts.failClosed,
    });
    loaded = crls;
  };
  await reload();
  return {
    anchors: opts.anchors, current: () => snapshot, reload,
    staleCrls: (now) => loaded.filter((c) => c.nextUpdate !== null && c.nextUpdate < now)
      .map((c) => ({ issuer: c.issuer, nextUpdate: c.nextUpdate!.toISOString() })),
  };
}
