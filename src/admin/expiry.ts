// Certificate expiry: which warning a certificate is at (60, 30, 14, 7, 1 days before), as data.
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
