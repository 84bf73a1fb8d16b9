// Certificate operations while documents flow through three hubs: an agency certificate is
// rotated with overlap, a hub seal key is rotated, another agency's certificate is revoked, a
// third agency's through a CRL.
// No validly signed package is refused, nothing is lost, and the revoked ones are refused from
// the moment of the change, at every hub.
import fs from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCrl, createDevCa, issueCertificate, issueEcCertificate, serialOf, type KeyAndCert } from '../../src/pki/dev-pki.js';
import { hashApiKey } from '../../src/http/auth.js';
import { signPackage } from '../../src/trust/sign.js';
import { emitEdoc } from '../../src/edxml/emit.js';
import { eventually, inboxItem, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

const WATCHER = 'watcher-token-for-tests';
let n: TestNetwork;
let commune: Agent, department: Agent, district: Agent, otherCommune: Agent;
let ca: KeyAndCert;
const DAY = 86_400_000;

useTestNetwork({
  configFor: (_id, c) => ({ ...c, admins: [...c.admins, { name: 'watcher', tokenHash: hashApiKey(WATCHER), roles: ['observer'] }] }),
}, (started, a) => {
  n = started;
  ({ commune, department, district, otherCommune } = a);
  ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
});

const admin = async (hub: number, method: string, path: string, body?: object | Buffer, token = n.net.adminToken, type?: string) => {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = type ?? 'application/json';
  const res = await fetch(n.hubs[hub]!.url + path, { method, headers, body: Buffer.isBuffer(body) ? body : body && JSON.stringify(body) });
  return { status: res.status, json: await res.json() as any };
};
const issue = (agency: string, name = 'UBND', from = -1, to = 365) =>
  issueCertificate({ ca, commonName: name, agency, notBefore: new Date(Date.now() + from * DAY), notAfter: new Date(Date.now() + to * DAY) });
const documentSignedWith = (from: Agent, keyPair: KeyAndCert, to: Agent, subject: string) => {
  const signed = signPackage(emitEdoc({
    from: { OrganId: from.agency.code }, to: [{ OrganId: to.agency.code }], codeNumber: String(Math.random()).slice(2, 8),
    codeNotation: 'UBND', promulgationDate: new Date(), subject, at: new Date(),
  }), { key: createPrivateKey(keyPair.keyPem), certificates: [new X509Certificate(keyPair.certPem)] });
  if (!signed.ok) throw new Error(signed.error.message);
  return signed.value;
};
const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();

describe('admin access', () => {
  it('needs a token, refuses agency keys and checks roles', async () => {
    expect((await fetch(`${n.hubs[0]!.url}/api/admin/certs`)).status).toBe(401);
    expect(await admin(0, 'GET', '/api/admin/certs', undefined, commune.agency.apiKey)).toMatchObject({ status: 403, json: { error: { code: 'FORBIDDEN' } } });
    expect((await admin(0, 'GET', '/api/admin/certs', undefined, WATCHER)).status).toBe(200);
    const r = await admin(0, 'POST', '/api/admin/certs', { agency: commune.agency.code, pem: issue(commune.agency.code).certPem }, WATCHER);
    expect(r).toMatchObject({ status: 403, json: { error: { code: 'FORBIDDEN' } } });
  });

  it('lists the registered certificates with their state, and those expiring soon', async () => {
    const all = await admin(1, 'GET', `/api/admin/certs?agency=${encodeURIComponent(commune.agency.code)}`);
    expect(all.json.items).toEqual([expect.objectContaining({ agency: commune.agency.code, state: 'active', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    expect((await admin(1, 'GET', '/api/admin/certs?expiring=60d')).json.items).toEqual([]);
    expect((await admin(1, 'GET', '/api/admin/certs?expiring=400d')).json.items.length).toBeGreaterThan(0);
  });
});

describe('registering a certificate refuses, with its code', () => {
  const cases: [string, () => string, number, string][] = [
    ['bad PEM', () => 'not a certificate', 400, 'SCHEMA_INVALID'],
    ['an unknown CA', () => createDevCa('Rogue', new Date(Date.now() - DAY), new Date(Date.now() + DAY)).certPem, 422, 'CERT_UNTRUSTED'],
    ['an expired certificate', () => issue(commune.agency.code, 'old', -400, -1).certPem, 422, 'CERT_EXPIRED'],
    ['a certificate for another agency', () => issue(department.agency.code).certPem, 422, 'CERT_NOT_BOUND'],
    ['a certificate not valid yet', () => issue(commune.agency.code, 'future', 5, 400).certPem, 422, 'CERT_NOT_YET_VALID'],
  ];
  it.each(cases)('%s', async (_name, pem, status, code) => {
    const r = await admin(2, 'POST', '/api/admin/certs', { agency: commune.agency.code, pem: pem() });
    expect(r).toMatchObject({ status, json: { error: { code } } });
  });

  it('an unknown agency', async () => {
    expect(await admin(2, 'POST', '/api/admin/certs', { agency: '000.00.00.G22', pem: issue('000.00.00.G22').certPem }))
      .toMatchObject({ status: 404, json: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('trusted CAs', () => {
  it('adds a second CA at run time: its certificates register and verify at every hub', async () => {
    expect((await admin(0, 'GET', '/api/admin/cas')).json.items).toHaveLength(1);
    expect(await admin(0, 'POST', '/api/admin/cas', { pem: issue(commune.agency.code).certPem })).toMatchObject({ status: 422, json: { error: { code: 'CERT_UNTRUSTED' } } });
    const second = createDevCa('Second CA', new Date(Date.now() - DAY), new Date(Date.now() + 3650 * DAY));
    expect(await admin(0, 'POST', '/api/admin/cas', { pem: second.certPem })).toMatchObject({ status: 201 });
    await eventually(async () => ((await admin(2, 'GET', '/api/admin/cas')).json.items.length === 2 ? true : undefined), 'the CA at every hub');
    const fromSecond = issueCertificate({ ca: second, commonName: 'UBND', agency: district.agency.code, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 365 * DAY) });
    expect((await admin(1, 'POST', '/api/admin/certs', { agency: district.agency.code, pem: fromSecond.certPem })).status).toBe(201);
    await eventually(async () => ((await admin(2, 'GET', `/api/admin/certs?agency=${district.agency.code}`)).json.items.length === 2 ? true : undefined), 'the registration at every hub');
    const r = await district.submit(documentSignedWith(district, fromSecond, commune, 'Ký bằng CA thứ hai'));
    expect(r.status).toBe(202);
    await inboxItem(commune, r.json.docId);

    // Replacing the trust store: the second CA removed, its certificates are untrusted at once.
    const secondFp = fingerprintOf(second.certPem);
    const firstFp = fingerprintOf(ca.certPem);
    expect(await admin(0, 'POST', `/api/admin/cas/${secondFp}/remove`)).toMatchObject({ status: 200, json: { removed: true } });
    await eventually(async () => ((await admin(1, 'GET', '/api/admin/cas')).json.items.length === 1 ? true : undefined), 'the removal at every hub');
    expect(await district.submit(documentSignedWith(district, fromSecond, commune, 'Sau khi bỏ CA'))).toMatchObject({ status: 422, json: { error: { code: 'CERT_UNTRUSTED' } } });
    expect(await admin(0, 'POST', `/api/admin/cas/${firstFp}/remove`)).toMatchObject({ status: 400, json: { error: { message: expect.stringContaining('only trusted CA') } } });
  });
});

describe('rotation and revocation under load', () => {
  it('refuses no valid package, loses none, and refuses revoked signers from the moment of the change', async () => {
    const original = { keyPem: fs.readFileSync(commune.agency.keyFile, 'utf8'), certPem: fs.readFileSync(commune.agency.certFile, 'utf8') };
    const rotated = issue(commune.agency.code, 'UBND xã Nghi Phú (2027)');
    let signing = original;
    let running = true;
    const accepted: string[] = [];
    const refusedValid: string[] = [];
    const load = (async () => {
      for (let i = 0; running; i++) {
        const r = await commune.submit(documentSignedWith(commune, signing, department, `Tải ${i}`));
        if (r.status === 202) accepted.push(r.json.docId);
        else refusedValid.push(`${r.status} ${r.json?.error?.code}`);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();

    // 1. Register the new certificate beside the old one, with the old retiring in 2 s.
    const retireAt = new Date(Date.now() + 2000).toISOString();
    const added = await admin(0, 'POST', '/api/admin/certs', { agency: commune.agency.code, pem: rotated.certPem, retireOthersAt: retireAt });
    expect(added).toMatchObject({ status: 201, json: { fingerprint: fingerprintOf(rotated.certPem) } });
    // Every hub knows it within seconds (the province, where the call went, and the commune).
    await eventually(async () => ((await admin(2, 'GET', `/api/admin/certs?agency=${commune.agency.code}`)).json.items.length === 2 ? true : undefined), 'the broadcast');
    signing = rotated; // the sender switches during the overlap
    await new Promise((res) => setTimeout(res, 2500));
    const old = await commune.submit(documentSignedWith(commune, original, department, 'Chữ ký cũ'));
    expect(old).toMatchObject({ status: 422, json: { error: { code: 'CERT_NOT_BOUND' } } });

    // 2. Rotate the commune hub's seal key while the load goes on.
    const seal = await issueEcCertificate({ ca, commonName: 'LGSP hub (new seal)', agency: n.hubs[2]!.id, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 365 * DAY) });
    const sealed = await admin(2, 'POST', '/api/admin/hub-key/rotate', { keyPem: seal.keyPem, certPem: seal.certPem });
    expect(sealed).toMatchObject({ status: 200, json: { fingerprint: fingerprintOf(seal.certPem), trustedBy: [n.hubs[1]!.id] } });

    // 3. Revoke the district agency's certificate through the trust store.
    const districtKeys = { keyPem: fs.readFileSync(district.agency.keyFile, 'utf8'), certPem: fs.readFileSync(district.agency.certFile, 'utf8') };
    expect((await district.submit(documentSignedWith(district, districtKeys, department, 'Trước khi thu hồi'))).status).toBe(202);
    expect((await admin(0, 'POST', `/api/admin/certs/${fingerprintOf(districtKeys.certPem)}/revoke`, { reason: 'key compromise' })).status).toBe(200);
    await eventually(async () => {
      const r = await district.submit(documentSignedWith(district, districtKeys, department, 'Sau khi thu hồi'));
      return r.status === 422 && r.json.error.code === 'CERT_REVOKED' ? true : undefined;
    }, 'CERT_REVOKED at the district hub', 5000);

    // 4. Revoke another agency's certificate with a CRL imported at one hub.
    const otherKeys = { keyPem: fs.readFileSync(otherCommune.agency.keyFile, 'utf8'), certPem: fs.readFileSync(otherCommune.agency.certFile, 'utf8') };
    const crl = await createCrl(ca, [{ serialNumber: serialOf(otherKeys.certPem), revokedAt: new Date() }], new Date(), new Date(Date.now() + DAY));
    const imported = await admin(0, 'POST', '/api/admin/crls', Buffer.from(crl), n.net.adminToken, 'application/x-pem-file');
    expect(imported).toMatchObject({ status: 200, json: { revoked: 1 } });
    await eventually(async () => {
      const r = await otherCommune.submit(documentSignedWith(otherCommune, otherKeys, department, 'Sau CRL'));
      return r.status === 422 && r.json.error.code === 'CERT_REVOKED' ? true : undefined;
    }, 'CERT_REVOKED after the CRL', 5000);

    running = false;
    await load;
    expect(refusedValid).toEqual([]);
    expect(accepted.length).toBeGreaterThan(20);
    await eventually(async () => {
      const inbox = (await department.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[];
      return accepted.every((id) => inbox.some((i) => i.docId === id)) ? true : undefined;
    }, 'every accepted package delivered', 30_000);

    const audit = await admin(2, 'GET', '/api/admin/audit');
    expect(audit.json.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['cert.add', 'cert.revoke', 'crl.import']));
    expect(audit.json.items.find((e: { action: string }) => e.action === 'cert.add').actor).toBe('demo-admin');
  });
});
