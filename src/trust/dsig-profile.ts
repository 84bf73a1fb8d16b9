// The signature profile, checked before any digest work: exactly one ds:Signature, inside
// edXMLHeader; exactly one Reference and it is URI="" (the whole document: this is what defeats
// signature wrapping, since nothing outside the signed content can be selected); enveloped
// transform then c14n; algorithms from the allow-list.
import { fail, ok, type HubError, type Result } from '../errors.js';
import { DSIG_NS, EDXML_NS } from '../edxml/namespace.js';
import { attributeOf, childrenNamed, elementPath, lineOf, localName, parentOf, textOf, type NodeRef } from '../edxml/tree.js';
import { isBase64Text } from '../edxml/attachment.js';
import {
  C14N_10, C14N_ALGORITHMS, DIGEST_ALGORITHMS, ENVELOPED, SIGNATURE_ALGORITHMS,
  type C14nAlgorithm, type DigestAlgorithm, type SignatureAlgorithm,
} from './algorithms.js';

export interface C14nSpec extends C14nAlgorithm { inclusivePrefixes: string[] }

export interface SignatureProfile {
  signature: NodeRef;
  signedInfo: NodeRef;
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

export interface ProfileOptions {
  allowLegacy: boolean;
  /**
   * The most prefixes an ec:InclusiveNamespaces PrefixList may name (policy.maxNamespacesInScope:
   * no more can be in scope). Exclusive c14n looks each one up at every element.
   */
  maxInclusivePrefixes: number;
}

const EXC_NS = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** `signatures`: every ds:Signature of the package, wherever it stands (ParsedPackage.signatures). */
export function checkSignatureProfile(
  headerElement: NodeRef, signatures: readonly NodeRef[], options: ProfileOptions,
): Result<SignatureProfile> {
  if (signatures.length === 0) {
    const placeholder = childrenNamed(headerElement, EDXML_NS, 'Signature').length > 0;
    return fail('SIGNATURE_MISSING', placeholder
      ? 'the package carries only a placeholder <Signature> in the edXML namespace: it is unsigned'
      : 'the package is unsigned (no ds:Signature in edXMLHeader)');
  }
  if (signatures.length > 1) {
    return violation(`exactly one ds:Signature is allowed, found ${signatures.length}`, signatures[1]!);
  }
  const signature = signatures[0]!;
  if (parentOf(signature) !== headerElement) {
    return violation('the ds:Signature must be a child of edXMLHeader', signature);
  }
  const signedInfo = dsChild(signature, 'SignedInfo');
  const signatureValueEl = dsChild(signature, 'SignatureValue');
  if (signedInfo === undefined || signatureValueEl === undefined) {
    return fail('SIGNATURE_MISSING', 'the ds:Signature is empty (no SignedInfo or SignatureValue): the package is unsigned',
      `line ${lineOf(signature)}`);
  }
  const legacy: string[] = [];
  const algorithm = <T extends { legacy: boolean }>(table: Readonly<Record<string, T>>, el: NodeRef | undefined,
    what: string): Result<T> => {
    const uri = (el === undefined ? null : attributeOf(el, 'Algorithm')) ?? '';
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
  const uri = attributeOf(reference, 'URI');
  if (uri !== '') {
    return violation(`the Reference must be URI="" (the whole document), not ${uri === null ? 'absent' : `"${uri}"`}`, reference);
  }
  const transforms = dsChildren(dsChild(reference, 'Transforms'), 'Transform');
  const first = transforms[0];
  if (first === undefined || attributeOf(first, 'Algorithm') !== ENVELOPED || transforms.length > 2) {
    return violation('the Reference transforms must be enveloped-signature, optionally followed by one c14n', reference);
  }
  // Without an explicit c14n transform XML-DSig canonicalizes with inclusive c14n 1.0.
  const referenceAlg = transforms[1] === undefined
    ? ok(C14N_ALGORITHMS[C14N_10]!)
    : algorithm(C14N_ALGORITHMS, transforms[1], 'Transform');
  if (!referenceAlg.ok) return referenceAlg;
  const digestAlgorithm = algorithm(DIGEST_ALGORITHMS, dsChild(reference, 'DigestMethod'), 'DigestMethod');
  if (!digestAlgorithm.ok) return digestAlgorithm;

  const digestValueEl = dsChild(reference, 'DigestValue');
  const certElements = dsChildren(dsChild(signature, 'KeyInfo'), 'X509Data').flatMap((d) => dsChildren(d, 'X509Certificate'));
  // libxml2's xs:base64Binary lets any character through, and Buffer skips what it cannot decode:
  // checked here, so that only the exact bytes xmlsec1 would read are ever used.
  const texts = new Map([digestValueEl, signatureValueEl, ...certElements]
    .filter((el) => el !== undefined).map((el) => [el, textOf(el)] as const));
  for (const [el, text] of texts) {
    if (!isBase64Text(text)) {
      const path = elementPath(el);
      const line = lineOf(el);
      return fail('SCHEMA_INVALID', `ds:${localName(el)} is not valid base64 at ${path}`, `line ${line}`,
        [{ line, path, reason: 'not valid base64' }]);
    }
  }
  const base64 = (el: NodeRef | undefined) => Buffer.from(withoutSpace(el === undefined ? '' : texts.get(el)!), 'base64');
  const digestValue = base64(digestValueEl);
  const signatureValue = base64(signatureValueEl);
  if (digestValue.length === 0 || signatureValue.length === 0) {
    return fail('SIGNATURE_MISSING', 'the ds:Signature is a template with no DigestValue or SignatureValue: the package is unsigned',
      `line ${lineOf(signature)}`);
  }
  if (certElements.length === 0) return violation('KeyInfo must carry the signer\'s X509Certificate', signature);
  const prefixes = [c14nEl, transforms[1]].map((el) => prefixList(el, options.maxInclusivePrefixes));
  for (const list of prefixes) {
    if (list.prefixes.length > options.maxInclusivePrefixes) {
      return violation(`the InclusiveNamespaces PrefixList names more than ${options.maxInclusivePrefixes} prefixes (policy.maxNamespacesInScope)`,
        list.at ?? signedInfo);
    }
  }

  return ok({
    signature,
    signedInfo,
    signedInfoC14n: { ...signedInfoAlg.value, inclusivePrefixes: prefixes[0]!.prefixes },
    referenceC14n: { ...referenceAlg.value, inclusivePrefixes: prefixes[1]!.prefixes },
    digestAlgorithm: digestAlgorithm.value,
    digestValue,
    signatureAlgorithm: signatureAlgorithm.value,
    signatureValue,
    certificateTexts: certElements.map((el) => withoutSpace(texts.get(el)!)),
    legacy,
  });
}

function violation(message: string, at: NodeRef): { ok: false; error: HubError } {
  const path = elementPath(at);
  const line = lineOf(at);
  return fail('POLICY_VIOLATION', `${message} (at ${path})`, `line ${line}`, [{ line, path, reason: message }]);
}

function dsChildren(el: NodeRef | undefined, name: string): NodeRef[] {
  return el === undefined ? [] : childrenNamed(el, DSIG_NS, name);
}

function dsChild(el: NodeRef | undefined, name: string): NodeRef | undefined {
  return dsChildren(el, name)[0];
}

function withoutSpace(text: string): string {
  return text.replace(/\s+/g, '');
}

// Exclusive c14n may name prefixes to treat inclusively (ec:InclusiveNamespaces PrefixList).
// Read up to one past `max`: a megabyte of prefixes is refused without splitting all of it.
function prefixList(el: NodeRef | undefined, max: number): { prefixes: string[]; at: NodeRef | undefined } {
  const list = el === undefined ? undefined : childrenNamed(el, EXC_NS, 'InclusiveNamespaces')[0];
  const prefixes: string[] = [];
  for (const [prefix] of ((list === undefined ? null : attributeOf(list, 'PrefixList')) ?? '').matchAll(/\S+/g)) {
    if (prefixes.push(prefix) > max) break;
  }
  return { prefixes, at: list };
}
