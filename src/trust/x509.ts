// Certificate reading helpers. node:crypto does chains and signatures; @peculiar/x509 (which needs
// reflect-metadata loaded first) reads what node:crypto does not expose: key usage bits and CRLs.
import 'reflect-metadata';
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as px from '@peculiar/x509';
import { fail, ok, type Result } from '../errors.js';

export { px };

/** Lowercase hex SHA-256 of the DER, no colons (CONTRACT.md's fingerprint). */
export function fingerprintOf(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(':', '').toLowerCase();
}

/** Serial numbers compare as lowercase hex without leading zeros. */
export function serialKey(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** Whether the key usage allows signing; null when the certificate has one that cannot be read. */
export function mayDigitallySign(cert: X509Certificate): boolean | null {
  let usage: px.KeyUsagesExtension | null;
  try {
    usage = new px.X509Certificate(cert.raw).getExtension(px.KeyUsagesExtension);
  } catch (err) {
    // node:crypto parsed the certificate, but the extension's ASN.1 is damaged (found by fuzzing).
    if (err instanceof Error) return null;
    throw err;
  }
  if (usage === null) return false;
  return (usage.usages & (px.KeyUsageFlags.digitalSignature | px.KeyUsageFlags.nonRepudiation)) !== 0;
}

/**
 * The values of one subject attribute (a short name such as OU, or a dotted OID), in order; null
 * when the subject cannot be read that way.
 */
export function subjectValues(cert: X509Certificate, attribute: string): string[] | null {
  try {
    return new px.X509Certificate(cert.raw).subjectName.getField(attribute);
  } catch (err) {
    // node:crypto parsed the certificate, but its name's ASN.1 does not read as one.
    if (err instanceof Error) return null;
    throw err;
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM text (a bundle may hold several). */
export function readCertificates(pem: string, source: string): Result<X509Certificate[]> {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return fail('USAGE', `${source} holds no PEM certificate`);
  try {
    return ok(blocks.map((b) => new X509Certificate(b)));
  } catch (err) {
    return fail('USAGE', `${source} holds an unreadable certificate: ${(err as Error).message}`);
  }
}

/** Whether a private (or public) key is the one a certificate certifies: their public keys' DER are equal. */
export function keyMatchesCertificate(key: KeyObject, cert: X509Certificate): boolean {
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  return spki(createPublicKey(key)).equals(spki(cert.publicKey));
}

/** Whether bytes are PEM text (a CRL or a key may come as PEM or as DER). */
export function isPem(data: Uint8Array): boolean {
  return Buffer.from(data).toString('latin1').includes('-----BEGIN');
}

/** The DER bytes of PEM text: its base64 body, armour lines and whitespace left out. */
export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

/** DER bytes, whether `data` came as PEM or as DER. */
export function derOf(data: Buffer): Buffer {
  return isPem(data) ? pemToDer(data.toString('utf8')) : data;
}

export function validityOf(cert: X509Certificate): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}
