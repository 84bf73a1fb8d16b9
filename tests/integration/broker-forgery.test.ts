// Whoever can publish on the broker is not trusted (issue 14, item 5). Each forgery here is
// published with amqplib to the real RabbitMQ, into the queues of a running 3-hub network, the
// way a leaked broker credential would: nothing it says is acted on, and it ends dead-lettered
// with a code. So does a genuine signed trust change copied off the broadcast and published
// again after a newer change to the same CA or agency.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { hubQueues } from '../../src/bus/topology.js';
import { replicaQueue, trustExchange } from '../../src/bus/broadcast.js';
import { stringHeaders, toHeaders } from '../../src/bus/message.js';
import { hashApiKey } from '../../src/http/auth.js';
import { createDevCa } from '../../src/pki/dev-pki.js';
import { docIdOf } from '../../src/pipeline/hop-pipeline.js';
import { createHubSigner } from '../../src/hop/seal.js';
import { createRootLogger } from '../../src/logger.js';
import { AMQP_URL, eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

let n: TestNetwork;
let commune: Agent, district: Agent, province: Agent;
const ids = () => ({ province: n.hubs[0]!.id, district: n.hubs[1]!.id, commune: n.hubs[2]!.id });

// What the hubs log from warn up: a forgery that leaves no dead letter must at least be said there.
const logLines: string[] = [];
useTestNetwork({ log: createRootLogger('warn', { write: (line: string) => { logLines.push(line); } }) },
  (started, a) => { n = started; ({ commune, district, department: province } = a); });

/** Publishes as a broker user would: straight into a queue, or to an exchange. */
async function publish(to: { queue: string } | { exchange: string }, body: Buffer, headers: Record<string, string>): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    const options = { persistent: true, headers };
    if ('queue' in to) ch.sendToQueue(to.queue, body, options);
    else ch.publish(to.exchange, '', body, options);
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

/** A hub's dead letters for a doc id, through its admin API. */
const deadLetters = async (hub: number, docId: string) => {
  const res = await n.admin(hub, 'GET', `/api/admin/dead-letters?docId=${encodeURIComponent(docId)}`);
  return res.json.items as { docId: string; reasonCode: string; reason: string }[];
};
const deadLetterOf = (hub: number, docId: string, count = 1) =>
  eventually(async () => { const items = await deadLetters(hub, docId); return items.length >= count ? items : undefined; }, `${count} dead letter(s) of ${docId} at hub ${hub}`);

/**
 * Listens on the network's trust broadcast as a broker user may: a queue of its own bound to the
 * exchange (exclusive, gone when it closes). `find` waits for a change whose body matches.
 */
async function tapBroadcast() {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, trustExchange(ids().province), '');
  const seen: amqp.ConsumeMessage[] = [];
  await ch.consume(queue, (m) => { if (m !== null) seen.push(m); }, { noAck: true });
  return {
    find: (what: string, match: (change: Record<string, unknown>) => boolean) =>
      eventually(async () => seen.find((m) => match(JSON.parse(m.content.toString('utf8')) as Record<string, unknown>)), what),
    close: () => conn.close(),
  };
}

