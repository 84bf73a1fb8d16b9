// The signer's certificate: chain to a trusted CA, validity at the given time, revocation,
// key usage, and binding to the sending agency (binding.ts). Each failure is its own stable code.
// What depends only on the certificates (parsing, the chain and its signatures, key usage) is
// remembered per trust snapshot once a package signed with them verified (signer-cache.ts);
// validity, CRLs and binding are checked per document.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import type { TrustSnapshot } from './store.js';
import { SignerCache } from './signer-cache.js';
import { buildPath } from './chain.js';
import { fingerprintOf, mayDigitallySign, serialKey, subjectValues, validityOf } from './x509.js';
import { bindSigner, type SignerBinding } from './binding.js';

export interface Signer {
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  /** How it was bound to the sender; unchecked where no registry was loaded. */
  binding: SignerBinding;
}

interface ChainLink {
  subject: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** The fingerprint of the CA that issued this link; null for the trust anchor itself. */
  issuerFingerprint: string | null;
}

/** A KeyInfo's certificates, resolved against a trust snapshot. */
export interface KnownSigner {
  /** The signer cache's key for these KeyInfo texts (rememberSigner). */
  cacheKey: string;
  publicKey: KeyObject;
  signer: Omit<Signer, 'binding'>;
  /** The values of the snapshot's code attribute (outside senders, binding.ts) in the signer's subject. */
  subjectValues: string[];
  /** signer → … → trust anchor, or why there is none (CERT_UNTRUSTED). */
  chain: Result<ChainLink[]>;
  maySign: boolean;
}

/** Parses and chains the KeyInfo certificates, unless a package signed with them verified before. */
export function resolveSigner(texts: readonly string[], trust: TrustSnapshot): Result<KnownSigner> {
  const cacheKey = SignerCache.keyOf(texts);
  const known = trust.signers.get(cacheKey);
  return known === undefined ? resolve(texts, trust.anchors, trust.outside?.codeAttribute ?? null, cacheKey) : ok(known);
}

/** Called once the package's signature and certificate have verified: only then is the signer kept. */
export function rememberSigner(known: KnownSigner, trust: TrustSnapshot): void {
  trust.signers.add(known.cacheKey, known);
}

function resolve(texts: readonly string[], anchors: readonly X509Certificate[], codeAttribute: string | null, cacheKey: string): Result<KnownSigner> {
  const certs: X509Certificate[] = [];
  for (const text of texts) {
    try {
      certs.push(new X509Certificate(Buffer.from(text, 'base64')));
    } catch (err) {
      return fail('SIGNATURE_INVALID', `KeyInfo X509Certificate is not a readable certificate (${(err as Error).message})`);
    }
  }
  // A damaged time (hour 25, say) still parses as a certificate, but not as a date.
  const undated = certs.find((c) => Object.values(validityOf(c)).some((d) => Number.isNaN(d.getTime())));
  if (undated !== undefined) {
    return fail('SIGNATURE_INVALID', `KeyInfo X509Certificate "${undated.subject.replaceAll('\n', ', ')}" has an unreadable validity period`);
  }
  // The signer is the certificate that issued none of the others (KeyInfo may carry its chain).
  const cert = certs.find((c) => !certs.some((other) => other !== c && other.checkIssued(c))) ?? certs[0]!;
  const maySign = mayDigitallySign(cert);
  if (maySign === null) {
    return fail('SIGNATURE_INVALID', `KeyInfo X509Certificate "${cert.subject.replaceAll('\n', ', ')}" has an unreadable key usage extension`);
  }
  const values = codeAttribute === null ? [] : subjectValues(cert, codeAttribute);
  if (values === null) {
    return fail('SIGNATURE_INVALID', `KeyInfo X509Certificate "${cert.subject.replaceAll('\n', ', ')}" has an unreadable subject`);
  }
  const { notBefore, notAfter } = validityOf(cert);
  const path = buildPath(cert, certs.filter((c) => c !== cert), anchors);
  return ok({
    cacheKey,
    publicKey: cert.publicKey,
    signer: {
      subject: cert.subject, issuer: cert.issuer, serialNumber: serialKey(cert.serialNumber), fingerprint: fingerprintOf(cert),
      notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(),
    },
    chain: path === null
      ? fail('CERT_UNTRUSTED', `the signer certificate "${cert.subject.replaceAll('\n', ', ')}" does not chain to a trusted CA`)
      : ok(path.map((c, i) => ({
          subject: c.subject.replaceAll('\n', ', '), serial: serialKey(c.serialNumber), ...validityOf(c),
          issuerFingerprint: i + 1 < path.length ? fingerprintOf(path[i + 1]!) : null,
        }))),
    maySign,
    subjectValues: values,
  });
}

export function checkCertificate(known: KnownSigner, trust: TrustSnapshot, at: Date, agency: string): Result<Signer> {
  if (!known.chain.ok) return known.chain;
  for (const [i, link] of known.chain.value.entries()) {
    const who = i === 0 ? 'the signer certificate' : `CA certificate "${link.subject}"`;
    if (at < link.notBefore) return fail('CERT_NOT_YET_VALID', `${who} is valid only from ${link.notBefore.toISOString()}`);
    if (at > link.notAfter) return fail('CERT_EXPIRED', `${who} expired at ${link.notAfter.toISOString()}`);
    if (link.issuerFingerprint !== null && trust.revoked.get(link.issuerFingerprint)?.has(link.serial)) {
      return fail('CERT_REVOKED', `certificate "${link.subject}" (serial ${link.serial}) is revoked`);
    }
    const deadline = link.issuerFingerprint === null ? undefined : trust.crlDeadlines.get(link.issuerFingerprint);
    if (deadline !== undefined && at > deadline) {
      return fail('CERT_UNTRUSTED', `the revocation status of "${link.subject}" is unknown: its CA's CRL expired at ${deadline.toISOString()} and this hub fails closed`);
    }
  }
  if (trust.revokedFingerprints.has(known.signer.fingerprint)) {
    return fail('CERT_REVOKED', `the signer certificate ${known.signer.fingerprint} was revoked in the trust store`);
  }
  if (!known.maySign) {
    return fail('CERT_UNTRUSTED', 'the signer certificate\'s key usage allows neither digitalSignature nor nonRepudiation');
  }
  const { fingerprint } = known.signer;
  const registered = trust.registrations === null ? null : (trust.registrations.get(agency) ?? []).some((r) => r.fingerprint === fingerprint &&
    (r.notBefore === undefined || at >= r.notBefore) && (r.retireAt === undefined || at < r.retireAt));
  const binding = bindSigner(agency, { fingerprint, subjectValues: known.subjectValues, registered, outside: trust.outside });
  if (!binding.ok) return binding;
  return ok({ ...known.signer, binding: binding.value });
}
