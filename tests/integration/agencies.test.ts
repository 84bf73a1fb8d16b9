// Registering an agency at run time: every hub routes to it and its hub signs it in, at once.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDevCa, issueCertificate } from '../../src/pki/dev-pki.js';
import { hashApiKey } from '../../src/http/auth.js';
import { makeAgent, signedDocument } from '../helpers/agent.js';
import { eventually, networkCa, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

const WATCHER = 'watcher-token-agencies';
let n: TestNetwork;
let commune: Agent;

useTestNetwork({ configFor: (_id, c) => ({ ...c, admins: [...c.admins, { name: 'watcher', tokenHash: hashApiKey(WATCHER), roles: ['observer'] }] }) }, (started, a) => {
  n = started;
  ({ commune } = a);
});

const admin = async (hub: number, method: string, p: string, body?: object, token = n.net.adminToken) => {
  const res = await fetch(n.hubs[hub]!.url + p, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body && JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() as any };
};

describe('agencies', () => {
  it('lists the registry and registers an agency live in every hub', async () => {
    expect((await admin(0, 'GET', '/api/admin/agencies', undefined, WATCHER)).json.items).toHaveLength(n.net.agencies.length);
    const province = n.hubs[0]!.id.slice(-3);
    const code = `000.09.05.${province}`;
    expect((await admin(0, 'POST', '/api/admin/agencies', { code, name: 'x' }, WATCHER)).status).toBe(403);
    expect(await admin(0, 'POST', '/api/admin/agencies', { code: '28.22.H17', name: 'x' })).toMatchObject({ status: 400, json: { error: { code: 'SCHEMA_INVALID' } } });
    expect(await admin(0, 'POST', '/api/admin/agencies', { code: commune.agency.code, name: 'x' })).toMatchObject({ status: 400, json: { error: { message: expect.stringContaining('already') } } });
    expect(await admin(0, 'POST', '/api/admin/agencies', { code: '000.00.00.G22', name: 'VPCP' })).toMatchObject({ status: 400, json: { error: { message: expect.stringContaining('no hub') } } });

    // A commune without a hub of its own: the district hub serves it.
    const created = await admin(0, 'POST', '/api/admin/agencies', { code, name: 'UBND xã Nghi Ân' });
    expect(created).toMatchObject({ status: 201, json: { code, hubId: n.hubs[1]!.id, apiKey: expect.any(String) } });
    const ca = networkCa(n.net);
    const cert = issueCertificate({ ca, commonName: 'UBND xã Nghi Ân', agency: code, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    const dir = n.net.dir;
    fs.writeFileSync(`${dir}/new.key.pem`, cert.keyPem);
    fs.writeFileSync(`${dir}/new.cert.pem`, cert.certPem);
    const agent = makeAgent({ code, name: 'UBND xã Nghi Ân', hubId: n.hubs[1]!.id, apiKey: created.json.apiKey, keyFile: `${dir}/new.key.pem`, certFile: `${dir}/new.cert.pem` }, n.hubs[1]!.url);
    await eventually(async () => ((await agent.request('GET', '/api/v1/edocs/received')).status === 200 ? true : undefined), 'the new key at its hub');

    const toNew = await commune.submit(signedDocument(commune, [agent], 'Gửi cơ quan mới'));
    expect(toNew.status, JSON.stringify(toNew.json)).toBe(202);
    await eventually(async () => ((await agent.request('GET', '/api/v1/edocs/received')).json.items.some((i: { docId: string }) => i.docId === toNew.json.docId) ? true : undefined), 'delivery to the new agency');

    expect((await admin(1, 'POST', '/api/admin/certs', { agency: code, pem: cert.certPem })).status).toBe(201);
    await eventually(async () => ((await admin(2, 'GET', `/api/admin/certs?agency=${code}`)).json.items.length === 1 ? true : undefined), 'the certificate at every hub');
    const fromNew = await agent.submit(signedDocument(agent, [commune], 'Trả lời'));
    expect(fromNew.status, JSON.stringify(fromNew.json)).toBe(202);
    expect((await admin(2, 'GET', '/api/admin/audit')).json.items.map((e: { action: string }) => e.action)).toContain('agency.add');
  });

  it('keeps trust changes inside their network when two networks share the broker', async () => {
    const other = await startTestNetwork();
    try {
      const otherCas = async () => (await (await fetch(`${other.hubs[0]!.url}/api/admin/cas`, { headers: { authorization: `Bearer ${other.net.adminToken}` } })).json() as { items: unknown[] }).items.length;
      expect(await otherCas()).toBe(1);
      const foreign = createDevCa('Another network CA', new Date(Date.now() - 86_400_000), new Date(Date.now() + 86_400_000));
      expect((await admin(0, 'POST', '/api/admin/cas', { pem: foreign.certPem })).status).toBe(201);
      await eventually(async () => ((await admin(2, 'GET', '/api/admin/cas')).json.items.length === 2 ? true : undefined), 'the CA across this network');
      expect(await otherCas()).toBe(1);
    } finally {
      await other.close();
    }
  });
});
