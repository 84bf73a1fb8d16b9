// A hub rotates its seal key while documents flow: the new certificate reaches its neighbours
// first, the hub switches once they trust it, nothing is refused or lost, and a restart keeps
// the new key.
import fs from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { issueEcCertificate, type KeyAndCert } from '../../src/pki/dev-pki.js';
import { parseConfig } from '../../src/config.js';
import { startHub } from '../../src/hub.js';
import { eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { lgspAsync, tempDir } from '../helpers/tools.js';

let n: TestNetwork;
let commune: Agent, department: Agent;
let ca: KeyAndCert;
const tmp = tempDir();
const DAY = 86_400_000;

afterAll(() => tmp.cleanup());
useTestNetwork({}, (started, a) => {
  n = started;
  ({ commune, department } = a);
  ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
});

const admin = async (hub: number, method: string, path: string, body?: object) => {
  const res = await fetch(n.hubs[hub]!.url + path, {
    method, headers: { authorization: `Bearer ${n.net.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body && JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() as any };
};
const newSeal = (hubId: string) => issueEcCertificate({ ca, commonName: `LGSP hub ${hubId} (2027)`, agency: hubId, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 365 * DAY) });

describe('hub seal key rotation', () => {
  it('refuses a key that does not match, and a certificate for another hub', async () => {
    const communeHub = n.hubs[2]!.id;
    const a = await newSeal(communeHub);
    const b = await newSeal(communeHub);
    expect(await admin(2, 'POST', '/api/admin/hub-key/rotate', { keyPem: a.keyPem, certPem: b.certPem }))
      .toMatchObject({ status: 400, json: { error: { code: 'SCHEMA_INVALID', message: expect.stringContaining('does not match') } } });
    const other = await newSeal(n.hubs[1]!.id);
    expect(await admin(2, 'POST', '/api/admin/hub-key/rotate', { keyPem: other.keyPem, certPem: other.certPem }))
      .toMatchObject({ status: 422, json: { error: { code: 'CERT_NOT_BOUND' } } });
  });

  it('switches only once the neighbours trust the new certificate, refusing and losing nothing', async () => {
    const communeHub = n.hubs[2]!.id;
    const before = (await admin(2, 'GET', '/api/admin/hub-certs')).json.activeSeal as string;
    let running = true;
    const accepted: string[] = [];
    const refused: string[] = [];
    const load = (async () => {
      for (let i = 0; running; i++) {
        const r = await commune.submit(n.document(commune, [department], `Khi đổi khóa ${i}`));
        if (r.status === 202) accepted.push(r.json.docId);
        else refused.push(`${r.status} ${r.json?.error?.code}`);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));

    const seal = await newSeal(communeHub);
    const rotated = await lgspAsync({ LGSP_URL: n.hubs[2]!.url, LGSP_ADMIN_TOKEN: n.net.adminToken }, 'hub-key', 'rotate',
      '--key', tmp.file('seal.key.pem', seal.keyPem), '--cert', tmp.file('seal.cert.pem', seal.certPem), '--json');
    expect(rotated.status, rotated.stdout + rotated.stderr).toBe(0);
    const { fingerprint, trustedBy } = JSON.parse(rotated.stdout) as { fingerprint: string; trustedBy: string[] };
    expect(trustedBy).toEqual([n.hubs[1]!.id]);
    expect((await admin(2, 'GET', '/api/admin/hub-certs')).json.activeSeal).toBe(fingerprint);
    expect(fingerprint).not.toBe(before);
    const atDistrict = (await admin(1, 'GET', '/api/admin/hub-certs')).json.items.filter((c: { hubId: string }) => c.hubId === communeHub);
    expect(atDistrict.map((c: { fingerprint: string }) => c.fingerprint)).toEqual(expect.arrayContaining([before, fingerprint]));

    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await load;
    expect(refused).toEqual([]);
    await eventually(async () => {
      const inbox = (await department.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[];
      return accepted.every((id) => inbox.some((i) => i.docId === id)) ? true : undefined;
    }, 'every accepted package delivered', 30_000);

    // A restart keeps sealing with the rotated key.
    await n.hubs[2]!.close();
    const config = parseConfig(n.net.config, n.net.dir, {});
    if (!config.ok) throw new Error(config.error.message);
    const again = await startHub(config.value, config.value.hubs[2]!, { log: pino({ level: 'silent' }), clock: () => new Date() });
    if (!again.ok) throw new Error(again.error.message);
    n.hubs[2] = again.value;
    expect((await admin(2, 'GET', '/api/admin/hub-certs')).json.activeSeal).toBe(fingerprint);
    const after = await n.agent('000.07.05.').submit(n.document(commune, [department], 'Sau khi khởi động lại'));
    expect(after.status).toBe(202);
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received?limit=1000')).json.items
      .some((i: { docId: string }) => i.docId === after.json.docId) ? true : undefined), 'delivery after the restart');
  });
});
