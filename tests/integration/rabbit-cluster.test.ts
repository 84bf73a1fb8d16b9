// A network on a 3-node RabbitMQ cluster started on this host (tests/helpers/rabbit-cluster.ts),
// beside the system broker: the hubs are given the three nodes (amqpUrls), their quorum queues
// replicate to all three, and `kill -9` of the node that leads those queues (and holds the hubs'
// connections) mid-run loses nothing and duplicates nothing: the hubs move to another node by
// themselves, declare their topology again and republish what was not confirmed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { canRunCluster, startRabbitCluster, type RabbitCluster } from '../helpers/rabbit-cluster.js';
import { startLoad } from '../helpers/chaos-load.js';
import { startMailboxReaders } from '../helpers/mailbox-count.js';

const runnable = await canRunCluster();
let cluster: RabbitCluster;
let n: TestNetwork;
let commune: Agent, school: Agent, district: Agent, ward: Agent, department: Agent;

// rabbitmqctl lists a classic queue's members as an empty string, a quorum queue's as an array.
const QueueRow = z.object({ name: z.string(), type: z.string(), leader: z.string().optional(), members: z.union([z.array(z.string()), z.literal('').transform(() => [])]).optional() });

/** The network's queues as one node sees them (name, type, leader, members). */
async function queues(node: string) {
  const out = await cluster.ctl('rabbitmqctl', node, 'list_queues', 'name', 'type', 'leader', 'members', '--formatter', 'json');
  const province = n.hubs[0]!.id.split('.')[3]!;
  return z.array(QueueRow).parse(JSON.parse(out)).filter((q) => q.name.includes(`.${province}.`));
}

/** The hubs' connections, by the node that holds them. */
async function hubConnections(node: string): Promise<string[]> {
  const out = await cluster.ctl('rabbitmqctl', node, 'list_connections', 'client_properties', '--formatter', 'json');
  const rows = z.array(z.object({ client_properties: z.array(z.tuple([z.string(), z.string(), z.unknown()])) })).parse(JSON.parse(out));
  return rows.flatMap((r) => r.client_properties.filter(([k]) => k === 'connection_name').map(([, , v]) => String(v)))
    .filter((name) => n.hubs.some((h) => name === `lgsp hub ${h.id}`));
}

describe.runIf(runnable)('a network on a 3-node RabbitMQ cluster', () => {
  beforeAll(async () => {
    cluster = await startRabbitCluster();
    n = await startTestNetwork({ configFor: (_hubId, config) => ({ ...config, amqpUrls: cluster.amqpUrls }) });
    commune = n.agent('000.07.05.');
    school = n.agent('001.07.05.');
    district = n.agent('000.00.05.');
    ward = n.agent('000.08.05.');
    department = n.agent('000.00.12.');
  }, 120_000);
  afterAll(async () => {
    await n?.close();
    await cluster?.stop();
  }, 60_000);

  it('replicates every quorum queue of every hub to the three nodes, and carries documents', async () => {
    const r = await commune.submit(n.document(commune, [department], 'Trên cụm RabbitMQ'));
    expect(r.status).toBe(202);
    await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[];
      return items.some((i) => i.docId === r.json.docId) ? true : undefined;
    }, 'the document in the department\'s inbox');

    const quorum = (await queues('n2@localhost')).filter((q) => q.type === 'quorum');
    // ingress, deliver, dead and trust of each of the three hubs at least.
    expect(quorum.length).toBeGreaterThanOrEqual(12);
    for (const q of quorum) expect(q.members?.slice().sort(), q.name).toEqual(cluster.nodes.map((x) => x.name));
  });

  it('loses nothing and duplicates nothing when the node leading the queues in use is killed mid-run', async () => {
    const ingress = `lgsp.${n.hubs[0]!.id}.ingress`;
    const leader = (await queues('n2@localhost')).find((q) => q.name === ingress)!.leader!;
    // The hubs take the first node that answers: all of them are on n1, which declared (and leads) the queues.
    expect(leader).toBe('n1@localhost');
    expect((await hubConnections(leader)).length).toBeGreaterThanOrEqual(n.hubs.length);

    const readers = startMailboxReaders([commune, school, district, ward, department]);
    const load = startLoad({
      flows: [{ from: commune, to: [department, ward, school] }, { from: department, to: [commune, district] }],
      count: 120, ratePerSec: 20, acceptTimeoutMs: 60_000,
    });
    await load.reached(30);
    await cluster.kill(leader);
    const accepted = await load.done;
    await readers.complete(accepted, 45_000);
    await readers.stop();

    const owed = accepted.flatMap((a) => a.recipients.map((to) => `${a.docId} ${to}`));
    const lost = owed.filter((key) => !readers.seen.has(key));
    expect({ lost: lost.length, duplicates: readers.duplicates.length }).toEqual({ lost: 0, duplicates: 0 });

    // Every hub moved to a surviving node by itself, and says it is ready.
    const survivors = cluster.nodes.map((x) => x.name).filter((name) => name !== leader);
    const moved = (await Promise.all(survivors.map(hubConnections))).flat();
    for (const h of n.hubs) expect(moved).toContain(`lgsp hub ${h.id}`);
    for (const h of n.hubs) expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
    const after = await queues(survivors[0]!);
    expect(after.find((q) => q.name === ingress)!.leader).not.toBe(leader);
  }, 90_000);
});
