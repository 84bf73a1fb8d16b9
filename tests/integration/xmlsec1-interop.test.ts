// Interoperability with the reference XML-DSig implementation, both ways, for both c14n
// flavours, at 10 KB and 10 MB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHop } from '../../src/hop/check.js';
import { signPackage } from '../../src/trust/sign.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { documentOfSize } from '../helpers/packages.js';
import { lgsp, tempDir, xmlsec1, xmlsecTemplate } from '../helpers/tools.js';

let pki: TestPki;
const tmp = tempDir();
const SIZES = { '10KB': 10 * 1024, '10MB': 10 * 1024 * 1024 } as const;
const unsigned = Object.fromEntries(Object.entries(SIZES).map(([k, n]) => [k, documentOfSize(n)])) as Record<keyof typeof SIZES, Buffer>;

beforeAll(async () => { pki = await createTestPki(); });
afterAll(() => { pki.cleanup(); tmp.cleanup(); });

describe.each(['exclusive', 'inclusive'] as const)('%s c14n', (c14n) => {
  describe.each(Object.keys(SIZES) as (keyof typeof SIZES)[])('%s', (size) => {
    it('lgsp sign → xmlsec1 --verify', () => {
      const input = tmp.file(`in-${c14n}-${size}.edxml`, unsigned[size]);
      const output = `${input}.signed`;
      const signed = lgsp('sign', input, '--key', pki.creds.agency.keyFile, '--cert', pki.creds.agency.certFile, '--c14n', c14n, '-o', output);
      expect(signed.stderr).toBe('');
      expect(signed.status).toBe(0);
      const verified = xmlsec1('--verify', '--trusted-pem', pki.caFile, '--enabled-reference-uris', 'empty', output);
      expect(verified.stderr).toContain('OK');
      expect(verified.status).toBe(0);
    });

    it('xmlsec1 --sign → lgsp verify', () => {
      const template = tmp.file(`tpl-${c14n}-${size}.edxml`, xmlsecTemplate(unsigned[size], c14n));
      const output = `${template}.signed`;
      const signed = xmlsec1('--sign', '--privkey-pem', `${pki.creds.agency.keyFile},${pki.creds.agency.certFile}`, '--output', output, template);
      expect(signed.status, signed.stderr).toBe(0);
      const verified = lgsp('verify', output, '--trust', pki.caFile, '--json');
      expect(verified.status, verified.stdout).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, kind: 'edoc', signer: { subject: expect.stringContaining('OU=000.00.00.H41') } });
    });
  });
});

describe('both tools reject the same tampering', () => {
  it('a changed byte in the attachment fails xmlsec1 and lgsp', async () => {
    const signed = signPackage(unsigned['10KB'], pki.creds.agency, 'exclusive');
    if (!signed.ok) throw new Error(signed.error.message);
    const text = signed.value.toString('utf8');
    const at = text.indexOf('>', text.indexOf('<edXML:ContentTransferEncoded')) + 10;
    const flipped = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const file = tmp.file('tampered.edxml', flipped);
    expect(xmlsec1('--verify', '--trusted-pem', pki.caFile, '--enabled-reference-uris', 'empty', file).status).not.toBe(0);
    const verdict = checkHop(Buffer.from(flipped), { trust: await pki.trust(), now: pki.now, allowLegacy: false, requireSignature: true });
    expect(verdict.ok ? 'OK' : verdict.error.code).toBe('SIGNATURE_INVALID');
  });
});
