// A trust change read from the broker: what no hub can read is a coded error (the hub
// dead-letters it), never a throw that would return it to its queue forever.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { applyTrustChange, CHANGE_SIGNATURE, CHANGE_SIGNER, readTrustChange, verifiedTrustChange, type TrustChange } from '../../../src/admin/trust-changes.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import type { CertRecord } from '../../../src/ledger/store.js';
import { createHubSigner } from '../../../src/hop/seal.js';
import { createDevCa, issueEcCertificate } from '../../../src/pki/dev-pki.js';

const change = { kind: 'ca.remove', fingerprint: 'ab'.repeat(32), actor: 'admin', at: '2026-01-02T03:04:05.000Z', origin: '000.00.00.H41' };

describe('readTrustChange', () => {
  it('reads a change', () => {
    expect(readTrustChange(Buffer.from(JSON.stringify(change)))).toEqual({ ok: true, value: change });
  });

  it('refuses a body that is not JSON, and one that is not a change, with POLICY_VIOLATION', () => {
    for (const body of ['{"kind": "ca.add", ', JSON.stringify({ ...change, kind: 'ca.steal' }), JSON.stringify({ ...change, at: 'yesterday' })]) {
      const read = readTrustChange(Buffer.from(body));
      expect(read.ok, body).toBe(false);
      if (!read.ok) expect(read.error).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringMatching(/^unreadable trust change: /) });
    }
  });
});

describe('verifiedTrustChange', () => {
  it('acts only on a change signed by its origin hub with a seal key this hub trusts', async () => {
    const now = new Date();
    const ca = createDevCa('CA', new Date(now.getTime() - 60_000), new Date(now.getTime() + 86_400_000));
    const hubs = ['000.00.00.H41', '000.00.05.H41'] as const;
    const issued = await Promise.all(hubs.map((id) => issueEcCertificate({ ca, commonName: id, agency: id, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) })));
    const certs = new Map(hubs.map((id, i) => [id as string, new X509Certificate(issued[i]!.certPem)]));
    const signers = hubs.map((id, i) => { const s = createHubSigner(id, issued[i]!.keyPem, certs.get(id)!); if (!s.ok) throw new Error(s.error.message); return s.value; });
    const trusted = (id: string) => (certs.has(id) ? [certs.get(id)!] : []);
    const signed = (change: object, by = 0, signedBy = by) => {
      const body = Buffer.from(JSON.stringify(change));
      return { body, headers: { [CHANGE_SIGNATURE]: signers[signedBy]!.signChange(body), [CHANGE_SIGNER]: hubs[by] as string } };
    };
    const meta = { actor: 'admin', at: now.toISOString() };
    const removal = { kind: 'ca.remove', fingerprint: 'ab'.repeat(32), ...meta, origin: hubs[0] };
    const ok = signed(removal);
    expect(verifiedTrustChange(ok.body, ok.headers, trusted)).toEqual({ ok: true, value: removal });
    const code = (r: ReturnType<typeof verifiedTrustChange>) => (r.ok ? 'ok' : r.error.code);
    expect(code(verifiedTrustChange(Buffer.from('{"kind":'), ok.headers, trusted))).toBe('POLICY_VIOLATION');
    expect(code(verifiedTrustChange(ok.body, {}, trusted))).toBe('SIGNATURE_INVALID');
    expect(code(verifiedTrustChange(ok.body, { ...ok.headers, [CHANGE_SIGNER]: hubs[1] }, trusted))).toBe('SIGNATURE_INVALID');
    expect(code(verifiedTrustChange(ok.body, ok.headers, () => []))).toBe('SIGNATURE_INVALID');
    const other = signed({ ...removal, fingerprint: 'cd'.repeat(32) });
    expect(code(verifiedTrustChange(ok.body, other.headers, trusted))).toBe('SIGNATURE_INVALID');
    // Signed by a trusted hub that is not its origin, or announcing another hub's seal certificate.
    const notOrigin = signed(removal, 1);
    expect(verifiedTrustChange(notOrigin.body, notOrigin.headers, trusted)).toMatchObject({ ok: false, error: { message: expect.stringContaining('comes from hub') } });
    const forOther = signed({ kind: 'hub.cert.add', hubId: hubs[0], fingerprint: 'ef'.repeat(32), pem: 'x', ...meta, origin: hubs[1] }, 1);
    expect(verifiedTrustChange(forOther.body, forOther.headers, trusted)).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID', message: expect.stringContaining('own seal key') } });
    // A hub pauses only its own lanes: its replicas act on its notice, on no other hub's.
    const lane = { kind: 'hub.lane', hubId: hubs[1], queue: `lgsp.${hubs[1]}.ingress`, paused: true, ...meta, origin: hubs[1] };
    const own = signed(lane, 1);
    expect(verifiedTrustChange(own.body, own.headers, trusted)).toEqual({ ok: true, value: lane });
    const forged = signed({ ...lane, origin: hubs[0] }, 0);
    expect(verifiedTrustChange(forged.body, forged.headers, trusted)).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID', message: expect.stringContaining('own seal key and lanes') } });
  });
});

describe('applyTrustChange', () => {
  it('retires, on a cert.add applied again, only the certificates registered before the change was made', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-apply-'));
    const ledger = openSqliteLedger(dir, () => new Date());
    const at = (minutes: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + minutes * 60_000).toISOString();
    const record = (n: number, addedAt: string): CertRecord => ({
      fingerprint: String(n).repeat(64), agency: '000.07.05.H41', pem: `PEM ${n}`, subject: 'CN=x', notBefore: at(0), notAfter: at(60 * 24 * 365),
      state: 'active', addedAt, addedBy: 'admin',
    });
    try {
      await ledger.addCertificate(record(1, at(0)));
      const rotation: TrustChange = { kind: 'cert.add', record: record(2, at(10)), retireOthersAt: at(100), actor: 'admin', at: at(10), origin: '000.07.05.H41' };
      await applyTrustChange(ledger, rotation);
      await ledger.addCertificate(record(3, at(20))); // registered after the rotation
      await applyTrustChange(ledger, rotation); // a redelivery, or a replay of the newest change to certificate 2
      const retireAt = Object.fromEntries((await ledger.certificates()).map((c) => [c.fingerprint[0], c.retireAt ?? null]));
      expect(retireAt).toEqual({ 1: at(100), 2: null, 3: null });
    } finally {
      await ledger.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
