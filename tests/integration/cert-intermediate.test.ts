// A signer under an intermediate CA, end to end: registration (POST /api/admin/certs) builds the
// same path through intermediates as the hop check, so the certificate the hub registers is one
// whose packages every hub accepts. The intermediate travels with the certificate: after it in
// the registration's pem, and in the package's KeyInfo at every hop.
import fs from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDevCa, issueCertificate, type KeyAndCert } from '../../src/pki/dev-pki.js';
import { signPackage } from '../../src/trust/sign.js';
import { emitEdoc } from '../../src/edxml/emit.js';
import { eventually, inboxItem, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

const DAY = 86_400_000;
let n: TestNetwork;
let district: Agent, commune: Agent;
let intermediate: KeyAndCert, signer: KeyAndCert;

useTestNetwork({}, (started, a) => {
  n = started;
  ({ district, commune } = a);
  const ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
  const from = new Date(Date.now() - 60_000);
  intermediate = createDevCa('LGSP Intermediate CA', from, new Date(Date.now() + 3650 * DAY), ca);
  signer = issueCertificate({ ca: intermediate, commonName: 'UBND (intermediate)', agency: district.agency.code, notBefore: from, notAfter: new Date(Date.now() + 365 * DAY) });
});

const admin = async (hub: number, method: string, path: string, body?: object) => {
  const res = await fetch(n.hubs[hub]!.url + path, {
    method, headers: { authorization: `Bearer ${n.net.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body && JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() as any };
};
const signedWith = (certificates: string[], subject: string) => {
  const signed = signPackage(emitEdoc({
    from: { OrganId: district.agency.code }, to: [{ OrganId: commune.agency.code }], codeNumber: String(Math.random()).slice(2, 8),
    codeNotation: 'UBND', promulgationDate: new Date(), subject, at: new Date(),
  }), { key: createPrivateKey(signer.keyPem), certificates: certificates.map((pem) => new X509Certificate(pem)) });
  if (!signed.ok) throw new Error(signed.error.message);
  return signed.value;
};

describe('a signer certificate issued by an intermediate CA', () => {
  it('registers with its intermediate after it in pem, and its packages are delivered end to end', async () => {
    const agency = district.agency.code;
    // Alone, the certificate reaches no trusted CA: refused, as the hop check would refuse it.
    expect(await admin(0, 'POST', '/api/admin/certs', { agency, pem: signer.certPem })).toMatchObject({ status: 422, json: { error: { code: 'CERT_UNTRUSTED' } } });
    const fingerprint = new X509Certificate(signer.certPem).fingerprint256.replaceAll(':', '').toLowerCase();
    const registered = await admin(0, 'POST', '/api/admin/certs', { agency, pem: signer.certPem + intermediate.certPem });
    expect(registered).toMatchObject({ status: 201, json: { fingerprint } });
    for (const hub of [0, 1, 2]) {
      await eventually(async () => ((await admin(hub, 'GET', `/api/admin/certs?agency=${agency}`)).json.items.some((c: { fingerprint: string }) => c.fingerprint === fingerprint) ? true : undefined), `the registration at hub ${hub}`);
    }

    const r = await district.submit(signedWith([signer.certPem, intermediate.certPem], 'Ký bằng chứng thư của CA trung gian'));
    expect(r.status).toBe(202);
    await inboxItem(commune, r.json.docId);
    // The hop check, too, needs the intermediate: a KeyInfo without it reaches no trusted CA.
    expect(await district.submit(signedWith([signer.certPem], 'Thiếu CA trung gian'))).toMatchObject({ status: 422, json: { error: { code: 'CERT_UNTRUSTED' } } });
  });
});
