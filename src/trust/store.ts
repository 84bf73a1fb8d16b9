// A trust store snapshot: what one hop check trusts. Built when the trust material loads or
// changes (never per document) and then only read.
import type { X509Certificate } from 'node:crypto';
import { SignerCache } from './signer-cache.js';
import type { RevocationList } from './crl.js';
import { outsideSenderRule, type OutsideSenderRule, type OutsideSenders } from './binding.js';

/** A signing certificate registered for an agency, usable from `notBefore` until `retireAt`. */
export interface Registration {
  agency: string;
  fingerprint: string;
  notBefore?: Date;
  retireAt?: Date;
}

export interface TrustSnapshot {
  anchors: readonly X509Certificate[];
  /** CA fingerprint → revoked serials (normalized by serialKey). */
  revoked: ReadonlyMap<string, ReadonlySet<string>>;
  /** Agency → registered certificates; null where no registry is loaded (binding not checked). */
  registrations: ReadonlyMap<string, readonly Registration[]> | null;
  /** Signer certificates revoked by an operator in the trust store (besides any CRL). */
  revokedFingerprints: ReadonlySet<string>;
  /** Fail closed: CA fingerprint → the CRL's nextUpdate, past which that CA's certificates are refused. */
  crlDeadlines: ReadonlyMap<string, Date>;
  /** How senders the network does not serve are bound (binding.ts); null: every sender must be registered. */
  outside: OutsideSenderRule | null;
  /** The signers of packages that verified (chain, key usage), bounded: see signer-cache.ts. */
  signers: SignerCache;
  /** What the snapshot was built from: a hop-check worker thread builds its own copy from it. */
  material: TrustMaterial;
}

export interface TrustMaterial {
  anchors: readonly X509Certificate[];
  crls?: readonly RevocationList[];
  registrations?: readonly Registration[];
  revokedFingerprints?: Iterable<string>;
  /** Refuse certificates of a CA whose newest CRL is past its nextUpdate. */
  failClosed?: boolean;
  /** Senders the network does not serve (binding.ts); absent: every sender must be registered. */
  outsideSenders?: OutsideSenders;
}

export function buildTrustSnapshot(material: TrustMaterial): TrustSnapshot {
  // The newest CRL of each CA replaces older ones (a CRL is a full list, not a delta).
  const newest = new Map<string, RevocationList>();
  for (const crl of material.crls ?? []) {
    const current = newest.get(crl.issuerFingerprint);
    if (current === undefined || crl.thisUpdate > current.thisUpdate) newest.set(crl.issuerFingerprint, crl);
  }
  const revoked = new Map([...newest].map(([issuer, crl]) => [issuer, crl.serials] as const));
  let registrations: Map<string, Registration[]> | null = null;
  if (material.registrations !== undefined) {
    registrations = new Map();
    for (const r of material.registrations) registrations.set(r.agency, [...(registrations.get(r.agency) ?? []), r]);
  }
  const crlDeadlines = new Map(material.failClosed
    ? [...newest].filter(([, crl]) => crl.nextUpdate !== null).map(([issuer, crl]) => [issuer, crl.nextUpdate!] as const)
    : []);
  const revokedFingerprints = new Set(material.revokedFingerprints ?? []);
  return {
    anchors: material.anchors, revoked, registrations, revokedFingerprints, crlDeadlines,
    outside: material.outsideSenders === undefined ? null : outsideSenderRule(material.outsideSenders),
    signers: new SignerCache(), material: { ...material, revokedFingerprints: [...revokedFingerprints] },
  };
}
