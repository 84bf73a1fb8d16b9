import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHubSigner, verifyChange, verifySeal, type SealInput } from '../../../src/hop/seal.js';
import type { HopRecord } from '../../../src/hop/trace.js';
import { createDevCa, issueEcCertificate } from '../../../src/pki/dev-pki.js';

async function hubSigner() {
  const now = new Date();
  const ca = createDevCa('CA', new Date(now.getTime() - 60_000), new Date(now.getTime() + 86_400_000));
  const hub = await issueEcCertificate({ ca, commonName: 'hub', agency: '000.00.05.H53', notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) });
  const cert = new X509Certificate(hub.certPem);
  const signer = createHubSigner('000.00.05.H53', hub.keyPem, cert);
  if (!signer.ok) throw new Error(signer.error.message);
  return { ca, cert, signer: signer.value };
}

describe('hub seal', () => {
  it('verifies only the exact body digest and routing headers it sealed', async () => {
    const { ca, cert, signer } = await hubSigner();
    const trace: HopRecord[] = [{ hub: '000.07.05.H53', at: new Date().toISOString(), verdict: 'accepted', checks: { schema: 'ok' } }];
    const input: SealInput = {
      to: '000.00.05.H53', sealHub: '000.07.05.H53', digest: 'ab'.repeat(32), kind: 'edoc', docId: 'd'.repeat(32),
      originHub: '000.07.05.H53', sender: '000.01.07.G01', recipients: ['000.02.05.G02'], trace,
      statusCode: undefined, documentId: '000.01.07.G01,2026/12/06,1/QĐ', subject: 'Trích yếu',
    };
    const seal = signer.seal(input);
    expect(verifySeal(input, seal, cert)).toBe(true);
    const changed: Partial<SealInput>[] = [
      { to: '000.00.06.H53' }, { sealHub: '000.00.05.H53' }, { digest: 'ac'.repeat(32) }, { kind: 'status' }, { docId: 'e'.repeat(32) },
      { originHub: '000.00.05.H53' }, { sender: '000.01.07.G02' }, { recipients: ['000.02.05.G03'] }, { recipients: ['000.02.05.G02', '000.02.05.G03'] },
      { trace: [{ ...trace[0]!, verdict: 'rejected' }] }, { trace: [] }, { statusCode: '02' }, { documentId: 'other' }, { documentId: undefined },
      { subject: 'Trích yếu khác' },
    ];
    for (const change of changed) expect(verifySeal({ ...input, ...change }, seal, cert), JSON.stringify(change)).toBe(false);
    expect(verifySeal(input, seal, new X509Certificate(ca.certPem))).toBe(false);
    expect(createHubSigner('x', ca.keyPem, cert)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });

  it('signs trust changes so that neither a changed body nor a seal passes for one', async () => {
    const { cert, signer } = await hubSigner();
    const body = Buffer.from('{"kind":"ca.remove","fingerprint":"ab"}');
    const signature = signer.signChange(body);
    expect(verifyChange(body, signature, cert)).toBe(true);
    expect(verifyChange(Buffer.from('{"kind":"ca.remove","fingerprint":"ac"}'), signature, cert)).toBe(false);
    expect(verifyChange(body, Buffer.from('forged').toString('base64'), cert)).toBe(false);
  });
});
