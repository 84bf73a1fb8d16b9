// XML-DSig verification of a profile-checked signature: libxml2 canonicalizes, node:crypto
// hashes and verifies. The document is canonicalized straight into the hash, never into a string.
import { createHash, verify, type KeyObject } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import { canonicalize, canonicalizeSubtree, type XmlDocument } from '../edxml/libxml.js';
import { elementOf, type NodeRef } from '../edxml/tree.js';
import { restoringSink, type ClaimCheck } from '../edxml/claim-check.js';
import type { C14nSpec, SignatureProfile } from './dsig-profile.js';

/**
 * Checks the SignatureValue over SignedInfo, then the digest of the document without the
 * signature (the enveloped-signature transform). Detaches the ds:Signature from `doc`.
 */
export function verifyXmlSignature(
  doc: XmlDocument, profile: SignatureProfile, signerKey: KeyObject, claims: ClaimCheck | null,
): Result<void> {
  // SignedInfo first: its canonical form depends on the namespaces in scope where it stands.
  const signedInfo = canonicalizeElement(doc, profile.signedInfo, profile.signedInfoC14n);
  if (!signedInfo.ok) return signedInfo;
  const { hash, key } = profile.signatureAlgorithm;
  if (signerKey.asymmetricKeyType !== key) {
    return fail('SIGNATURE_INVALID', `SignatureMethod needs a ${key.toUpperCase()} key but the signer certificate holds ${signerKey.asymmetricKeyType}`);
  }
  const valid = verify(hash, signedInfo.value, key === 'ec' ? { key: signerKey, dsaEncoding: 'ieee-p1363' } : signerKey,
    profile.signatureValue);
  if (!valid) return fail('SIGNATURE_INVALID', 'the SignatureValue does not verify with the certificate in KeyInfo');

  elementOf(profile.signature).remove();
  const digest = digestDocument(doc, profile.digestAlgorithm.hash, profile.referenceC14n, claims);
  if (!digest.ok) return digest;
  if (!digest.value.equals(profile.digestValue)) {
    return fail('SIGNATURE_INVALID', 'the DigestValue does not match the document: the signed content was changed');
  }
  return ok(undefined);
}

/**
 * Canonicalizes the whole document into a hash (the caller has removed any signature). Where the
 * document was parsed with attachments claimed out, their original bytes go back in the stream.
 */
export function digestDocument(doc: XmlDocument, algorithm: 'sha256' | 'sha1', c14n: C14nSpec, claims: ClaimCheck | null): Result<Buffer> {
  const hash = createHash(algorithm);
  const sink = claims === null ? { write: (chunk: Uint8Array) => hash.update(chunk), end: () => undefined } : restoringSink(claims, hash);
  const done = canonicalize(doc, {
    write: (chunk: Uint8Array) => {
      sink.write(chunk);
      return chunk.byteLength;
    },
    close: () => true,
  }, c14nOptions(c14n));
  if (!done.ok) return done;
  sink.end();
  return ok(hash.digest());
}

/** The canonical form of one element where it stands (with the namespaces in scope there). */
export function canonicalizeElement(doc: XmlDocument, el: NodeRef, spec: C14nSpec): Result<Buffer> {
  const chunks: Buffer[] = [];
  const done = canonicalizeSubtree(doc, el, {
    write: (chunk: Uint8Array) => {
      chunks.push(Buffer.from(chunk));
      return chunk.byteLength;
    },
    close: () => true,
  }, c14nOptions(spec));
  return done.ok ? ok(Buffer.concat(chunks)) : done;
}

function c14nOptions(spec: C14nSpec): { mode: C14nSpec['mode']; inclusiveNamespacePrefixes?: string[] } {
  return spec.exclusive && spec.inclusivePrefixes.length > 0
    ? { mode: spec.mode, inclusiveNamespacePrefixes: spec.inclusivePrefixes }
    : { mode: spec.mode };
}
