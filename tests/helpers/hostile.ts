// Packages built to make canonicalization expensive (issue 14, item 1), shared by the hostile
// corpus, the fuzzers' seeds, the HTTP test and `npm run bench:hostile`. Each shape comes in two
// forms: over a structure limit (refused before any c14n) and as large as the limits allow,
// validly signed (so that both c14n passes run). Sizes are filled up to `bytes`.
import fs from 'node:fs';
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { DEFAULT_LIMITS, type StructureLimits } from '../../src/edxml/limits.js';
import { parseXml } from '../../src/edxml/libxml.js';
import { descendantsNamed, elementOf, rootOf } from '../../src/edxml/tree.js';
import { DSIG_NS } from '../../src/edxml/namespace.js';
import { C14N_ALGORITHMS, EXC_C14N } from '../../src/trust/algorithms.js';
import { canonicalizeElement, digestDocument } from '../../src/trust/dsig.js';
import { signPackage, type C14nChoice, type SigningCredential } from '../../src/trust/sign.js';
import { documentOfSize } from './packages.js';

export interface HostileCase {
  name: string;
  bytes: Buffer;
  /** The code the hop check answers, or OK. */
  expected: string;
}

/** Declarations and elements the base package itself has on the deepest path (root, envelope, ds:Signature). */
const BASE_IN_SCOPE = 3;
/** Elements of the signed base package, with room to spare. */
const BASE_ELEMENTS = 200;
const ROOT = /<edXML xmlns="http:\/\/www\.mic\.gov\.vn\/TBT\/QCVN_102_2016"/;
const FROM_END = /<\/(\w+:)?From>/;

function replaced(text: string, from: RegExp | string, to: (m: string) => string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`${String(from)} not found`);
  return out;
}

const onRoot = (text: string, attrs: string) => replaced(text, ROOT, (m) => m + attrs);
const inFrom = (text: string, xml: string) => replaced(text, FROM_END, (m) => xml + m);
const declarations = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ` xmlns:n${from + i}="urn:n${from + i}"`).join('');
const unsigned = () => documentOfSize(4096).toString('utf8');

function signed(text: string, credential: SigningCredential, c14n: C14nChoice): Buffer {
  const s = signPackage(Buffer.from(text), credential, c14n);
  if (!s.ok) throw new Error(`signing a hostile package: ${s.error.message}`);
  return s.value;
}

/** An agency's signing credential from its key and certificate files (a demo network's agencies). */
export function credentialOf(files: { keyFile: string; certFile: string }): SigningCredential {
  return { key: createPrivateKey(fs.readFileSync(files.keyFile)), certificates: [new X509Certificate(fs.readFileSync(files.certFile))] };
}

/** The same signature with a SignatureValue that does not verify (same length, still base64). */
export function bogusSignature(bytes: Buffer): Buffer {
  return Buffer.from(replaced(bytes.toString('utf8'), /<SignatureValue>([^<]*)</, (m) => m.replace(/<SignatureValue>(.)/, (_, c: string) => `<SignatureValue>${c === 'A' ? 'B' : 'A'}`)));
}

/**
 * The outside review's package: `n` namespace declarations on the root and `n` foreign-namespace
 * elements in From (the schema's xs:any), inclusive C14N 1.0, a SignatureValue that does not
 * verify. 1,200 of each (38 KB) took 3.6 s before the structure limits.
 */
export function reviewPackage(credential: SigningCredential, n = 1200, base = unsigned()): Buffer {
  const text = signed(base, credential, 'inclusive').toString('utf8');
  const elements = Array.from({ length: n }, (_, i) => `<n${i}:e/>`).join('');
  return bogusSignature(Buffer.from(inFrom(onRoot(text, declarations(n)), elements)));
}

/**
 * Adds an ec:InclusiveNamespaces PrefixList to both c14n steps of an exclusive signature, then
 * (with a credential) computes the digest and signs SignedInfo again.
 */
