// XML-DSig verification of a profile-checked signature: libxml2 canonicalizes, node:crypto
// hashes and verifies. The document is canonicalized straight into the hash, never into a string.
import { createHash, verify, type X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import type { XmlDocument } from '../edxml/libxml.js';
import type { C14nSpec, SignatureProfile } from './dsig-profile.js';

/**
 * Checks the SignatureValue over SignedInfo, then the digest of the document without the
 * signature (the enveloped-signature transform). Detaches the ds:Signature from `doc`.
 */
export function verifyXmlSignature(doc: XmlDocument, profile: SignatureProfile): Result<X509Certificate> {
  const signer = profile.certificates[0]!;
  // SignedInfo first: its canonical form depends on the namespaces in scope where it stands.
  const signedInfo = Buffer.from(profile.signedInfo.canonicalizeToString(c14nOptions(profile.signedInfoC14n)), 'utf8');
  const { hash, key } = profile.signatureAlgorithm;
  if (signer.publicKey.asymmetricKeyType !== key) {
    return fail('SIGNATURE_INVALID', `SignatureMethod needs a ${key.toUpperCase()} key but the signer certificate holds ${signer.publicKey.asymmetricKeyType}`);
  }
  const valid = verify(hash, signedInfo, key === 'ec' ? { key: signer.publicKey, dsaEncoding: 'ieee-p1363' } : signer.publicKey,
    profile.signatureValue);
  if (!valid) return fail('SIGNATURE_INVALID', 'the SignatureValue does not verify with the certificate in KeyInfo');

  profile.signature.remove();
  const digest = digestDocument(doc, profile.digestAlgorithm.hash, profile.referenceC14n);
  if (!digest.equals(profile.digestValue)) {
    return fail('SIGNATURE_INVALID', 'the DigestValue does not match the document: the signed content was changed');
  }
  return ok(signer);
}

/** Canonicalizes the whole document into a hash (the caller has removed any signature). */
export function digestDocument(doc: XmlDocument, algorithm: 'sha256' | 'sha1', c14n: C14nSpec): Buffer {
  const hash = createHash(algorithm);
  doc.canonicalize({
    write: (chunk: Uint8Array) => {
      hash.update(chunk);
      return chunk.byteLength;
    },
    close: () => true,
  }, c14nOptions(c14n));
  return hash.digest();
}

function c14nOptions(spec: C14nSpec): { mode: C14nSpec['mode']; inclusiveNamespacePrefixes?: string[] } {
  return spec.exclusive && spec.inclusivePrefixes.length > 0
    ? { mode: spec.mode, inclusiveNamespacePrefixes: spec.inclusivePrefixes }
    : { mode: spec.mode };
}
