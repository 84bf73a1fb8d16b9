// Certificate revocation lists: verified against a trusted CA once, at load, then kept as a set
// of serial numbers so that the per-document check is a lookup.
import type { X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import { fingerprintOf, px, serialKey } from './x509.js';

export interface RevocationList {
  issuerFingerprint: string;
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | null;
  serials: ReadonlySet<string>;
}

export async function loadCrl(data: string | Uint8Array, anchors: readonly X509Certificate[]): Promise<Result<RevocationList>> {
  let crl: px.X509Crl;
  try {
    crl = new px.X509Crl(typeof data === 'string' ? data : Uint8Array.from(data));
  } catch (err) {
    return fail('USAGE', `not a readable CRL (PEM or DER): ${(err as Error).message}`);
  }
  for (const anchor of anchors) {
    const issuer = new px.X509Certificate(anchor.raw);
    if (issuer.subject !== crl.issuer) continue;
    if (!(await crl.verify({ publicKey: issuer }))) continue;
    return ok({
      issuerFingerprint: fingerprintOf(anchor),
      issuer: crl.issuer,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate ?? null,
      serials: new Set(crl.entries.map((e) => serialKey(e.serialNumber))),
    });
  }
  return fail('CERT_UNTRUSTED', `the CRL of "${crl.issuer}" is not signed by a trusted CA`);
}