const inboxOf = async (agent: Agent) => ((await agent.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[]).map((i) => i.docId);
const delivered = (agent: Agent, docId: string) =>
  eventually(async () => ((await inboxOf(agent)).includes(docId) ? true : undefined), `${docId} in ${agent.agency.code}'s inbox`);

describe('the broker is a network, not a friend', () => {
  it('dead-letters an unsigned trust change registering an agency, on every hub, and registers nothing', async () => {
    const code = `000.09.05.${ids().province.slice(-3)}`;
    const apiKey = 'forged-api-key-for-a-forged-agency';
    const marker = `forged-agency-${Date.now()}`;
    const change = {
      kind: 'agency.add', code, name: 'Cơ quan giả', parent: null, hubId: ids().district, apiKeyHash: hashApiKey(apiKey),
      actor: 'admin', at: new Date().toISOString(), origin: ids().province,
    };
    await publish({ exchange: trustExchange(ids().province) }, Buffer.from(JSON.stringify(change)), { 'x-lgsp-doc-id': marker });
    // The same change claiming a hub's signature it does not have.
    await publish({ exchange: trustExchange(ids().province) }, Buffer.from(JSON.stringify(change)), {
      'x-lgsp-doc-id': marker, 'x-lgsp-seal-hub': ids().province, 'x-lgsp-seal': Buffer.from('forged').toString('base64'),
    });
    for (const hub of [0, 1, 2]) {
      const dead = await deadLetterOf(hub, marker, 2);
      expect(dead.map((d) => d.reasonCode)).toEqual(['SIGNATURE_INVALID', 'SIGNATURE_INVALID']);
      const agencies = (await n.admin(hub, 'GET', '/api/admin/agencies')).json.items as { code: string }[];
      expect(agencies.map((a) => a.code)).not.toContain(code);
    }
    const signIn = await fetch(`${n.hubs[1]!.url}/api/v1/edocs/received`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(signIn.status).toBe(401);
  });

  it('applies no unsigned change put straight into a replica\'s own trust queue, and says so in the log with its code', async () => {
    // lgsp.<hub>.trust.<replica>: each replica hears every change there. A change published only
    // there (never through the broadcast, whose hub queue dead-letters it) reaches no dead letter.
    const code = `000.09.06.${ids().province.slice(-3)}`;
    const marker = `forged-on-replica-${Date.now()}`;
    const change = {
      kind: 'agency.add', code, name: 'Cơ quan giả trên hàng của bản sao', parent: null, hubId: ids().district, apiKeyHash: hashApiKey(marker),
      actor: 'admin', at: new Date().toISOString(), origin: ids().province,
    };
    const from = logLines.length;
    await publish({ queue: replicaQueue(ids().district, n.hubs[1]!.replica) }, Buffer.from(JSON.stringify(change)), {
      'x-lgsp-doc-id': marker, 'x-lgsp-seal-hub': ids().province, 'x-lgsp-seal': Buffer.from('forged').toString('base64'),
    });
    const said = await eventually(async () => logLines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.hub === ids().district && l.code === 'SIGNATURE_INVALID' && String(l.msg).includes('replica')), 'the refusal in the district hub\'s log');
    expect(said).toMatchObject({ component: 'trust', reason: expect.stringContaining(`hub ${ids().province}`) });
    const agencies = (await n.admin(1, 'GET', '/api/admin/agencies')).json.items as { code: string }[];
    expect(agencies.map((a) => a.code)).not.toContain(code);
  });

  it('never puts an unsealed (or wrongly sealed) package from the deliver queue into a mailbox', async () => {
    const bytes = n.document(commune, [district], 'Thả thẳng vào hộp thư');
    const docId = docIdOf(bytes);
    const headers = (sealHub: string) => toHeaders({
      body: bytes, kind: 'edoc', docId, originHub: ids().commune, sender: commune.agency.code, recipients: [district.agency.code],
      trace: [], seal: Buffer.from('forged').toString('base64'), sealHub,
    });
    await publish({ queue: hubQueues(ids().district).deliver }, bytes, headers(ids().district));
    await publish({ queue: hubQueues(ids().district).deliver }, bytes, headers(ids().commune));
    const dead = await deadLetterOf(1, docId, 2);
    expect(dead.map((d) => d.reasonCode)).toEqual(['SIGNATURE_INVALID', 'SIGNATURE_INVALID']);
    expect(await inboxOf(district)).not.toContain(docId);
  });

  it('refuses a sealed package whose routing headers were changed on the broker', async () => {
    const ingress = hubQueues(ids().district).ingress;
    expect((await n.admin(1, 'POST', `/api/admin/queues/${ingress}/pause`)).status).toBe(200);
    const bytes = n.document(commune, [province], 'Niêm phong thật, tiêu đề bị đổi');
    const docId = docIdOf(bytes);
    expect((await commune.submit(bytes)).status).toBe(202);
    // Take the commune hub's sealed message off the district's ingress, as a broker user can.
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createChannel();
    const taken = await eventually(async () => (await ch.get(ingress, { noAck: true })) || undefined, 'the sealed message in the district ingress');
    await conn.close();
    const original = stringHeaders(taken.properties.headers);
    expect(original['x-lgsp-doc-id']).toBe(docId);
    const changes: Record<string, string>[] = [
      { 'x-lgsp-recipients': JSON.stringify([district.agency.code]) },
      { 'x-lgsp-sender': n.agent('001.07.05.').agency.code },
      { 'x-lgsp-kind': 'status', 'x-lgsp-status-code': '02' },
      { 'x-lgsp-status-code': '05' },
      { 'x-lgsp-document-id': 'another-document' },
      { 'x-lgsp-subject': 'Tiêu đề khác' },
      { 'x-lgsp-origin-hub': ids().district },
    ];
    for (const change of changes) await publish({ queue: ingress }, taken.content, { ...original, ...change });
    expect((await n.admin(1, 'POST', `/api/admin/queues/${ingress}/resume`)).status).toBe(200);
    const dead = await deadLetterOf(1, docId, changes.length);
    expect(dead.map((d) => d.reasonCode)).toEqual(changes.map(() => 'SIGNATURE_INVALID'));
    expect(await inboxOf(district)).not.toContain(docId);
    expect(await inboxOf(province)).not.toContain(docId);
  });

  it('changes no delivery or business state on a forged receipt or status', async () => {
    const bytes = n.document(commune, [district], 'Chờ biên nhận');
    const documentId = /<(?:\w+:)?DocumentId>([^<]+)</.exec(bytes.toString('utf8'))![1]!;
    const sent = await commune.submit(bytes);
    expect(sent.status).toBe(202);
    const { docId } = sent.json as { docId: string };
    await delivered(district, docId);
    const stateAtSender = async () => {
      const items = (await commune.request('GET', '/api/v1/edocs/sent')).json.items as { docId: string; recipients: { delivery: string; status?: string }[] }[];
      return items.find((i) => i.docId === docId)?.recipients[0];
    };
    await eventually(async () => ((await stateAtSender())?.delivery === 'delivered' ? true : undefined), 'the delivered receipt');

    // A receipt batch saying the recipient acknowledged it, unsealed, into the origin hub's ingress.
    const receipts = Buffer.from(JSON.stringify([{ originHub: ids().commune, docId, organId: district.agency.code, delivery: 'acked', status: '05', trace: [] }]));
    const receiptId = `receipts-forged-${Date.now()}`;
    await publish({ queue: hubQueues(ids().commune).ingress }, receipts, toHeaders({
      body: receipts, kind: 'receipt', docId: receiptId, originHub: ids().district, sender: ids().district, recipients: [district.agency.code],
      trace: [], seal: Buffer.from('forged').toString('base64'), sealHub: ids().district,
    }));
    // A status "05" from the recipient, unsealed, straight into the origin hub's mailbox stage.
    const status = n.status(district, '05', { OrganId: commune.agency.code, DocumentId: documentId });
    const statusId = docIdOf(status);
    await publish({ queue: hubQueues(ids().commune).deliver }, status, toHeaders({
      body: status, kind: 'status', docId: statusId, originHub: ids().district, sender: district.agency.code, recipients: [commune.agency.code],
      trace: [], seal: Buffer.from('forged').toString('base64'), sealHub: ids().commune, statusCode: '05', documentId,
    }));
    // The same receipt sealed by a hub this hub trusts (the province) but that does not lead to
    // the recipient: what a compromised hub server with its own seal key could send.
    const provinceSigned = `receipts-province-${Date.now()}`;
    const provinceHub = (n.net.config.hubs as { id: string; sealKeyFile: string; sealCertFile: string }[]).find((h) => h.id === ids().province)!;
    const signer = createHubSigner(ids().province, fs.readFileSync(path.resolve(n.net.dir, provinceHub.sealKeyFile), 'utf8'),
      new X509Certificate(fs.readFileSync(path.resolve(n.net.dir, provinceHub.sealCertFile))));
    if (!signer.ok) throw new Error(signer.error.message);
    const fields = {
      kind: 'receipt' as const, docId: provinceSigned, originHub: ids().province, sender: ids().province, recipients: [district.agency.code], trace: [],
    };
    const seal = signer.value.seal({ ...fields, to: ids().commune, sealHub: ids().province, digest: createHash('sha256').update(receipts).digest('hex') });
    await publish({ queue: hubQueues(ids().commune).ingress }, receipts, toHeaders({ ...fields, body: receipts, seal, sealHub: ids().province }));
    expect((await deadLetterOf(2, provinceSigned))[0]!).toMatchObject({ reasonCode: 'POLICY_VIOLATION', reason: expect.stringContaining('does not lead to') });
    expect((await deadLetterOf(2, receiptId))[0]!.reasonCode).toBe('SIGNATURE_INVALID');
    expect((await deadLetterOf(2, statusId))[0]!.reasonCode).toBe('SIGNATURE_INVALID');
    expect(await stateAtSender()).toEqual({ organId: district.agency.code, delivery: 'delivered' });
    expect(await inboxOf(commune)).not.toContain(statusId);
  });

  it('dead-letters a signed ca.add and agency.move published again after newer changes, and no hub goes back', async () => {
    const tap = await tapBroadcast();
    try {
      const ca = createDevCa('CA thêm rồi bỏ', new Date(Date.now() - 86_400_000), new Date(Date.now() + 365 * 86_400_000));
      const fp = new X509Certificate(ca.certPem).fingerprint256.replaceAll(':', '').toLowerCase();
      const school = n.agent('001.07.05.').agency.code;
      const cas = async (hub: number) => ((await n.admin(hub, 'GET', '/api/admin/cas')).json.items as { fingerprint: string }[]).map((c) => c.fingerprint);
      const hubOf = async (hub: number) => ((await n.admin(hub, 'GET', '/api/admin/agencies')).json.items as { code: string; hubId: string }[]).find((a) => a.code === school)?.hubId;
      const everywhere = (what: string, holds: (hub: number) => Promise<boolean>) =>
        eventually(async () => ((await Promise.all([0, 1, 2].map(holds))).every(Boolean) ? true : undefined), `${what} at every hub`);

      // The changes a broker user copies: made at the province hub, signed with its seal key.
      expect((await n.admin(0, 'POST', '/api/admin/cas', { pem: ca.certPem })).status).toBe(201);
      expect((await n.admin(0, 'POST', `/api/admin/agencies/${school}/move`, { hubId: ids().district })).status).toBe(200);
      const added = await tap.find('the ca.add on the broadcast', (c) => c.kind === 'ca.add' && c.fingerprint === fp);
      const moved = await tap.find('the agency.move on the broadcast', (c) => c.kind === 'agency.move' && c.code === school && c.hubId === ids().district);
      await everywhere('the CA and the move', async (hub) => (await cas(hub)).includes(fp) && (await hubOf(hub)) === ids().district);
      // The opposite changes, made later at the district hub.
      expect((await n.admin(1, 'POST', `/api/admin/cas/${fp}/remove`)).status).toBe(200);
      expect((await n.admin(1, 'POST', `/api/admin/agencies/${school}/move`, { hubId: ids().commune })).status).toBe(200);
      await everywhere('the removal and the move back', async (hub) => !(await cas(hub)).includes(fp) && (await hubOf(hub)) === ids().commune);

      // The copies again, bytes and headers as they were (a header of our own to find their dead letters by).
      const marker = `replayed-${Date.now()}`;
      for (const m of [added, moved]) {
        await publish({ exchange: trustExchange(ids().province) }, m.content, { ...stringHeaders(m.properties.headers), 'x-lgsp-doc-id': marker });
      }
      // Each hub but their origin dead-letters both (the origin ignores its own changes on its queue, as ever).
      for (const hub of [1, 2]) {
        const dead = await deadLetterOf(hub, marker, 2);
        expect(dead.map((d) => d.reasonCode)).toEqual(['STALE_CHANGE', 'STALE_CHANGE']);
        expect(dead.map((d) => d.reason)).toEqual(expect.arrayContaining([expect.stringContaining(`ca:${fp}`), expect.stringContaining(`agency:${school}:hub`)]));
      }
      for (const hub of [0, 1, 2]) {
        expect(await cas(hub), `the CAs at hub ${hub}`).not.toContain(fp);
        expect(await hubOf(hub), `the school's hub at hub ${hub}`).toBe(ids().commune);
      }
    } finally {
      await tap.close();
    }
  });
});
