// Two replicas of every hub of a network, sharing one PostgreSQL ledger and their hub's queues
// (real RabbitMQ, real PostgreSQL): documents flow and any replica answers every call; a
// revocation, a CRL-free trust change and a seal key rotation made through one replica take
// effect on every replica of every hub within seconds; a replica started later seals with the
// rotated key. A console session and its CSRF token made at one replica serve at the other, and a
// lane paused through one replica is paused on every replica, one started later too.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrl, issueCertificate, issueEcCertificate, serialOf } from '../../src/pki/dev-pki.js';
import { X509Certificate } from 'node:crypto';
import { fingerprintOf as fingerprintOfCert } from '../../src/trust/x509.js';
import { parseConfig } from '../../src/config.js';
import { startHub } from '../../src/hub.js';
import { hubQueues } from '../../src/bus/topology.js';
import { makeAgent, type Agent } from '../helpers/agent.js';
import { consoleClient, csrfOf } from '../helpers/console-client.js';
import { eventually, networkCa, startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

/** The CA's CRL distribution point: nothing to serve until a test publishes a CRL. */
let crl: { status: number; body: string } = { status: 404, body: '' };
const crlSource = http.createServer((_req, res) => { res.statusCode = crl.status; res.end(crl.body); });
let db: TestDatabase;
let n: TestNetwork;
const HUBS = 3;
/** Every expiry alert the webhook got. */
const alerts: { hub: string; fingerprint: string; thresholdDays: number }[] = [];
let webhook: WebhookSink | undefined;
const DAY = 86_400_000;
const fingerprintOf = (pem: string) => fingerprintOfCert(new X509Certificate(pem));

beforeAll(async () => {
  db = await createTestDatabase();
  webhook = await startWebhookSink(alerts);
  const webhookUrl = webhook.url;
  await new Promise<void>((resolve) => crlSource.listen(0, '127.0.0.1', resolve));
  const crlUrl = `http://127.0.0.1:${(crlSource.address() as AddressInfo).port}/ca.crl`;
  n = await startTestNetwork({
    replicas: 2, ledgerUrl: db.url,
    configFor: (_id, c) => ({ ...c, alerts: { ...c.alerts, webhookUrl }, trust: { ...c.trust, crlSources: [{ url: crlUrl, intervalMs: 500 }] } }),
  });
}, 120_000);
afterAll(async () => {
  await n?.close();
  await db?.drop();
  webhook?.close();
  crlSource.close();
});

/** Hub number `hub` (0 province, 1 district, 2 commune), replica `r` (0 or 1). */
const replica = (hub: number, r: number) => n.hubs[r * HUBS + hub]!;
const hubOf = (agent: Agent) => n.net.hubs.findIndex((h) => h.id === agent.agency.hubId);
/** An agency's document system talking to replica `r` of its hub. */
const via = (prefix: string, r: number): Agent => {
  const agent = n.agent(prefix);
  return makeAgent(agent.agency, replica(hubOf(agent), r).url);
};
const admin = async (hub: number, r: number, method: string, path: string, body?: object) => {
  const res = await fetch(replica(hub, r).url + path, {
    method, headers: { authorization: `Bearer ${n.net.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body && JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() as any };
};
/** Another replica of hub `hub`, started now (closed by the caller). */
const startReplica = async (hub: number) => {
  const config = parseConfig({ ...n.net.config, ledger: { url: db.url } }, n.net.dir, {});
  if (!config.ok) throw new Error(config.error.message);
  const started = await startHub(config.value, config.value.hubs[hub]!, { log: pino({ level: 'silent' }), clock: () => new Date() });
  if (!started.ok) throw new Error(started.error.message);
  return started.value;
};
const received = async (agent: Agent) => (await agent.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[];
const deadLetters = async () => {
  const reasons: string[] = [];
  for (let hub = 0; hub < HUBS; hub++) {
    for (const d of (await admin(hub, 1, 'GET', '/api/admin/dead-letters')).json.items as { reasonCode: string; reason: string }[]) reasons.push(`hub ${hub}: ${d.reasonCode} ${d.reason}`);
  }
  return reasons;
};

describe('two replicas of every hub on one PostgreSQL ledger', () => {
  it('runs two replicas of each hub, each with a replica id of its own', () => {
    expect(n.hubs).toHaveLength(2 * HUBS);
    for (let hub = 0; hub < HUBS; hub++) {
      expect(replica(hub, 1).id).toBe(replica(hub, 0).id);
      expect(replica(hub, 1).replica).not.toBe(replica(hub, 0).replica);
    }
  });

  it('carries documents through either replica, and any replica answers for them', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      const from = via('000.07.05.', i % 2);
      const r = await from.submit(n.document(from, [via('000.00.12.', 0)], `Qua bản sao ${i % 2}: ${i}`));
      expect(r.status).toBe(202);
      sent.push(r.json.docId as string);
    }
    // The department reads its mailbox through the other replica than the one its hub delivered on.
    for (const r of [0, 1]) {
      const department = via('000.00.12.', r);
      await eventually(async () => ((await received(department)).filter((i) => sent.includes(i.docId)).length === sent.length ? true : undefined), `all ten in the mailbox, read via replica ${r}`, 30_000);
    }
    // The sender's view is the same through both replicas of its hub.
    const sentVia = async (r: number) => ((await via('000.07.05.', r).request('GET', '/api/v1/edocs/sent?limit=100')).json.items as { docId: string }[])
      .map((i) => i.docId).filter((id) => sent.includes(id)).sort();
    expect(await sentVia(1)).toEqual(await sentVia(0));
    expect(await sentVia(0)).toHaveLength(sent.length);
    expect(await deadLetters()).toEqual([]);
  });

  it('pauses a lane through one replica on every replica, and on one started meanwhile; resumes it through another; every replica\'s journal index shows the waiting messages', async () => {
    const province = 0;
    const ingress = hubQueues(replica(province, 0).id).ingress;
    // The broker's count of consumers on the queue: a paused lane has cancelled its consumer.
    const consumers = async (r: number) => ((await admin(province, r, 'GET', '/api/admin/queues')).json.items as { queue: string; consumers: number }[])
      .find((q) => q.queue === ingress)!.consumers;
    const lanePausedAt = async (url: string) => ((await (await fetch(`${url}/api/admin/lanes`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).json()) as {
      items: { queue: string; paused: boolean }[];
    }).items.find((l) => l.queue === ingress)!.paused;
    expect(await consumers(1)).toBe(2);
    // Paused through replica 0 only: replica 1 says so, and its consumer is gone from the queue too.
    expect((await admin(province, 0, 'POST', `/api/admin/queues/${ingress}/pause`)).json.paused).toBe(true);
    expect(await lanePausedAt(replica(province, 1).url)).toBe(true);
    await eventually(async () => ((await consumers(1)) === 0 ? true : undefined), 'no consumer left on the ingress queue');
    const docIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const from = via('000.07.05.', i % 2);
      docIds.push((await from.submit(n.document(from, [via('000.00.12.', 0)], `Chờ xem ${i}`))).json.docId as string);
    }
    const listed = (r: number) => admin(province, r, 'GET', `/api/admin/queues/${ingress}/messages`)
      .then((res) => (res.json.items as { docId: string }[]).map((m) => m.docId));
    for (const r of [0, 1]) await eventually(async () => ((await listed(r)).sort().join() === [...docIds].sort().join() ? true : undefined), `the three listed at replica ${r}`);
    // A replica started now reads the pause from the ledger: its lane starts paused, and the messages stay queued.
    const third = await startReplica(province);
    try {
      expect(await lanePausedAt(third.url)).toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await consumers(0)).toBe(0);
      expect((await listed(1)).sort()).toEqual([...docIds].sort());
    } finally {
      await third.close();
    }
    // Resumed through replica 1: both consume again, and both views empty from the consumption marks.
    expect((await admin(province, 1, 'POST', `/api/admin/queues/${ingress}/resume`)).json.paused).toBe(false);
    await eventually(async () => ((await consumers(0)) === 2 ? true : undefined), 'both replicas consume the ingress queue again');
    expect(await lanePausedAt(replica(province, 0).url)).toBe(false);
    for (const r of [0, 1]) await eventually(async () => ((await listed(r)).length === 0 ? true : undefined), `the view emptied at replica ${r}`);
    // Audited once, by the replica that took each call.
    const audited = ((await admin(province, 1, 'GET', '/api/admin/audit?limit=50')).json.items as { action: string; detail: { queue?: string } }[])
      .filter((a) => a.detail.queue === ingress).map((a) => a.action);
    expect(audited).toEqual(['queue.resume', 'queue.pause']);
  });

  it('keeps a console session and its CSRF token good at every replica: signed in at one, used and signed out at the other', async () => {
    const province = 0;
    const [a, b] = [consoleClient(replica(province, 0).url), consoleClient(replica(province, 1).url)];
    expect((await a.post('/admin/login', { token: n.net.adminToken })).headers.get('location')).toBe('/admin');
    // The browser sends the same cookies to whichever replica the load balancer picks.
    const share = () => { for (const [k, v] of a.jar) b.jar.set(k, v); };
    share();
    expect((await b.get('/admin')).status).toBe(200);
    // A form made by replica 0 (its CSRF token) posted to replica 1: the lane pauses, on both.
    const deliver = hubQueues(replica(province, 0).id).deliver;
    const page = await a.get(`/admin/queues/${deliver}`);
    expect(page.status).toBe(200);
    share();
    const paused = await b.post(`/admin/queues/${deliver}/pause`, { _csrf: await csrfOf(page) });
    expect(paused.headers.get('location')).toBe(`/admin/queues/${encodeURIComponent(deliver)}`);
    expect((await (await a.get(`/admin/queues/${deliver}`)).text())).toContain('data-testid="lane">đang tạm dừng');
    const resumed = await a.post(`/admin/queues/${deliver}/resume`, { _csrf: await csrfOf(await b.get(`/admin/queues/${deliver}`)) });
    expect(resumed.headers.get('location')).toBe(`/admin/queues/${encodeURIComponent(deliver)}`);
    // Signed out at replica 1: the session is over at replica 0 too.
    const out = await b.post('/admin/logout', { _csrf: await csrfOf(await b.get('/admin')) });
    expect(out.headers.get('location')).toBe('/admin/login');
    expect((await a.get('/admin')).headers.get('location')).toBe('/admin/login');
  });

  it('applies a revocation made through one replica on every replica of the hub that serves the agency, whichever replica made it', async () => {
    // [agency, the hub and replica the revocation goes through]: each hub's agencies, each time through another replica.
    const cases: [string, number, number][] = [['000.00.05.', 0, 0], ['001.07.05.', 1, 1], ['000.00.06.', 0, 1]];
    for (const [prefix, hub, r] of cases) {
      const agent = n.agent(prefix);
      const fingerprint = fingerprintOf(fs.readFileSync(agent.agency.certFile, 'utf8'));
      expect((await admin(hub, r, 'POST', `/api/admin/certs/${fingerprint}/revoke`, { reason: 'key compromise' })).status).toBe(200);
      for (const at of [0, 1]) {
        const sender = via(prefix, at);
        await eventually(async () => {
          const res = await sender.submit(n.document(sender, [via('000.00.12.', 0)], 'Sau khi thu hồi'));
          return res.status === 422 && res.json.error.code === 'CERT_REVOKED' ? true : undefined;
        }, `CERT_REVOKED for ${prefix} at replica ${at} of its hub (revoked via hub ${hub} replica ${r})`, 5000);
      }
    }
  });

  it('fetches a CRL on one replica of each hub, and every replica applies it', async () => {
    const agency = n.agent('000.08.05.').agency;
    crl = { status: 200, body: await createCrl(networkCa(n.net), [{ serialNumber: serialOf(fs.readFileSync(agency.certFile, 'utf8')), revokedAt: new Date() }], new Date(), new Date(Date.now() + DAY)) };
    for (const r of [0, 1]) {
      const sender = via('000.08.05.', r);
      await eventually(async () => {
        const res = await sender.submit(n.document(sender, [via('000.00.12.', 0)], 'Sau CRL'));
        return res.status === 422 && res.json.error.code === 'CERT_REVOKED' ? true : undefined;
      }, `CERT_REVOKED from the fetched CRL at replica ${r} of the district hub`, 10_000);
    }
  });

  it('alerts an expiring certificate once per hub, from the replica that leads, not once per replica', async () => {
    const agency = n.agent('000.07.05.').agency;
    const soon = issueCertificate({ ca: networkCa(n.net), commonName: 'short-lived', agency: agency.code, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 10 * DAY) });
    expect((await admin(2, 1, 'POST', '/api/admin/certs', { agency: agency.code, pem: soon.certPem })).status).toBe(201);
    const fingerprint = fingerprintOf(soon.certPem);
    const perHub = () => n.net.hubs.map((h) => alerts.filter((a) => a.fingerprint === fingerprint && a.hub === h.id).length);
    await eventually(async () => (perHub().every((count) => count >= 1) ? true : undefined), 'an alert from every hub');
    // Every replica of every hub applied the change; a second alert from a hub would come within this.
    await new Promise((r) => setTimeout(r, 2000));
    expect(perHub()).toEqual([1, 1, 1]);
  });

  it('rotates a seal key through one replica: every replica seals with it, every replica of the neighbours accepts it, and a replica started later uses it', async () => {
    const commune = 2;
    const hubId = replica(commune, 0).id;
    const before = (await admin(commune, 0, 'GET', '/api/admin/hub-certs')).json.activeSeal as string;
    // (A package a replica took while a revocation was on its way may have been dead-lettered a hop later: that stands.)
    const deadBefore = await deadLetters();
    const seal = await issueEcCertificate({
      ca: networkCa(n.net), commonName: `LGSP hub ${hubId} (2027)`, agency: hubId, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 365 * DAY),
    });
    const rotated = await admin(commune, 1, 'POST', '/api/admin/hub-key/rotate', { keyPem: seal.keyPem, certPem: seal.certPem });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    const fingerprint = rotated.json.fingerprint as string;
    expect(fingerprint).toBe(fingerprintOf(seal.certPem));
    expect(fingerprint).not.toBe(before);
    for (const r of [0, 1]) {
      await eventually(async () => ((await admin(commune, r, 'GET', '/api/admin/hub-certs')).json.activeSeal === fingerprint ? true : undefined),
        `replica ${r} of the commune hub seals with the new key`, 5000);
    }

    // Sealed with the new key by either commune replica, checked by either district replica: none refused.
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      const from = via('000.07.05.', i % 2);
      const r = await from.submit(n.document(from, [via('000.00.12.', 0)], `Sau khi đổi khóa ${i}`));
      expect(r.status).toBe(202);
      sent.push(r.json.docId as string);
    }
    await eventually(async () => ((await received(via('000.00.12.', 1))).filter((i) => sent.includes(i.docId)).length === sent.length ? true : undefined),
      'every package sealed with the new key delivered', 30_000);
    expect(await deadLetters()).toEqual(deadBefore);

    // A third replica of the commune hub, started now, reads the key from the ledger.
    const third = await startReplica(commune);
    try {
      const certs = await fetch(`${third.url}/api/admin/hub-certs`, { headers: { authorization: `Bearer ${n.net.adminToken}` } });
      expect(((await certs.json()) as { activeSeal: string }).activeSeal).toBe(fingerprint);
    } finally {
      await third.close();
    }
  });
});
