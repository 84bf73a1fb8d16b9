// The hostile corpus: each case through the core hop check and through `lgsp verify --json`,
// which must agree on the code (and exit 1 for a rejected input).
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHop, type HopContext } from '../../src/hop/check.js';
import { sign } from 'node:crypto';
import { signPackage } from '../../src/trust/sign.js';
import { canonicalizeElement } from '../../src/trust/dsig.js';
import { C14N_ALGORITHMS, EXC_C14N, LEGACY_EXC_C14N } from '../../src/trust/algorithms.js';
import { isElement, parseXml } from '../../src/edxml/libxml.js';
import { refOf } from '../../src/edxml/tree.js';
import { NS_MAP } from '../../src/edxml/namespace.js';
import { fingerprintOf } from '../../src/trust/x509.js';
import { createTestPki, type Role, type TestPki } from '../helpers/pki.js';
import { documentOfSize, sample, statusPackage } from '../helpers/packages.js';
import { lgsp, tempDir, xmlsec1, xmlsecTemplate } from '../helpers/tools.js';
import { bogusSignature, hostilePackages, reviewPackage } from '../helpers/hostile.js';

let pki: TestPki;
let ctx: HopContext;
const tmp = tempDir();
const unsigned = documentOfSize(12 * 1024);

beforeAll(async () => {
  pki = await createTestPki();
  ctx = { trust: await pki.trust(), now: pki.now, allowLegacy: false, requireSignature: true };
});
afterAll(() => { pki.cleanup(); tmp.cleanup(); });

function signedBy(role: Role, bytes = unsigned): string {
  const signed = signPackage(bytes, pki.creds[role], 'exclusive');
  if (!signed.ok) throw new Error(signed.error.message);
  return signed.value.toString('utf8');
}

function replaced(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`${String(from)} not found`);
  return out;
}

function xmlsecSigned(legacy: boolean): string {
  const tpl = tmp.file(`tpl-${legacy}.edxml`, xmlsecTemplate(unsigned, 'exclusive', legacy));
  const r = xmlsec1('--sign', '--privkey-pem', `${pki.creds.agency.keyFile},${pki.creds.agency.certFile}`, '--output', `${tpl}.out`, tpl);
  if (r.status !== 0) throw new Error(r.stderr);
  return lgspRead(`${tpl}.out`);
}
const lgspRead = (file: string) => fs.readFileSync(file, 'utf8');

const XXE = '<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&x;</edXML>';
const LAUGHS = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
  ']><lolz>&lol9;</lolz>';

