// The signature profile, checked before any digest work: exactly one ds:Signature, inside
// edXMLHeader; exactly one Reference and it is URI="" (the whole document: this is what defeats
// signature wrapping, since nothing outside the signed content can be selected); enveloped
// transform then c14n; algorithms from the allow-list.
import { XmlXPath } from 'libxml2-wasm';
import { fail, ok, type HubError, type Result } from '../errors.js';
import { DSIG_NS, EDXML_NS, NS_MAP } from '../edxml/namespace.js';
import { childElements, elementPath, isElement, type XmlDocument, type XmlElement } from '../edxml/libxml.js';
import {
  C14N_10, C14N_ALGORITHMS, DIGEST_ALGORITHMS, ENVELOPED, SIGNATURE_ALGORITHMS,
  type C14nAlgorithm, type DigestAlgorithm, type SignatureAlgorithm,
} from './algorithms.js';

export interface C14nSpec extends C14nAlgorithm { inclusivePrefixes: string[] }

export interface SignatureProfile {
  signature: XmlElement;
  signedInfo: XmlElement;
  signedInfoC14n: C14nSpec;
  referenceC14n: C14nSpec;
  digestAlgorithm: DigestAlgorithm;
  digestValue: Buffer;
  signatureAlgorithm: SignatureAlgorithm;
  signatureValue: Buffer;
  /** Every X509Certificate in KeyInfo, as base64 text without whitespace, in document order. */
  certificateTexts: string[];
  /** Legacy algorithm URIs this signature uses (empty for the modern profile). */
  legacy: string[];
}

export interface ProfileOptions { allowLegacy: boolean }

const EXC_NS = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ALL_SIGNATURES = XmlXPath.compile('//ds:Signature', NS_MAP);

