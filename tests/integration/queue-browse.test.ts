// Browsing a queue changes nothing: the messages are then consumed exactly as if no one had
// looked (not redelivered, no delivery count, same order, same number). Against the real
// broker: first the journal on its own, then a hub's admin API with a paused lane.
import { DEFAULT_CONFIRM_TIMEOUT_MS } from '../../src/config.js';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type BusConnection } from '../../src/bus/connection.js';
import { consume } from '../../src/bus/consumer.js';
import { journaled, readJournal, takenMarks, type JournalReader } from '../../src/bus/journal.js';
import { createPublisher, type Publisher } from '../../src/bus/publisher.js';
import { assertTopology, deleteTopology, hubQueues } from '../../src/bus/topology.js';
import { AMQP_URL, eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

const log = pino({ level: process.env.LGSP_TEST_LOG ?? 'silent' });
const SENDERS = ['000.07.05.B01', '000.07.06.B01'];

describe('the journal under a queue', () => {
  const hubId = `000.00.00.B${String(10 + Math.floor(Math.random() * 90))}`;
  const q = hubQueues(hubId);
  let conn: BusConnection;
  let publisher: Publisher;
  let reader: JournalReader;

  beforeAll(async () => {
    conn = await connectBus(AMQP_URL, log);
    await conn.withChannel((ch) => deleteTopology(ch, hubId, []));
    await conn.onConnect((model) => assertTopology(() => model.createChannel(), hubId, []));
    publisher = journaled(await createPublisher(conn, log, DEFAULT_CONFIRM_TIMEOUT_MS), () => new Date(), log);
  });
  afterAll(async () => {
    await reader?.stop();
    await publisher?.close();
    await conn?.withChannel((ch) => deleteTopology(ch, hubId, []));
    await conn?.close();
  });

  it('lists what waits in a queue, filtered and paged, and consuming afterwards finds it untouched', async () => {
    const docIds = Array.from({ length: 20 }, (_, i) => `${randomBytes(4).toString('hex')}-${i}`);
    await Promise.all(docIds.map((docId, i) => publisher.publish({
      queue: q.ingress, body: Buffer.from(`<edXML n="${i}"/>`), messageId: docId,
      headers: { 'x-lgsp-doc-id': docId, 'x-lgsp-kind': 'edoc', 'x-lgsp-sender': SENDERS[i % 2]!, 'x-lgsp-recipients': JSON.stringify(['000.00.12.B01']) },
    })));
    reader = await readJournal(conn, publisher, hubId, log);
    await eventually(async () => (reader.caughtUp() && reader.index.count(q.ingress) === 20) || undefined, 'the journal read back');

    // Browse again and again, every filter: the broker's own count must not move.
    for (let round = 0; round < 3; round++) {
      expect(reader.index.browse({ queue: q.ingress, limit: 500 }).items.map((m) => m.docId)).toEqual(docIds);
      expect(reader.index.browse({ queue: q.ingress, docId: docIds[7]!, limit: 10 }).items).toHaveLength(1);
      expect(reader.index.browse({ queue: q.ingress, agency: SENDERS[1]!, limit: 500 }).matched).toBe(10);
      expect(reader.index.browse({ queue: q.ingress, agency: '000.00.12.B01', limit: 500 }).matched).toBe(20);
      const first = reader.index.browse({ queue: q.ingress, limit: 8 });
      const second = reader.index.browse({ queue: q.ingress, limit: 8, after: first.next! });
      expect([...first.items, ...second.items].map((m) => m.docId)).toEqual(docIds.slice(0, 16));
    }
    const depth = await conn.withChannel((ch) => ch.checkQueue(q.ingress));
    expect(depth.messageCount).toBe(20);

    const seen: { docId: string; redelivered: boolean; deliveryCount: unknown }[] = [];
    const marks = takenMarks(publisher, hubId, log);
    const consumer = await consume(conn, q.ingress, 5, log, async (_body, headers, redelivered) => {
      const h = headers as Record<string, unknown>;
      seen.push({ docId: String(h['x-lgsp-doc-id']), redelivered, deliveryCount: h['x-delivery-count'] });
      return 'ack';
    }, marks.taken);
    await eventually(async () => (seen.length >= 20) || undefined, 'every message consumed');
    await consumer.stop();
    await marks.flush();

    expect(seen.map((s) => s.docId)).toEqual(docIds);
    expect(seen.filter((s) => s.redelivered || s.deliveryCount !== undefined)).toEqual([]);
    // Consumed messages leave the view once their marks are journaled.
    await eventually(async () => (reader.index.count(q.ingress) === 0) || undefined, 'the view emptied');
  });
});

describe('browsing a hub queue through the admin API', () => {
  let n: TestNetwork;
  let commune: Agent, department: Agent;
  useTestNetwork({}, (started, a) => { n = started; ({ commune, department } = a); });

  const admin = (method: string, path: string) => n.admin(0, method, path);

  it('holds a paused lane, browses it without side effects, and drains it on resume', async () => {
    const province = n.hubs[0]!;
    const ingress = hubQueues(province.id).ingress;
    const paused = await admin('POST', `/api/admin/queues/${ingress}/pause`);
    expect(paused).toEqual({ status: 200, json: { queue: ingress, paused: true } });

    const docIds: string[] = [];
    for (let i = 0; i < 3; i++) docIds.push((await commune.submit(n.document(commune, [department], `Chờ xem ${i}`))).json.docId);
    const listed = await eventually(async () => {
      const r = await admin('GET', `/api/admin/queues/${ingress}/messages`);
      return r.json.items?.length === 3 && r.json.depth === 3 ? r.json : undefined;
    }, 'three messages waiting in the province ingress');
    expect(listed.complete).toBe(true);
    expect(listed.items.map((m: { docId: string }) => m.docId)).toEqual(docIds);
    expect(listed.items[0]).toMatchObject({ queue: ingress, messageKind: 'edoc', sender: commune.agency.code, recipients: [department.agency.code] });

    const one = await admin('GET', `/api/admin/queues/${ingress}/messages?docId=${docIds[1]}&agency=${department.agency.code}`);
    expect(one.json.items.map((m: { docId: string }) => m.docId)).toEqual([docIds[1]]);
    expect((await admin('GET', `/api/admin/queues/${ingress}/messages?since=2999-01-01T00:00:00Z`)).json.items).toEqual([]);
    expect((await admin('GET', `/api/admin/queues/${ingress}/messages?limit=0`)).json.error.code).toBe('SCHEMA_INVALID');
    expect((await admin('GET', '/api/admin/queues/lgsp.elsewhere.ingress/messages')).json.error.code).toBe('NOT_FOUND');
    expect((await admin('GET', '/api/admin/lanes')).json.items).toContainEqual({ queue: ingress, paused: true });

    // Nothing reached the department while paused; after resume everything does, once.
    expect((await department.request('GET', '/api/v1/edocs/received')).json.items).toEqual([]);
    expect((await admin('POST', `/api/admin/queues/${ingress}/resume`)).json.paused).toBe(false);
    const received = await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[];
      return items.length >= 3 ? items : undefined;
    }, 'the documents delivered after resume');
    expect(received.map((i) => i.docId).sort()).toEqual([...docIds].sort());
    await eventually(async () => ((await admin('GET', `/api/admin/queues/${ingress}/messages`)).json.items.length === 0) || undefined, 'the view emptied');

    const audit = (await admin('GET', '/api/admin/audit')).json.items.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['queue.pause', 'queue.resume']));
  });
});
