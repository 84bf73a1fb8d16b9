// The signer cache (issue 14, item 3): only signers whose package verified are kept, and the
// cache stays within its byte and entry bounds, least recently used first out.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHop, type HopContext } from '../../../src/hop/check.js';
import { resolveSigner, type KnownSigner } from '../../../src/trust/certs.js';
import { SignerCache } from '../../../src/trust/signer-cache.js';
import { signPackage } from '../../../src/trust/sign.js';
import { createTestPki, type Role, type TestPki } from '../../helpers/pki.js';
import { documentOfSize } from '../../helpers/packages.js';

let pki: TestPki;
let ctx: HopContext;
const unsigned = documentOfSize(4096);

beforeAll(async () => {
  pki = await createTestPki();
  ctx = { trust: await pki.trust(), now: pki.now, allowLegacy: false, requireSignature: true };
});
afterAll(() => pki.cleanup());

function signedBy(role: Role): string {
  const s = signPackage(unsigned, pki.creds[role], 'exclusive');
  if (!s.ok) throw new Error(s.error.message);
  return s.value.toString('utf8');
}

/** A signed package carrying, after the signer's certificate, a unique base64 text that is no certificate. */
function withJunkCertificate(bytes: number): Buffer {
  return Buffer.from(signedBy('agency').replace('</X509Data>', `<X509Certificate>${randomBytes(bytes).toString('base64')}</X509Certificate></X509Data>`));
}

const code = (bytes: Buffer, c: HopContext) => { const v = checkHop(bytes, c); return v.ok ? 'OK' : v.error.code; };

describe('the signer cache', () => {
  it('keeps no signer of a refused package: untrusted, junk, or a signature that does not verify', async () => {
    const c = { ...ctx, trust: await pki.trust() };
    expect(code(Buffer.from(signedBy('rogue')), c)).toBe('CERT_UNTRUSTED');
    expect(code(Buffer.from(signedBy('expired')), c)).toBe('CERT_EXPIRED');
    for (let i = 0; i < 5; i++) expect(code(withJunkCertificate(100_000), c)).toBe('SIGNATURE_INVALID');
    expect(code(Buffer.from(signedBy('agency').replace('V/v kết nối', 'V/v hủy kết nối')), c)).toBe('SIGNATURE_INVALID');
    expect(c.trust.signers.stats()).toEqual({ entries: 0, bytes: 0 });

    expect(code(Buffer.from(signedBy('agency')), c)).toBe('OK');
    const kept = c.trust.signers.stats();
    expect(kept.entries).toBe(1);
    // Its estimate holds the parsed signer, not the certificate text's size.
    expect(kept.bytes).toBeLessThan(8 * 1024);
    expect(code(Buffer.from(signedBy('agency')), c)).toBe('OK');
    expect(c.trust.signers.stats()).toEqual(kept);
  });

  it('a signer that verified once is still checked per document (binding, validity)', async () => {
    const c = { ...ctx, trust: await pki.trust({ registrations: [{ agency: '000.00.00.H14', fingerprint: 'f'.repeat(64) }] }) };
    expect(code(Buffer.from(signedBy('agency')), c)).toBe('CERT_NOT_BOUND');
    expect(c.trust.signers.stats().entries).toBe(0);
  });

  it('stays within its byte and entry bounds, evicting the least recently used', () => {
    const known = resolveSigner([pki.creds.agency.certificates[0]!.raw.toString('base64')], ctx.trust);
    if (!known.ok) throw new Error(known.error.message);
    const signer = (i: number): KnownSigner => ({ ...known.value, cacheKey: `key-${i}` });
    const one = new SignerCache();
    one.add('key-0', signer(0));
    const size = one.stats().bytes;

    const cache = new SignerCache(3 * size + size / 2, 100);
    for (let i = 0; i < 3; i++) cache.add(`key-${i}`, signer(i));
    expect(cache.get('key-0')).toBeDefined(); // now the most recently used
    for (let i = 3; i < 50; i++) {
      cache.add(`key-${i}`, signer(i));
      expect(cache.stats().bytes).toBeLessThanOrEqual(3 * size + size / 2);
    }
    expect(cache.stats().entries).toBe(3);
    expect(cache.get('key-49')).toBeDefined();
    expect(cache.get('key-1')).toBeUndefined();

    const few = new SignerCache(1024 * 1024, 2);
    for (let i = 0; i < 5; i++) few.add(`key-${i}`, signer(i));
    expect(few.stats().entries).toBe(2);

    const tiny = new SignerCache(size - 1);
    tiny.add('key-0', signer(0));
    expect(tiny.stats()).toEqual({ entries: 0, bytes: 0 });
  });
});
