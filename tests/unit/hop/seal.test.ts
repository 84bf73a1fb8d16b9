import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHubSigner, verifySeal, type HopRecord } from '../../../src/hop/seal.js';
import { createDevCa, issueEcCertificate } from '../../../src/pki/dev-pki.js';

describe('hub seal', () => {
  it('verifies only the exact digest, doc id and trace it sealed', async () => {
    const now = new Date();
    const ca = createDevCa('CA', new Date(now.getTime() - 60_000), new Date(now.getTime() + 86_400_000));
    const hub = await issueEcCertificate({ ca, commonName: 'hub', agency: '000.00.05.H53', notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) });
    const cert = new X509Certificate(hub.certPem);
    const signer = createHubSigner('000.00.05.H53', hub.keyPem, cert);
    if (!signer.ok) throw new Error(signer.error.message);
    const trace: HopRecord[] = [{ hub: '000.07.05.H53', at: now.toISOString(), verdict: 'accepted', checks: { schema: 'ok' } }];
    const input = { digest: 'ab'.repeat(32), docId: 'd'.repeat(32), trace };
    const seal = signer.value.seal(input);
    expect(verifySeal(input, seal, cert)).toBe(true);
    expect(verifySeal({ ...input, digest: 'ac'.repeat(32) }, seal, cert)).toBe(false);
    expect(verifySeal({ ...input, docId: 'e'.repeat(32) }, seal, cert)).toBe(false);
    expect(verifySeal({ ...input, trace: [{ ...trace[0]!, verdict: 'rejected' }] }, seal, cert)).toBe(false);
    const other = new X509Certificate(ca.certPem);
    expect(verifySeal(input, seal, other)).toBe(false);
    expect(createHubSigner('x', ca.keyPem, cert)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });
});
