// The signer's certificate: chain to a trusted CA, validity at the given time, revocation,
// key usage, and binding to the sending agency. Each failure is its own stable code.
import type { X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import type { TrustSnapshot } from './store.js';
import { fingerprintOf, mayDigitallySign, serialKey, validityOf } from './x509.js';

export interface Signer {
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  /** false where no registry was loaded, so the agency binding was not checked. */
  bound: boolean;
}

const MAX_CHAIN = 8;

/** `certificates` holds the signer first, then any chain it carried. */
export function checkCertificate(
  certificates: readonly X509Certificate[], trust: TrustSnapshot, at: Date, agency: string,
): Result<Signer> {
  const signer = certificates[0]!;
  const path = buildPath(signer, certificates.slice(1), trust.anchors);
  if (path === null) {
    return fail('CERT_UNTRUSTED', `the signer certificate "${signer.subject}" (issuer "${signer.issuer}") does not chain to a trusted CA`);
  }
  for (const cert of path) {
    const { notBefore, notAfter } = validityOf(cert);
    const who = cert === signer ? 'the signer certificate' : `CA certificate "${cert.subject}"`;
    if (at < notBefore) return fail('CERT_NOT_YET_VALID', `${who} is valid only from ${notBefore.toISOString()}`);
    if (at > notAfter) return fail('CERT_EXPIRED', `${who} expired at ${notAfter.toISOString()}`);
  }
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i]!;
    if (trust.revoked.get(fingerprintOf(path[i + 1]!))?.has(serialKey(cert.serialNumber))) {
      return fail('CERT_REVOKED', `certificate "${cert.subject}" (serial ${serialKey(cert.serialNumber)}) is revoked`);
    }
  }
  const fingerprint = fingerprintOf(signer);
  let usable = trust.signingUsage.get(fingerprint);
  if (usable === undefined) trust.signingUsage.set(fingerprint, usable = mayDigitallySign(signer));
  if (!usable) {
    return fail('CERT_UNTRUSTED', 'the signer certificate\'s key usage allows neither digitalSignature nor nonRepudiation');
  }
  if (trust.registrations !== null) {
    const registered = (trust.registrations.get(agency) ?? []).some((r) => r.fingerprint === fingerprint &&
      (r.notBefore === undefined || at >= r.notBefore) && (r.retireAt === undefined || at < r.retireAt));
    if (!registered) {
      return fail('CERT_NOT_BOUND', `the signer certificate ${fingerprint} is not registered (or no longer active) for agency ${agency}`);
    }
  }
  const { notBefore, notAfter } = validityOf(signer);
  return ok({
    subject: signer.subject,
    issuer: signer.issuer,
    serialNumber: serialKey(signer.serialNumber),
    fingerprint,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    bound: trust.registrations !== null,
  });
}

/** signer → intermediates → trust anchor, each link's signature checked; null if none. */
function buildPath(
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
