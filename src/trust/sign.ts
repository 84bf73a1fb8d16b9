// Enveloped XML-DSig signing per the profile: one Reference URI="", enveloped + c14n, sha256,
// rsa-sha256 (or ecdsa-sha256 for EC keys), the signer's certificate in KeyInfo. The package's
// own bytes are kept; only the ds:Signature is inserted before </edXMLHeader>. A QCVN placeholder
// <Signature> is removed first (then libxml2 re-serializes the package).
import { sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { XmlXPath } from 'libxml2-wasm';
import { fail, ok, type Result } from '../errors.js';
import { DSIG_NS, EDXML_NS, NS_MAP } from '../edxml/namespace.js';
import { isElement, parseXml } from '../edxml/libxml.js';
import { childrenNamed, elementOf, refOf } from '../edxml/tree.js';
import { parsePackage } from '../edxml/package.js';
import { C14N_10, C14N_ALGORITHMS, ECDSA_SHA256, ENVELOPED, EXC_C14N, RSA_SHA256, SHA256 } from './algorithms.js';
import { canonicalizeElement, digestDocument } from './dsig.js';
import { keyMatchesCertificate } from './x509.js';

export interface SigningCredential {
  key: KeyObject;
  /** The signer's certificate first, then any chain to include in KeyInfo. */
  certificates: X509Certificate[];
}

export type C14nChoice = 'exclusive' | 'inclusive';

const ANY_SIGNATURE = XmlXPath.compile('//ds:Signature', NS_MAP);
const SIGNED_INFO = XmlXPath.compile('//ds:Signature/ds:SignedInfo', NS_MAP);

export function signPackage(bytes: Uint8Array, credential: SigningCredential, c14n: C14nChoice = 'exclusive'): Result<Buffer> {
  const keyType = credential.key.asymmetricKeyType;
  if (keyType !== 'rsa' && keyType !== 'ec') return fail('USAGE', `a ${keyType} key cannot sign with the edXML profile (RSA or EC only)`);
  const signerCert = credential.certificates[0];
  if (signerCert === undefined) return fail('USAGE', 'no signer certificate given');
  if (!keyMatchesCertificate(credential.key, signerCert)) {
    return fail('USAGE', 'the private key does not match the signer certificate');
  }

  const parsed = parsePackage(bytes, { claimCheck: false });
  if (!parsed.ok) return parsed;
  const { doc, headerElement } = parsed.value;
  let text: string;
  let digest: Result<Buffer>;
  let closing: string;
  const c14nUri = c14n === 'exclusive' ? EXC_C14N : C14N_10;
  try {
    if (doc.find(ANY_SIGNATURE).length > 0) return fail('POLICY_VIOLATION', 'the package is already signed (it has a ds:Signature)');
    const placeholders = childrenNamed(headerElement, EDXML_NS, 'Signature');
    const prefix = elementOf(headerElement).prefix;
    for (const p of placeholders) elementOf(p).remove();
    text = placeholders.length > 0 ? doc.toString() : Buffer.from(bytes).toString('utf8');
    digest = digestDocument(doc, 'sha256', { ...C14N_ALGORITHMS[c14nUri]!, inclusivePrefixes: [] }, null);
    closing = `</${prefix ? `${prefix}:` : ''}edXMLHeader>`;
  } finally {
    doc.dispose();
  }

  if (!digest.ok) return digest;
  const at = text.indexOf(closing);
  if (at < 0 || text.indexOf(closing, at + 1) >= 0) {
    return fail('SCHEMA_INVALID', `cannot find the single ${closing} where the signature goes`);
  }
  const head = `<Signature xmlns="${DSIG_NS}"><SignedInfo>` +
    `<CanonicalizationMethod Algorithm="${c14nUri}"/>` +
    `<SignatureMethod Algorithm="${keyType === 'ec' ? ECDSA_SHA256 : RSA_SHA256}"/>` +
    `<Reference URI=""><Transforms><Transform Algorithm="${ENVELOPED}"/><Transform Algorithm="${c14nUri}"/></Transforms>` +
    `<DigestMethod Algorithm="${SHA256}"/><DigestValue>${digest.value.toString('base64')}</DigestValue></Reference>` +
    `</SignedInfo><SignatureValue>`;
  const tail = '</SignatureValue><KeyInfo><X509Data>' +
    credential.certificates.map((c) => `<X509Certificate>${c.raw.toString('base64')}</X509Certificate>`).join('') +
    '</X509Data></KeyInfo></Signature>';
  const before = text.slice(0, at);
  const after = text.slice(at);

  // SignedInfo is canonicalized where it will stand, with the namespaces in scope there.
  const templated = parseXml(Buffer.from(before + head + tail + after, 'utf8'));
  if (!templated.ok) return templated;
  let signedInfo: Result<Buffer>;
  try {
    const el = templated.value.get(SIGNED_INFO);
    if (!isElement(el)) throw new Error('inserted SignedInfo not found');
    signedInfo = canonicalizeElement(templated.value, refOf(el), { ...C14N_ALGORITHMS[c14nUri]!, inclusivePrefixes: [] });
  } finally {
    templated.value.dispose();
  }
  if (!signedInfo.ok) return signedInfo;
  const value = sign('sha256', signedInfo.value, keyType === 'ec' ? { key: credential.key, dsaEncoding: 'ieee-p1363' } : credential.key);
  return ok(Buffer.from(before + head + value.toString('base64') + tail + after, 'utf8'));
}
