// The one certificate path builder: signer → intermediates → trust anchor. The hop check
// (certs.ts) and the registration of an agency's or a hub's certificate (admin/trust-changes.ts)
// both build the path here, so what registration accepts is what the hop check accepts.
import type { X509Certificate } from 'node:crypto';

/** Longest path followed (signer and intermediates), so a crafted bundle cannot make it loop or run long. */
export const MAX_CHAIN = 8;

/**
 * signer → intermediates (from `carried`, in any order) → one of `anchors`, each link issued by a
 * CA certificate (basicConstraints cA) whose key verifies its signature; null if there is none.
 * Validity periods and revocation are the caller's to check, at the time it cares about.
 */
export function buildPath(
  signer: X509Certificate, carried: readonly X509Certificate[], anchors: readonly X509Certificate[],
): X509Certificate[] | null {
  const path = [signer];
  for (let cur = signer; path.length <= MAX_CHAIN;) {
    const issuedBy = (ca: X509Certificate) => ca.ca && cur.checkIssued(ca) && cur.verify(ca.publicKey);
    const anchor = anchors.find(issuedBy);
    if (anchor !== undefined) return [...path, anchor];
    const next = carried.find((c) => !path.includes(c) && issuedBy(c));
    if (next === undefined) return null;
    path.push(next);
    cur = next;
  }
  return null;
}
