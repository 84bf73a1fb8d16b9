// lgsp cert / lgsp crl against a running network's admin API.
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createCrl, createDevCa, issueCertificate, serialOf } from '../../src/pki/dev-pki.js';
import type { Agent, TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { lgspAsync, tempDir } from '../helpers/tools.js';

let n: TestNetwork;
let commune: Agent, school: Agent;
let env: Record<string, string>;
const tmp = tempDir();
const DAY = 86_400_000;

afterAll(() => tmp.cleanup());
useTestNetwork({}, (started, a) => {
  n = started;
  ({ commune, school } = a);
  env = { LGSP_URL: n.hubs[1]!.url, LGSP_ADMIN_TOKEN: n.net.adminToken };
});

const cli = async (...args: string[]) => {
  const r = await lgspAsync(env, ...args, '--json');
  return { status: r.status, json: JSON.parse(r.stdout || '{}') as any, stderr: r.stderr };
};

describe('lgsp cert and lgsp crl', () => {
  it('lists, rotates, retires and revokes through the admin API', async () => {
    const listed = await cli('cert', 'list', '--agency', commune.agency.code);
    expect(listed).toMatchObject({ status: 0, json: { ok: true, items: [{ agency: commune.agency.code, state: 'active' }] } });
    const old = listed.json.items[0].fingerprint as string;

    const ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
    const next = issueCertificate({ ca, commonName: 'new', agency: commune.agency.code, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 365 * DAY) });
    const file = tmp.file('next.pem', next.certPem);
    const rotated = await cli('cert', 'rotate', '--agency', commune.agency.code, '--cert', file, '--overlap', '3d');
    expect(rotated).toMatchObject({ status: 0, json: { ok: true, fingerprint: new X509Certificate(next.certPem).fingerprint256.replaceAll(':', '').toLowerCase() } });
    const states = (await cli('cert', 'list', '--agency', commune.agency.code)).json.items.map((c: { state: string }) => c.state).sort();
    expect(states).toEqual(['active', 'retiring']);

    // A retirement set for later is kept as given (it was once overwritten by the change's own time).
    const later = new Date(Date.now() + 30 * DAY).toISOString();
    expect(await cli('cert', 'retire', rotated.json.fingerprint, '--at', later)).toMatchObject({ status: 0, json: { ok: true, retired: true } });
    const laterRetired = (await cli('cert', 'list', '--agency', commune.agency.code)).json.items.find((c: { fingerprint: string }) => c.fingerprint === rotated.json.fingerprint);
    expect({ state: laterRetired.state, retireAt: Date.parse(laterRetired.retireAt) }).toEqual({ state: 'retiring', retireAt: Date.parse(later) });

    expect(await cli('cert', 'retire', old)).toMatchObject({ status: 0, json: { ok: true, retired: true } });
    expect((await cli('cert', 'list', '--agency', commune.agency.code)).json.items.find((c: { fingerprint: string }) => c.fingerprint === old).state).toBe('retired');
    expect(await cli('cert', 'revoke', old, '--reason', 'superseded')).toMatchObject({ status: 0, json: { revoked: true } });
    expect(await cli('cert', 'revoke', 'ab'.repeat(32))).toMatchObject({ status: 1, json: { ok: false, code: 'NOT_FOUND' } });
  });

  it('imports a CRL from a file and refuses one from an unknown CA', async () => {
    const ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
    const crl = await createCrl(ca, [{ serialNumber: serialOf(fs.readFileSync(school.agency.certFile, 'utf8')), revokedAt: new Date() }], new Date(), new Date(Date.now() + DAY));
    expect(await cli('crl', 'import', tmp.file('crl.pem', crl))).toMatchObject({ status: 0, json: { ok: true, revoked: 1 } });
    const r = await school.submit(n.document(school, [commune], 'Sau CRL'));
    expect(r).toMatchObject({ status: 422, json: { error: { code: 'CERT_REVOKED' } } });
    const rogue = createDevCa('Rogue', new Date(Date.now() - DAY), new Date(Date.now() + DAY));
    const rogueCrl = await createCrl(rogue, [], new Date(), new Date(Date.now() + DAY));
    expect(await cli('crl', 'import', tmp.file('rogue-crl.pem', rogueCrl))).toMatchObject({ status: 1, json: { ok: false, code: 'CERT_UNTRUSTED' } });
  });

  it('reports usage errors with exit 2 and refusals with exit 1', async () => {
    const noToken = await lgspAsync({ LGSP_URL: env.LGSP_URL!, LGSP_ADMIN_TOKEN: '' }, 'cert', 'list', '--token', '', '--json');
    expect(noToken.status).toBe(2);
    const unreachable = await lgspAsync({ ...env, LGSP_URL: 'http://127.0.0.1:1' }, 'cert', 'list', '--json');
    expect(JSON.parse(unreachable.stdout)).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    expect(unreachable.status).toBe(2);
    const bad = await cli('cert', 'add', '--agency', commune.agency.code, '--cert', tmp.file('bad.pem', 'nope'));
    expect(bad).toMatchObject({ status: 1, json: { code: 'SCHEMA_INVALID' } });
  });
});
