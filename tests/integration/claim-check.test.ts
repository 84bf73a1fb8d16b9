// The claim check takes large attachment texts out of the parse and puts their bytes back into
// the digest. These cases prove it never changes a verdict: xmlsec1 (which parses every byte)
// is the referee wherever a signature is involved.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkClaims } from '../../src/edxml/claim-check.js';
import { parsePackage } from '../../src/edxml/package.js';
import { checkHop, type HopContext } from '../../src/hop/check.js';
import { signPackage } from '../../src/trust/sign.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { documentOfSize } from '../helpers/packages.js';
import { tempDir, xmlsec1, xmlsecTemplate } from '../helpers/tools.js';

let pki: TestPki;
let ctx: HopContext;
const tmp = tempDir();
beforeAll(async () => {
  pki = await createTestPki();
  ctx = { trust: await pki.trust(), now: pki.now, allowLegacy: false, requireSignature: true };
});
afterAll(() => { pki.cleanup(); tmp.cleanup(); });

const big = () => documentOfSize(256 * 1024).toString('utf8');
const OPEN = /(<edXML:ContentTransferEncoded[^>]*>)([^<]*)(<\/edXML:ContentTransferEncoded>)/;

function claimed(bytes: Buffer): boolean {
  const parsed = parsePackage(bytes);
  if (!parsed.ok) throw new Error(parsed.error.message);
  parsed.value.doc.dispose();
  return parsed.value.claims !== null;
}

/** Signs with xmlsec1 (which reads every byte) and returns the verdicts of both tools. */
function bothVerdicts(unsigned: string): { xmlsec1: boolean; lgsp: string } {
  const tpl = tmp.file('tpl.edxml', xmlsecTemplate(Buffer.from(unsigned, 'utf8'), 'exclusive'));
  const signed = xmlsec1('--sign', '--privkey-pem', `${pki.creds.agency.keyFile},${pki.creds.agency.certFile}`, '--output', `${tpl}.s`, tpl);
  if (signed.status !== 0) throw new Error(signed.stderr);
  const verified = xmlsec1('--verify', '--trusted-pem', pki.caFile, '--enabled-reference-uris', 'empty', `${tpl}.s`);
  const verdict = checkHop(fs.readFileSync(`${tpl}.s`), ctx);
  return { xmlsec1: verified.status === 0, lgsp: verdict.ok ? 'OK' : verdict.error.code };
}

describe('claim check', () => {
  it('claims a large attachment and verifies it, signed by xmlsec1', () => {
    const text = big();
    expect(claimed(Buffer.from(text))).toBe(true);
    expect(bothVerdicts(text)).toEqual({ xmlsec1: true, lgsp: 'OK' });
  });

  it('normalizes CR LF line ends in a claimed attachment exactly as the XML parser does', () => {
    const text = big().replace(OPEN, (_m, a: string, b64: string, c: string) => a + b64.replaceAll('\n', '\r\n') + '\r' + c);
    expect(claimed(Buffer.from(text))).toBe(true);
    expect(bothVerdicts(text)).toEqual({ xmlsec1: true, lgsp: 'OK' });
  });

  it('leaves a CDATA attachment and character references to the ordinary path, with the same verdict', () => {
    const cdata = big().replace(OPEN, (_m, a: string, b64: string, c: string) => `${a}<![CDATA[${b64}]]>${c}`);
    expect(claimed(Buffer.from(cdata))).toBe(false);
    expect(bothVerdicts(cdata)).toEqual({ xmlsec1: true, lgsp: 'OK' });
    const reference = big().replace(OPEN, (_m, a: string, b64: string, c: string) => `${a}&#65;${b64.slice(1)}${c}`);
    expect(checkClaims(Buffer.from(reference))).toBeNull();
    expect(bothVerdicts(reference)).toEqual({ xmlsec1: true, lgsp: 'OK' });
  });

  it('is not fooled by an attachment tag inside a comment', () => {
    const decoy = `<!-- <x:ContentTransferEncoded>${'QUJD'.repeat(20_000)}</x:ContentTransferEncoded> -->`;
    const text = big().replace('<edXML:Subject>', `${decoy}<edXML:Subject>`);
    expect(checkClaims(Buffer.from(text))?.claims).toHaveLength(2); // the scan proposes the decoy ...
    expect(bothVerdicts(text)).toEqual({ xmlsec1: true, lgsp: 'OK' }); // ... the parse refuses it
  });

  it('detects one changed byte inside a claimed attachment', () => {
    const signed = signPackage(Buffer.from(big()), pki.creds.agency, 'exclusive');
    if (!signed.ok) throw new Error(signed.error.message);
    const text = signed.value.toString('utf8');
    const at = text.indexOf('>', text.indexOf('<edXML:ContentTransferEncoded')) + 5000;
    const flipped = Buffer.from(text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
    expect(claimed(flipped)).toBe(true);
    const verdict = checkHop(flipped, ctx);
    expect(verdict.ok ? 'OK' : verdict.error.code).toBe('SIGNATURE_INVALID');
  });

  it('reports a bad large attachment with the line in the sender\'s bytes', () => {
    const text = big();
    const start = text.indexOf('>', text.indexOf('<edXML:ContentTransferEncoded')) + 1;
    const badAt = start + 100_000;
    const bad = Buffer.from(text.slice(0, badAt) + '@' + text.slice(badAt + 1));
    const result = parsePackage(bad);
    expect(result.ok ? 'OK' : result.error.code).toBe('SCHEMA_INVALID');
    const elementLine = text.slice(0, start).split('\n').length;
    expect(result.ok ? 0 : result.error.details?.[0]?.line).toBe(elementLine);
  });
});
