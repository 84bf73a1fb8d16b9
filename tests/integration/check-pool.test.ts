// The hop-check pool on real worker threads (the built dist/src/pipeline/check-worker.js): the same
// verdicts as the check on the event loop, trust changes reaching every worker, large packages
// kept off the event loop, and a worker that dies failing only its own checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { checkHop, type HopContext } from '../../src/hop/check.js';
import { createHopCheckPool, type HopCheckPool } from '../../src/pipeline/check-pool.js';
import { signPackage } from '../../src/trust/sign.js';
import { buildTrustSnapshot } from '../../src/trust/store.js';
import { fingerprintOf } from '../../src/trust/x509.js';
import { createTestPki, type Role, type TestPki } from '../helpers/pki.js';
import { documentOfSize, sample, statusPackage } from '../helpers/packages.js';
import { tempDir } from '../helpers/tools.js';

const log = pino({ level: 'silent' });
let pki: TestPki;
let ctx: HopContext;
let pool: HopCheckPool;
const tmp = tempDir();

function signed(role: Role, bytes = documentOfSize(12 * 1024)): Buffer {
  const s = signPackage(bytes, pki.creds[role], 'exclusive');
  if (!s.ok) throw new Error(s.error.message);
  return s.value;
}

beforeAll(async () => {
  pki = await createTestPki();
  ctx = { trust: await pki.trust(), now: pki.now, allowLegacy: false, requireSignature: true };
  pool = createHopCheckPool(2, log);
});
afterAll(async () => { await pool.close(); pki.cleanup(); tmp.cleanup(); });

describe('the hop-check pool', () => {
  it('gives the verdicts the check gives on the event loop', async () => {
    const packages = [
      signed('agency'), signed('revoked'), signed('expired'), signed('rogue'), statusPackage(),
      sample('edoc_new.payload-replaced.edxml'), Buffer.from(signed('agency').toString('utf8').replace('V/v kết nối', 'V/v hủy kết nối')),
      Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'),
    ];
    const verdicts = await Promise.all(packages.map((p) => pool.check(p, ctx)));
    expect(verdicts.map((v) => (v.ok ? 'OK' : v.error.code)))
      .toEqual(['OK', 'CERT_REVOKED', 'CERT_EXPIRED', 'CERT_UNTRUSTED', 'SIGNATURE_MISSING', 'SIGNATURE_MISSING', 'SIGNATURE_INVALID', 'POLICY_VIOLATION']);
    expect(verdicts).toEqual(packages.map((p) => checkHop(p, ctx)));
  });

  it('uses the trust snapshot each check is given, on every worker', async () => {
    const bytes = signed('agency');
    const fingerprint = fingerprintOf(pki.creds.agency.certificates[0]!);
    const revoked = buildTrustSnapshot({ ...ctx.trust.material, revokedFingerprints: [fingerprint] });
    const codes = async (trust: typeof ctx.trust) =>
      (await Promise.all([1, 2, 3, 4].map(() => pool.check(bytes, { ...ctx, trust })))).map((v) => (v.ok ? 'OK' : v.error.code));
    expect(await codes(ctx.trust)).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect(await codes(revoked)).toEqual(['CERT_REVOKED', 'CERT_REVOKED', 'CERT_REVOKED', 'CERT_REVOKED']);
    expect(await codes(ctx.trust)).toEqual(['OK', 'OK', 'OK', 'OK']);
  });

  it('binds senders outside the network as the event loop does (the rule travels with the trust snapshot)', async () => {
    const bytes = signed('agency'); // from 000.00.00.H41, its certificate's OU naming it, registered nowhere
    const network = (hubs: string[]) => buildTrustSnapshot({
      ...ctx.trust.material, registrations: [], outsideSenders: { accept: 'with-code', codeAttribute: 'OU', network: { hubs, agencies: [] } },
    });
    for (const [trust, expected] of [[network(['000.00.00.H42']), 'ca-subject-code'], [network(['000.00.00.H41']), 'CERT_NOT_BOUND']] as const) {
      const v = await pool.check(bytes, { ...ctx, trust });
      expect(v.ok ? v.signer?.binding : v.error.code).toBe(expected);
      expect(v).toEqual(checkHop(bytes, { ...ctx, trust }));
    }
  });

  it('keeps a large package\'s check off the event loop', async () => {
    const big = signed('agency', documentOfSize(10 * 1024 * 1024));
    const order: string[] = [];
    const verdict = pool.check(big, ctx).then((v) => { order.push('verdict'); return v; });
    // On the event loop the check would finish before this turn ends; on a worker it takes ~30 ms.
    await new Promise((resolve) => setImmediate(resolve));
    order.push('event loop turn');
    expect((await verdict).ok).toBe(true);
    expect(order).toEqual(['event loop turn', 'verdict']);
  });

  it('fails only the checks a dead worker held, and replaces it', async () => {
    // A stand-in worker that answers every check, and exits on a package that starts with "!".
    const file = tmp.file('dying-worker.mjs', `
      import { parentPort } from 'node:worker_threads';
      parentPort.on('message', (m) => {
        if (m.type !== 'check') return;
        if (m.bytes[0] === 0x21) process.exit(3);
        parentPort.postMessage({ id: m.id, verdict: { ok: false, stage: 'policy', error: { code: 'POLICY_VIOLATION', message: 'stand-in' } } });
      });`);
    const dying = createHopCheckPool(1, log, file);
    try {
      await expect(dying.check(Buffer.from('!'), ctx)).rejects.toThrow(/exited with code 3/);
      const after = await dying.check(Buffer.from('<x/>'), ctx);
      expect(after.ok ? 'OK' : after.error.message).toBe('stand-in');
    } finally {
      await dying.close();
    }
  });
});