export function withPrefixList(bytes: Buffer, prefixes: string[], credential: SigningCredential | null): Buffer {
  const list = `<InclusiveNamespaces xmlns="${EXC_C14N}" PrefixList="${prefixes.join(' ')}"/>`;
  let text = replaced(bytes.toString('utf8'), `<CanonicalizationMethod Algorithm="${EXC_C14N}"/>`,
    () => `<CanonicalizationMethod Algorithm="${EXC_C14N}">${list}</CanonicalizationMethod>`);
  text = replaced(text, `<Transform Algorithm="${EXC_C14N}"/>`, () => `<Transform Algorithm="${EXC_C14N}">${list}</Transform>`);
  if (credential === null) return Buffer.from(text);
  const spec = { ...C14N_ALGORITHMS[EXC_C14N]!, inclusivePrefixes: prefixes };
  const withDoc = <T>(t: string, use: (doc: Parameters<typeof digestDocument>[0]) => T): T => {
    const doc = parseXml(Buffer.from(t));
    if (!doc.ok) throw new Error(doc.error.message);
    try { return use(doc.value); } finally { doc.value.dispose(); }
  };
  const digest = withDoc(text, (doc) => {
    elementOf(descendantsNamed(rootOf(doc), DSIG_NS, 'Signature')[0]!).remove();
    const d = digestDocument(doc, 'sha256', spec, null);
    if (!d.ok) throw new Error(d.error.message);
    return d.value.toString('base64');
  });
  text = text.replace(/<DigestValue>[^<]*</, `<DigestValue>${digest}<`);
  const signedInfo = withDoc(text, (doc) => {
    const c = canonicalizeElement(doc, descendantsNamed(rootOf(doc), DSIG_NS, 'SignedInfo')[0]!, spec);
    if (!c.ok) throw new Error(c.error.message);
    return c.value;
  });
  return Buffer.from(text.replace(/<SignatureValue>[^<]*</, `<SignatureValue>${sign('sha256', signedInfo, credential.key).toString('base64')}<`));
}

