// CRLs fetched on a schedule: a revocation takes effect without a restart, a newer CRL lifts it,
// and a CRL past its nextUpdate with its source down is a loud warning; a hub set to fail closed
// then refuses that CA's certificates while one set to keep the last CRL goes on.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrl, serialOf, type KeyAndCert } from '../../src/pki/dev-pki.js';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';

let n: TestNetwork;
let school: Agent, commune: Agent, district: Agent;
let ca: KeyAndCert;
let serving: { status: number; body: string } = { status: 500, body: '' };
const source = http.createServer((_req, res) => { res.statusCode = serving.status; res.end(serving.body); });
const DAY = 86_400_000;

beforeAll(async () => {
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}/ca.crl`;
  n = await startTestNetwork({
    configFor: async (hubId, c, net) => {
      ca ??= { keyPem: fs.readFileSync(net.caKeyFile, 'utf8'), certPem: fs.readFileSync(net.caFile, 'utf8') };
      const schoolCert = fs.readFileSync(net.agencies.find((a) => a.code.startsWith('001.07.05.'))!.certFile, 'utf8');
      if (serving.body === '') serving = { status: 200, body: await createCrl(ca, [{ serialNumber: serialOf(schoolCert), revokedAt: new Date() }], new Date(), new Date(Date.now() + DAY)) };
      return { ...c, trust: { ...c.trust, crlSources: [{ url, intervalMs: 200 }], crlPolicy: hubId.startsWith('000.07.05.') ? 'fail-closed' : 'keep-last' } };
    },
  });
  school = n.agent('001.07.05.');
  commune = n.agent('000.07.05.');
  district = n.agent('000.00.05.');
}, 60_000);
afterAll(async () => {
  await n?.close();
  source.close();
});

const submitCode = async (a: Agent) => {
  const r = await a.submit(n.document(a, [district], 'CRL'));
  return r.status === 202 ? 'OK' : r.json.error.code as string;
};

describe('CRL sources', () => {
  it('revokes at start, lifts with a newer CRL, and warns loudly once the CRL is stale', async () => {
    expect(await submitCode(school)).toBe('CERT_REVOKED');

    serving = { status: 200, body: await createCrl(ca, [], new Date(Date.now() + 1000), new Date(Date.now() + DAY)) };
    await eventually(async () => (await submitCode(school)) === 'OK' ? true : undefined, 'the newer, empty CRL', 10_000);

    serving = { status: 200, body: await createCrl(ca, [], new Date(Date.now() + 2000), new Date(Date.now() + 3000)) };
    await new Promise((r) => setTimeout(r, 1000)); // fetched, still fresh
    serving = { status: 503, body: '' };
    await new Promise((r) => setTimeout(r, 2500)); // now past its nextUpdate, the source down

    const ready = await (await fetch(`${n.hubs[2]!.url}/readyz`)).json() as { status: string; staleCrls: unknown[] };
    expect(ready.status).toBe('ready, with warnings');
    expect(ready.staleCrls).toHaveLength(1);
    expect(await submitCode(commune)).toBe('CERT_UNTRUSTED'); // the commune hub fails closed
    expect(await submitCode(district)).toBe('OK'); // the district hub keeps the last CRL
  });
});