const cases: [string, string, () => string][] = [
  ['a validly signed package', 'OK', () => signedBy('agency')],
  ['tampered signed text', 'SIGNATURE_INVALID', () => replaced(signedBy('agency'), 'V/v kết nối', 'V/v hủy kết nối')],
  ['a processing instruction inside signed text', 'POLICY_VIOLATION', () => replaced(signedBy('agency'), 'V/v kết nối', 'V/v kết<?x y?> nối')],
  ['an Id-based reference (signature wrapping)', 'POLICY_VIOLATION', () => replaced(signedBy('agency'), 'URI=""', 'URI="#header"')],
  ['a second signature hidden in a vendor element (wrapping)', 'POLICY_VIOLATION', () => {
    const text = signedBy('agency');
    const sig = /<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/.exec(text)![0];
    return replaced(text, '<edXML:Subject>', `<v:x xmlns:v="urn:v">${sig}</v:x><edXML:Subject>`);
  }],
  ['a rogue self-signed certificate', 'CERT_UNTRUSTED', () => signedBy('rogue')],
  // The certificate is checked before any canonicalization: an untrusted signer never gets there.
  ['a rogue certificate and a SignatureValue that does not verify', 'CERT_UNTRUSTED', () => bogusSignature(Buffer.from(signedBy('rogue'))).toString('utf8')],
  ['the outside review\'s package: 1,200 namespace declarations, inclusive c14n, a bogus SignatureValue', 'POLICY_VIOLATION',
    () => reviewPackage(pki.creds.agency).toString('utf8')],
  ['a revoked certificate (with its CRL)', 'CERT_REVOKED', () => signedBy('revoked')],
  ['an expired certificate', 'CERT_EXPIRED', () => signedBy('expired')],
  ['a certificate not valid yet', 'CERT_NOT_YET_VALID', () => signedBy('notYetValid')],
  ['a certificate whose key usage does not allow signing', 'CERT_UNTRUSTED', () => signedBy('noSigningUsage')],
  ['a placeholder signature (national sample)', 'SIGNATURE_MISSING', () => sample('edoc_new.payload-replaced.edxml').toString('utf8')],
  ['no signature at all', 'SIGNATURE_MISSING', () => statusPackage().toString('utf8')],
  ['an unsigned xmlsec1 template', 'SIGNATURE_MISSING', () => xmlsecTemplate(unsigned, 'exclusive').toString('utf8')],
  ['XXE', 'POLICY_VIOLATION', () => XXE],
  ['a billion-laughs bomb', 'POLICY_VIOLATION', () => LAUGHS],
  ['a missing required element', 'SCHEMA_INVALID', () => replaced(signedBy('agency'), /<edXML:Subject>.*?<\/edXML:Subject>/, '')],
  ['an attachment that is not base64', 'SCHEMA_INVALID', () => replaced(signedBy('agency'), /(<edXML:ContentTransferEncoded[^>]*>)/, '$1%%%')],
  ['a KeyInfo certificate with characters outside base64 (found by fuzzing)', 'SCHEMA_INVALID', () =>
    replaced(signedBy('agency'), '<X509Certificate>', '<X509Certificate>&amp;%')],
  ['a SignatureValue with characters outside base64', 'SCHEMA_INVALID', () => replaced(signedBy('agency'), '<SignatureValue>', '<SignatureValue>%')],
  ['a malformed document', 'MALFORMED_XML', () => signedBy('agency').slice(0, 2000)],
  ['a certificate whose validity time cannot be read (found by fuzzing)', 'SIGNATURE_INVALID', () => {
    const text = signedBy('agency');
    const der = Buffer.from(/<X509Certificate>([^<]+)</.exec(text)![1]!, 'base64');
    const utcTime = der.indexOf(Buffer.from([0x17, 0x0d])); // notBefore: YYMMDDHHMMSSZ
    der.write('25', utcTime + 2 + 6, 'latin1'); // hour 25
    return text.replace(/<X509Certificate>[^<]+</, `<X509Certificate>${der.toString('base64')}<`);
  }],
  ['a KeyInfo certificate whose key usage is not a bit string (found by fuzzing)', 'SIGNATURE_INVALID', () => {
    const text = signedBy('agency');
    const der = Buffer.from(/<X509Certificate>([^<]+)</.exec(text)![1]!, 'base64');
    // keyUsage (OID 2.5.29.15), then [critical BOOLEAN], then OCTET STRING { BIT STRING }
    const oid = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f]));
    if (oid < 0) throw new Error('the test certificate has no keyUsage extension');
    const bits = der.indexOf(0x03, oid + 5 + 2); // the BIT STRING tag inside the OCTET STRING
    der[bits] = 0x04;
    return text.replace(/<X509Certificate>[^<]+</, `<X509Certificate>${der.toString('base64')}<`);
  }],
  ['a relative namespace URI, which c14n refuses (found by fuzzing)', 'POLICY_VIOLATION', () =>
    replaced(signedBy('agency'), '<edXML:edXMLManifest version="1.0">', '<edXML:edXMLManifest version="1.0" xmlns:ds="1.0">')],
  ['a manifest reference without its attachment', 'SCHEMA_INVALID', () => replaced(signedBy('agency'), '<edXML:ContentId>cid:209</edXML:ContentId>', '<edXML:ContentId>cid:210</edXML:ContentId>')],
  ['legacy rsa-sha1 without --allow-legacy', 'POLICY_VIOLATION', () => xmlsecSigned(true)],
  ['the samples\' legacy exc-c14n transform URI without --allow-legacy', 'POLICY_VIOLATION', () =>
    replaced(signedBy('agency'), /(<Transform Algorithm=")http:\/\/www\.w3\.org\/2001\/10\/xml-exc-c14n#/, '$1http://www.w3.org/TR/xml-exc-c14n#')],
];

// `lgsp verify` runs the same check as the core; what the CLI adds is how each code becomes JSON
// and an exit status. So every case goes through the core, and the first case of each code also
// through the CLI (each CLI run costs a process start, about a second on CI's machine).
const firstOfEachCode = <T>(items: readonly T[], codeOf: (item: T) => string): Set<T> =>
  new Set(items.filter((item, i) => items.findIndex((other) => codeOf(other) === codeOf(item)) === i));
const cliCaseNames = new Set([...firstOfEachCode(cases, ([, code]) => code)].map(([name]) => name));

describe('the hostile corpus', () => {
  it.each(cases)('%s → %s', (name, expected, make) => {
    const text = make();
    const verdict = checkHop(Buffer.from(text, 'utf8'), ctx);
    expect(verdict.ok ? 'OK' : verdict.error.code).toBe(expected);
    if (!cliCaseNames.has(name)) return;

    const file = tmp.file('case.edxml', text);
    const cli = lgsp('verify', file, '--trust', pki.caFile, '--crl', pki.crlFile, '--json');
    const json = JSON.parse(cli.stdout) as { ok: boolean; code?: string; message?: string };
    expect(json.ok ? 'OK' : json.code).toBe(expected);
    expect(cli.status).toBe(expected === 'OK' ? 0 : 1);
    if (!json.ok) expect(json.message).toBeTruthy();
  });
});

describe('the hostile shapes of tests/helpers/hostile.ts, at 64 KB', () => {
  it('each is refused by a structure limit, or checked in full within the limits, by the core and the CLI alike', () => {
    const shapes = hostilePackages(pki.creds.agency, 64 * 1024);
    expect(shapes.length).toBeGreaterThan(10);
    const viaCli = firstOfEachCode(shapes, (shape) => shape.expected);
    for (const shape of shapes) {
      const { name, bytes, expected } = shape;
      const verdict = checkHop(bytes, ctx);
      expect(verdict.ok ? 'OK' : verdict.error.code, name).toBe(expected);
      if (!verdict.ok) expect(verdict.error.message, name).toMatch(/\(policy\.max\w+\)|not in the signature profile|transforms must be/);
      if (!viaCli.has(shape)) continue;
      const cli = lgsp('verify', tmp.file('shape.edxml', bytes), '--trust', pki.caFile, '--json');
      const json = JSON.parse(cli.stdout) as { ok: boolean; code?: string };
      expect(json.ok ? 'OK' : json.code, name).toBe(expected);
    }
  });
});

describe('policies around the corpus', () => {
  it('a revoked certificate passes only without the CRL (the CRL is what refuses it)', async () => {
    const verdict = checkHop(Buffer.from(signedBy('revoked')), { ...ctx, trust: await pki.trust({ crl: false }) });
    expect(verdict.ok).toBe(true);
  });

  it('legacy rsa-sha1 is accepted and marked with the legacy flag', () => {
    const verdict = checkHop(Buffer.from(xmlsecSigned(true)), { ...ctx, allowLegacy: true });
    expect(verdict.ok ? verdict.legacy : verdict.error.code).toEqual([
      'http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2000/09/xmldsig#sha1']);
    const cli = lgsp('verify', tmp.file('legacy.edxml', xmlsecSigned(true)), '--trust', pki.caFile, '--allow-legacy', '--json');
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, legacy: expect.arrayContaining(['http://www.w3.org/2000/09/xmldsig#rsa-sha1']) });
  });

  it('the samples\' legacy transform URI is accepted with --allow-legacy and marked', () => {
    // lgsp sign writes only the modern profile: switch the Transform to the legacy URI (same
    // exclusive c14n, so the digest stands) and sign SignedInfo again.
    const text = replaced(signedBy('agency'), /(<Transform Algorithm=")http:\/\/www\.w3\.org\/2001\/10\/xml-exc-c14n#/, '$1http://www.w3.org/TR/xml-exc-c14n#');
    const doc = parseXml(Buffer.from(text));
    if (!doc.ok) throw new Error(doc.error.message);
    const signedInfo = doc.value.get('//ds:SignedInfo', NS_MAP);
    if (!isElement(signedInfo)) throw new Error('no SignedInfo');
    const c14n = canonicalizeElement(doc.value, refOf(signedInfo), { ...C14N_ALGORITHMS[EXC_C14N]!, inclusivePrefixes: [] });
    doc.value.dispose();
    if (!c14n.ok) throw new Error(c14n.error.message);
    const value = sign('sha256', c14n.value, pki.creds.agency.key).toString('base64');
    const legacy = text.replace(/<SignatureValue>[^<]*<\/SignatureValue>/, `<SignatureValue>${value}</SignatureValue>`);
    const refused = checkHop(Buffer.from(legacy), ctx);
    expect(refused.ok ? 'OK' : refused.error.code).toBe('POLICY_VIOLATION');
    const accepted = checkHop(Buffer.from(legacy), { ...ctx, allowLegacy: true });
    expect(accepted.ok ? accepted.legacy : accepted.error.message).toEqual([LEGACY_EXC_C14N]);
    const cli = lgsp('verify', tmp.file('legacy-uri.edxml', legacy), '--trust', pki.caFile, '--allow-legacy', '--json');
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, legacy: [LEGACY_EXC_C14N] });
  });

  it('unsigned packages pass where the hub policy allows them', () => {
    const verdict = checkHop(statusPackage(), { ...ctx, requireSignature: false });
    expect(verdict.ok ? verdict.signer : 'rejected').toBeNull();
  });

  it('a certificate registered for another agency is CERT_NOT_BOUND; registered, it passes', async () => {
    const fingerprint = fingerprintOf(pki.creds.agency.certificates[0]!);
    const elsewhere = await pki.trust({ registrations: [{ agency: '000.00.00.H14', fingerprint }] });
    const bound = await pki.trust({ registrations: [{ agency: '000.00.00.H41', fingerprint }] });
    const retired = await pki.trust({ registrations: [{ agency: '000.00.00.H41', fingerprint, retireAt: new Date(pki.now.getTime() - 1000) }] });
    const bytes = Buffer.from(signedBy('agency'));
    const code = (trust: typeof bound) => { const v = checkHop(bytes, { ...ctx, trust }); return v.ok ? `OK binding=${v.signer?.binding}` : v.error.code; };
    expect(code(elsewhere)).toBe('CERT_NOT_BOUND');
    expect(code(retired)).toBe('CERT_NOT_BOUND');
    expect(code(bound)).toBe('OK binding=registered');
  });

  it('never changes the package bytes', () => {
    const bytes = Buffer.from(signedBy('agency'));
    const copy = Buffer.from(bytes);
    expect(checkHop(bytes, ctx).ok).toBe(true);
    expect(bytes.equals(copy)).toBe(true);
  });
});