/** Every hostile shape at up to `bytes` bytes: past a limit (refused) and at the limits (checked in full). */
export function hostilePackages(credential: SigningCredential, bytes: number, limits: StructureLimits = DEFAULT_LIMITS): HostileCase[] {
  const room = limits.maxElements - BASE_ELEMENTS;
  const inScope = limits.maxNamespacesInScope - BASE_IN_SCOPE;
  const cases: HostileCase[] = [];
  /**
   * `make(n, base)` with the largest n from `min` to `max` whose package fits `bytes` (or `min`);
   * a package at the limits that still has room gets a larger attachment (claim-checked) to fill it.
   */
  const add = (name: string, expected: string, min: number, max: number, make: (n: number, base: string) => Buffer) => {
    let n = Math.max(min, max);
    let out = make(n, unsigned());
    while (out.length > bytes && n > min) {
      n = Math.max(min, Math.floor(n * (bytes / out.length) * 0.98));
      out = make(n, unsigned());
    }
    if (expected === 'OK' && out.length < bytes - 16_384) {
      const padded = make(n, documentOfSize(4096 + bytes - out.length - 8_192).toString('utf8'));
      if (padded.length <= bytes) out = padded;
    }
    cases.push({ name, bytes: out, expected });
  };
  const over = 'POLICY_VIOLATION';
  const most = Math.floor(bytes / 4); // more than fits: add() comes down to what does
  const chain = (depth: number, declare: boolean) => (declare
    ? Array.from({ length: depth }, (_, i) => `<n${i}:e xmlns:n${i}="urn:n${i}">`).join('') + Array.from({ length: depth }, (_, i) => `</n${depth - 1 - i}:e>`).join('')
    : `<x:e xmlns:x="urn:x">${'<x:e>'.repeat(depth)}${'</x:e>'.repeat(depth)}</x:e>`);
  const afterSigning = (base: string, c14n: C14nChoice, xml: string) => Buffer.from(inFrom(signed(base, credential, c14n).toString('utf8'), xml));
  const prefixed = (n: number, prefixes: number) => Array.from({ length: n }, (_, i) => `<n${i % prefixes}:e/>`).join('');

  add('root declarations + foreign elements, inclusive, bogus SignatureValue', over, 1_200, most, (n) => reviewPackage(credential, n));
  add('most namespaces in scope on the most elements, inclusive', 'OK', 1, room,
    (n, base) => signed(inFrom(onRoot(base, declarations(inScope)), prefixed(n, inScope)), credential, 'inclusive'));
  add('elements past the limit', over, limits.maxElements + 1, most,
    (n, base) => afterSigning(base, 'exclusive', `<x:e xmlns:x="urn:x">${'<x:e/>'.repeat(n)}</x:e>`));
  add('comments past the limit', over, limits.maxElements + 1, most, (n, base) => afterSigning(base, 'exclusive', '<!---->'.repeat(n)));
  add('comments and elements at the limit, inclusive', 'OK', 1, Math.floor(room / 2),
    (n, base) => signed(inFrom(base, `<x:e xmlns:x="urn:x">${'<x:e/><!---->'.repeat(n)}</x:e>`), credential, 'inclusive'));
  // libxml2 refuses nesting past 2,048 levels itself (MALFORMED_XML): these stay below.
  add('deep nesting, a declaration per level', over, limits.maxNamespacesInScope, 2_000, (n, base) => afterSigning(base, 'inclusive', chain(n, true)));
  add('deep nesting, no declarations', over, limits.maxDepth, 2_000, (n, base) => afterSigning(base, 'inclusive', chain(n, false)));
  add('chains at the depth and in-scope limits, inclusive', 'OK', 1, Math.floor(limits.maxNamespaceDeclarations / inScope) - 1,
    (n, base) => signed(inFrom(base, chain(Math.min(limits.maxDepth - 6, inScope), true).repeat(n)), credential, 'inclusive'));
  add('attributes past the limit on one element', over, limits.maxAttributesPerElement + 1, most,
    (n, base) => afterSigning(base, 'exclusive', `<x:e xmlns:x="urn:x"${Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('')}/>`));
  // The most attributes on the most elements, with values that c14n must escape, and the most
  // namespaces in scope.
  add('attributes past the limit, spread over elements', over, Math.ceil(limits.maxAttributes / limits.maxAttributesPerElement) + 1, most,
    (n, base) => afterSigning(base, 'exclusive', `<x:e xmlns:x="urn:x">${`<x:e${Array.from({ length: limits.maxAttributesPerElement }, (_, i) => ` a${i}=""`).join('')}/>`.repeat(n)}</x:e>`));
  add('most attributes and namespaces on the most elements, values to escape, inclusive', 'OK', 1,
    Math.floor(limits.maxAttributes / limits.maxAttributesPerElement) - 1, (n, base) => {
    const attributes = Array.from({ length: limits.maxAttributesPerElement }, (_, i) => ` a${i}="&amp;&quot;"`).join('');
    const elements = Array.from({ length: n }, (_, i) => `<n${i % inScope}:e${attributes}/>`).join('');
    return signed(inFrom(onRoot(base, declarations(inScope)), elements), credential, 'inclusive');
  });
  add('a namespace declaration on each element', over, limits.maxNamespaceDeclarations + 1, most,
    (n, base) => afterSigning(base, 'exclusive', Array.from({ length: n }, (_, i) => `<n${i}:e xmlns:n${i}="urn:n${i}"/>`).join('')));
  // Exclusive c14n looks up every PrefixList prefix at every element; ec:InclusiveNamespaces
  // declares one more namespace where it stands.
  add('exclusive, a PrefixList of every prefix in scope, on the most elements', 'OK', 1, room, (n, base) => {
    const prefixes = Array.from({ length: inScope - 1 }, (_, i) => `n${i}`);
    return withPrefixList(signed(inFrom(onRoot(base, declarations(inScope - 1)), prefixed(n, inScope - 1)), credential, 'exclusive'), prefixes, credential);
  });
  add('exclusive, a PrefixList past the limit', over, limits.maxNamespacesInScope + 1, most,
    (n, base) => withPrefixList(signed(base, credential, 'exclusive'), Array.from({ length: n }, () => 'a'), null));
  add('many Reference transforms', over, 3, most, (n, base) => Buffer.from(signed(base, credential, 'exclusive').toString('utf8')
    .replace('<Transforms>', `<Transforms>${'<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'.repeat(n)}`)));
  add('a large attachment (claim check) beside elements past the limit', over, limits.maxElements + 1, most, (n) =>
    afterSigning(documentOfSize(Math.floor(bytes / 2)).toString('utf8'), 'exclusive', `<x:e xmlns:x="urn:x">${'<x:e/>'.repeat(n)}</x:e>`));
  return cases;
}
