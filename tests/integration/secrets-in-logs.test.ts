// Secrets never reach the logs: a network's hubs log at `trace` into a buffer while agencies
// submit, present bad keys and download, operators sign in to the console, register an agency
// (its new key comes back once) and rotate a hub's seal key. The buffer then holds no API key,
// no admin token, no line of any private key and no bytes of the packages.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueEcCertificate } from '../../src/pki/dev-pki.js';
import { createRootLogger } from '../../src/logger.js';
import { eventually, networkCa, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';

const chunks: string[] = [];
let n: TestNetwork;
let commune: Agent, department: Agent;
const secrets: { what: string; text: string }[] = [];

beforeAll(async () => {
  n = await startTestNetwork({ log: createRootLogger('trace', { write: (line: string) => { chunks.push(line); } }) });
  commune = n.agent('000.07.05.');
  department = n.agent('000.00.12.');
  for (const a of n.net.agencies) secrets.push({ what: `API key of ${a.code}`, text: a.apiKey });
  secrets.push({ what: 'admin token', text: n.net.adminToken });
  for (const file of [n.net.caKeyFile, ...n.net.agencies.map((a) => a.keyFile), ...(n.net.config.hubs as { sealKeyFile: string }[]).map((h) => h.sealKeyFile)]) {
    secrets.push(...pemLines(fs.readFileSync(file, 'utf8'), `private key ${file}`));
  }
}, 60_000);
afterAll(async () => { await n?.close(); });

/** The base64 lines of a PEM body: any one of them in a log would leak part of the key. */
const pemLines = (pem: string, what: string) => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----')).map((text) => ({ what, text }));
/** Long runs of a package's base64 (signature value, certificate, attachment). */
const packageRuns = (pkg: Buffer, what: string) => [...pkg.toString('utf8').matchAll(/>([A-Za-z0-9+/=\s]{80,})</g)]
  .map((m) => ({ what, text: m[1]!.replace(/\s/g, '').slice(0, 48) }));
const call = (url: string, path: string, token: string, init: RequestInit = {}) =>
  fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });

describe('secrets in logs', () => {
  it('none appear, whatever the hubs log at trace level', async () => {
    // Agencies at work, including a tampered package and bad keys.
    const pkg = n.document(commune, [department], 'Văn bản mật 7f3a');
    secrets.push(...packageRuns(pkg, 'package bytes'));
    const r = await commune.submit(pkg);
    expect(r.status).toBe(202);
    expect((await commune.submit(Buffer.from(pkg.toString('utf8').replace('Văn bản mật 7f3a', 'Văn bản mật 7f3b')))).status).toBe(422);
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[])
      .some((i) => i.docId === r.json.docId) || undefined, 'delivery');
    expect((await department.request('GET', `/api/v1/edocs/${r.json.docId}`)).status).toBe(200);
    expect((await department.request('POST', `/api/v1/edocs/${r.json.docId}/ack`, { result: 'done' })).status).toBe(200);
    const guessed = `${commune.agency.apiKey.slice(0, -2)}xx`;
    secrets.push({ what: 'a wrong API key', text: guessed });
    expect((await call(commune.url, '/api/v1/edocs/received', guessed)).status).toBe(401);
    expect((await call(commune.url, '/api/admin/audit', commune.agency.apiKey)).status).toBe(403);

    // Operators: console sign-in, a new agency (its key is returned once), a seal key rotation.
    const province = n.hubs[0]!.url;
    const login = await fetch(`${province}/admin/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(province).origin }, body: `token=${encodeURIComponent(n.net.adminToken)}`,
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${province}/admin`, { headers: { cookie } })).status).toBe(200);
    const added = await call(province, '/api/admin/agencies', n.net.adminToken, { method: 'POST', body: JSON.stringify({ code: `000.00.31.${n.net.hubs[0]!.id.slice(-3)}`, name: 'Sở Mới' }) });
    expect(added.status).toBe(201);
    const newKey = ((await added.json()) as { apiKey: string }).apiKey;
    secrets.push({ what: 'a new agency\'s API key', text: newKey });
    expect((await call(province, '/api/v1/edocs/received', newKey)).status).toBe(200);
    const hubId = n.hubs[2]!.id;
    const seal = await issueEcCertificate({ ca: networkCa(n.net), commonName: `LGSP hub ${hubId} (new)`, agency: hubId, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    secrets.push(...pemLines(seal.keyPem, 'the rotated seal key'));
    const rotated = await call(n.hubs[2]!.url, '/api/admin/hub-key/rotate', n.net.adminToken, { method: 'POST', body: JSON.stringify({ keyPem: seal.keyPem, certPem: seal.certPem }) });
    expect(rotated.status).toBe(200);

    const log = chunks.join('');
    // The buffer did capture the work above, at trace level, so an absence means something.
    for (const seen of ['incoming request', 'package accepted', '"statusCode":401', 'hub seal key rotated']) expect(log).toContain(seen);
    expect(secrets.length).toBeGreaterThan(20);
    expect(secrets.filter((s) => log.includes(s.text)).map((s) => s.what)).toEqual([]);
  });
});