export function checkSignatureProfile(
  doc: XmlDocument, headerElement: XmlElement, options: ProfileOptions,
): Result<SignatureProfile> {
  const signatures = doc.find(ALL_SIGNATURES).filter(isElement);
  if (signatures.length === 0) {
    const placeholder = childElements(headerElement).some((c) => c.name === 'Signature' && c.namespaceUri === EDXML_NS);
    return fail('SIGNATURE_MISSING', placeholder
      ? 'the package carries only a placeholder <Signature> in the edXML namespace: it is unsigned'
      : 'the package is unsigned (no ds:Signature in edXMLHeader)');
  }
  if (signatures.length > 1) {
    return violation(`exactly one ds:Signature is allowed, found ${signatures.length}`, signatures[1]!);
  }
  const signature = signatures[0]!;
  if (signature.parent === null || !signature.parent.isSameNode(headerElement)) {
    return violation('the ds:Signature must be a child of edXMLHeader', signature);
  }
  const signedInfo = dsChild(signature, 'SignedInfo');
  const signatureValueEl = dsChild(signature, 'SignatureValue');
  if (signedInfo === undefined || signatureValueEl === undefined) {
    return fail('SIGNATURE_MISSING', 'the ds:Signature is empty (no SignedInfo or SignatureValue): the package is unsigned',
      `line ${signature.line}`);
  }
  const legacy: string[] = [];
  const algorithm = <T extends { legacy: boolean }>(table: Readonly<Record<string, T>>, el: XmlElement | undefined,
    what: string): Result<T> => {
    const uri = el?.attr('Algorithm')?.value ?? '';
    const entry = table[uri];
    if (entry === undefined) return violation(`${what} "${uri}" is not in the signature profile's allow-list`, el ?? signedInfo);
    if (entry.legacy) {
      if (!options.allowLegacy) {
        return violation(`${what} "${uri}" belongs to the legacy profile, which this hub does not allow`, el ?? signedInfo);
      }
      legacy.push(uri);
    }
    return ok(entry);
  };

  const c14nEl = dsChild(signedInfo, 'CanonicalizationMethod');
  const signedInfoAlg = algorithm(C14N_ALGORITHMS, c14nEl, 'CanonicalizationMethod');
  if (!signedInfoAlg.ok) return signedInfoAlg;
  const signatureAlgorithm = algorithm(SIGNATURE_ALGORITHMS, dsChild(signedInfo, 'SignatureMethod'), 'SignatureMethod');
  if (!signatureAlgorithm.ok) return signatureAlgorithm;

  const references = dsChildren(signedInfo, 'Reference');
  if (references.length !== 1) {
    return violation(`exactly one Reference is allowed in SignedInfo, found ${references.length}`, signedInfo);
  }
  const reference = references[0]!;
  const uri = reference.attr('URI');
  if (uri === null || uri.value !== '') {
    return violation(`the Reference must be URI="" (the whole document), not ${uri === null ? 'absent' : `"${uri.value}"`}`, reference);
  }
  const transforms = dsChildren(dsChild(reference, 'Transforms'), 'Transform');
  if (transforms[0]?.attr('Algorithm')?.value !== ENVELOPED || transforms.length > 2) {
    return violation('the Reference transforms must be enveloped-signature, optionally followed by one c14n', reference);
  }
  // Without an explicit c14n transform XML-DSig canonicalizes with inclusive c14n 1.0.
  const referenceAlg = transforms[1] === undefined
    ? ok(C14N_ALGORITHMS[C14N_10]!)
    : algorithm(C14N_ALGORITHMS, transforms[1], 'Transform');
  if (!referenceAlg.ok) return referenceAlg;
  const digestAlgorithm = algorithm(DIGEST_ALGORITHMS, dsChild(reference, 'DigestMethod'), 'DigestMethod');
  if (!digestAlgorithm.ok) return digestAlgorithm;

  const digestValue = base64(dsChild(reference, 'DigestValue'));
  const signatureValue = base64(signatureValueEl);
  if (digestValue.length === 0 || signatureValue.length === 0) {
    return fail('SIGNATURE_MISSING', 'the ds:Signature is a template with no DigestValue or SignatureValue: the package is unsigned',
      `line ${signature.line}`);
  }

  const certElements = dsChildren(dsChild(signature, 'KeyInfo'), 'X509Data').flatMap((d) => dsChildren(d, 'X509Certificate'));
  if (certElements.length === 0) return violation('KeyInfo must carry the signer\'s X509Certificate', signature);

  return ok({
    signature,
    signedInfo,
    signedInfoC14n: { ...signedInfoAlg.value, inclusivePrefixes: prefixList(c14nEl) },
    referenceC14n: { ...referenceAlg.value, inclusivePrefixes: prefixList(transforms[1]) },
    digestAlgorithm: digestAlgorithm.value,
    digestValue,
    signatureAlgorithm: signatureAlgorithm.value,
    signatureValue,
    certificateTexts: certElements.map((el) => el.content.replace(/\s+/g, '')),
    legacy,
  });
}

function violation(message: string, at: XmlElement): { ok: false; error: HubError } {
  const path = elementPath(at);
  return fail('POLICY_VIOLATION', `${message} (at ${path})`, `line ${at.line}`, [{ line: at.line, path, reason: message }]);
}

function dsChildren(el: XmlElement | undefined, name: string): XmlElement[] {
  return el === undefined ? [] : childElements(el).filter((c) => c.name === name && c.namespaceUri === DSIG_NS);
}

function dsChild(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return dsChildren(el, name)[0];
}

function base64(el: XmlElement | undefined): Buffer {
  return Buffer.from((el?.content ?? '').replace(/\s+/g, ''), 'base64');
}

// Exclusive c14n may name prefixes to treat inclusively (ec:InclusiveNamespaces PrefixList).
function prefixList(el: XmlElement | undefined): string[] {
  if (el === undefined) return [];
  const list = childElements(el).find((c) => c.name === 'InclusiveNamespaces' && c.namespaceUri === EXC_NS);
  return (list?.attr('PrefixList')?.value ?? '').split(/\s+/).filter((p) => p !== '');
}
