// A poison message in every queue kind, in mid-run: messages no hub can read, put straight into
// a hub's ingress, its deliver queue, its outbox toward a neighbour on another broker, and its
// trust-change queue. Each must be dead-lettered with its reason (in the ledger, where the
// admin API lists it), and each lane must keep moving: the load through the same queues is
// delivered exactly once, and a trust change sent after the poison is applied.
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { trustQueue } from '../../src/bus/broadcast.js';
import { hubQueues } from '../../src/bus/topology.js';
import { faultRun, localBroker, provinceOnOtherBroker, useHubProcesses } from '../helpers/fault-run.js';
import type { HubProcesses } from '../helpers/hub-processes.js';
import { AMQP_URL, eventually } from '../helpers/network.js';

const { options } = provinceOnOtherBroker();
const hubs = useHubProcesses(options);

interface Poison { lane: string; queue: string; headers: Record<string, string>; body: Buffer; deadAt: string }

/** One poison per queue kind; `deadAt` is the hub whose dead letters must list it. */
function poisons(h: HubProcesses): Poison[] {
  const [province, district, commune] = h.ids;
  const list: Poison[] = [
    // Hop headers that do not parse (the recipients are not JSON).
    { lane: 'ingress', queue: hubQueues(district).ingress, headers: { 'x-lgsp-kind': 'edoc', 'x-lgsp-recipients': '[not json' }, body: Buffer.from('<edXMLEnvelope/>'), deadAt: district },
    { lane: 'deliver', queue: hubQueues(commune).deliver, headers: {}, body: randomBytes(512), deadAt: commune },
    // The link forwards it as it is; the province's ingress, across the link, refuses it.
    { lane: 'outbox', queue: hubQueues(district).outbox(province), headers: { 'x-lgsp-kind': 'receipt' }, body: randomBytes(512), deadAt: province },
    { lane: 'trust', queue: trustQueue(commune), headers: {}, body: Buffer.from('{"kind": "ca.add", '), deadAt: commune },
  ];
  return list.map((p) => ({ ...p, headers: { ...p.headers, 'x-lgsp-doc-id': `poison-${p.lane}` } }));
}

async function publish(all: readonly Poison[]): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    for (const p of all) ch.sendToQueue(p.queue, p.body, { persistent: true, headers: p.headers });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

const admin = async (h: HubProcesses, hubId: string, method: string, path: string, body?: object) => {
  const res = await fetch(h.url(hubId) + path, {
    method, headers: { authorization: `Bearer ${h.net.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() as any };
};

describe.skipIf(!localBroker)('a poison message in every queue kind', () => {
  it('dead-letters each with its reason while every lane keeps moving', async () => {
    let all: Poison[] = [];
    await faultRun(hubs(), {
      name: 'poison',
      async inject({ hubs: h, load, count }) {
        all = poisons(h);
        await load.reached(Math.floor(count / 3));
        await publish(all);
        return { poison: all.length };
      },
    });
    const h = hubs();
    for (const p of all) {
      const dead = await eventually(async () => {
        const r = await admin(h, p.deadAt, 'GET', `/api/admin/dead-letters?docId=${p.headers['x-lgsp-doc-id']}`);
        return r.json.total === 1 ? r.json.items[0] : undefined;
      }, `the ${p.lane} poison in the dead letters of ${p.deadAt}`, 30_000);
      expect(dead, p.lane).toMatchObject({ reasonCode: 'POLICY_VIOLATION', reason: expect.stringMatching(/^unreadable/) });
    }

    // The trust lane moves: a change made at the district after the poison reaches the commune.
    const [, district, commune] = h.ids;
    const code = `002.07.05.${commune.slice(-3)}`;
    expect((await admin(h, district, 'POST', '/api/admin/agencies', { code, name: 'Trạm y tế xã (sau thuốc độc)' })).status).toBe(201);
    await eventually(async () => ((await admin(h, commune, 'GET', '/api/admin/agencies')).json.items
      .some((a: { code: string }) => a.code === code) ? true : undefined), 'the trust change applied at the commune after the poison', 30_000);
  });
});
