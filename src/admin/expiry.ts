// Certificate expiry: which warning a certificate is at (60, 30, 14, 7, 1 days before), as data,
// and which certificates a hub watches.
import { X509Certificate } from 'node:crypto';
import type { Ledger } from '../ledger/store.js';
import { fingerprintOf, validityOf } from '../trust/x509.js';
import { certState } from './trust-changes.js';

export const EXPIRY_THRESHOLDS_DAYS = [60, 30, 14, 7, 1] as const;
const DAY_MS = 86_400_000;

export type WatchedKind = 'agency' | 'hub' | 'ca';

export interface WatchedCert {
  fingerprint: string;
  subject: string;
  kind: WatchedKind;
  agency?: string;
  notAfter: Date;
}

export function secondsToExpiry(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / 1000);
}

/** The tightest threshold the certificate is within (0 once expired); null if beyond 60 days. */
export function expiryThreshold(notAfter: Date, now: Date): number | null {
  const daysLeft = (notAfter.getTime() - now.getTime()) / DAY_MS;
  if (daysLeft <= 0) return 0;
  const within = EXPIRY_THRESHOLDS_DAYS.filter((t) => daysLeft <= t);
  return within.length === 0 ? null : Math.min(...within);
}

/** Every certificate a hub depends on, for expiry warnings and the /metrics gauge. */
export async function watchedCertificates(ledger: Ledger, anchors: readonly X509Certificate[], now: Date): Promise<WatchedCert[]> {
  const subjectOf = (c: X509Certificate) => c.subject.replaceAll('\n', ', ');
  return [
    ...(await ledger.certificates()).filter((c) => ['active', 'retiring', 'expired'].includes(certState(c, now)))
      .map((c) => ({ fingerprint: c.fingerprint, subject: c.subject, kind: 'agency' as const, agency: c.agency, notAfter: new Date(c.notAfter) })),
    ...(await ledger.hubCertificates()).map((h) => {
      const c = new X509Certificate(h.pem);
      return { fingerprint: h.fingerprint, subject: subjectOf(c), kind: 'hub' as const, agency: h.hubId, notAfter: validityOf(c).notAfter };
    }),
    ...anchors.map((c) => ({ fingerprint: fingerprintOf(c), subject: subjectOf(c), kind: 'ca' as const, notAfter: validityOf(c).notAfter })),
  ];
}
