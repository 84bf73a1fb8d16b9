// A link between hubs on different brokers (here: two vhosts of the local broker) goes through
// the local outbox and a link forwarder; while the neighbour is away, the outbox fills, and it
// drains when the neighbour is back. Needs rabbitmqctl to create the second vhost.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.js';
import { startHub } from '../../src/hub.js';
import { hubQueues } from '../../src/bus/topology.js';
import { AMQP_URL, eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';

const ctl = (...args: string[]) => spawnSync('rabbitmqctl', args, { encoding: 'utf8' });
const canMakeVhosts = !process.env.AMQP_URL && ctl('-q', 'status').status === 0;
const vhost = `lgsp-test-${randomBytes(4).toString('hex')}`;
const otherBroker = `${AMQP_URL}/${vhost}`;
const onOtherBroker = (config: Readonly<Config>): Readonly<Config> => ({
  ...config, hubs: config.hubs.map((h) => (h.id.startsWith('000.00.00.') ? { ...h, amqpUrl: otherBroker } : h)),
});

let n: TestNetwork;
let commune: Agent, department: Agent;

beforeAll(async () => {
  if (!canMakeVhosts) return;
  ctl('add_vhost', vhost);
  ctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  n = await startTestNetwork({ configFor: (_id, config) => onOtherBroker(config) });
  commune = n.agent('000.07.05.');
  department = n.agent('000.00.12.');
}, 60_000);
afterAll(async () => {
  if (!canMakeVhosts) return;
  await n?.close();
  ctl('delete_vhost', vhost);
});

const arrives = (a: Agent, docId: string) => eventually(async () =>
  (await a.request('GET', '/api/v1/edocs/received')).json?.items.find((i: { docId: string }) => i.docId === docId), `${docId}`, 30_000);

describe.skipIf(!canMakeVhosts)('a link across brokers', () => {
  it('carries packages both ways through the outbox and the link forwarder', async () => {
    const up = await commune.submit(n.document(commune, [department], 'Qua hai broker'));
    expect(up.status).toBe(202);
    await arrives(department, up.json.docId);
    const down = await department.submit(n.document(department, [commune], 'Chiều về'));
    await arrives(commune, down.json.docId);
  });

  it('fills the outbox while the neighbour hub is away and drains it when it is back', async () => {
    const province = n.hubs[0]!;
    await province.close();
    const docIds: string[] = [];
    for (let i = 0; i < 5; i++) docIds.push((await commune.submit(n.document(commune, [department], `Khi vắng ${i}`))).json.docId);

    // The messages wait in the province's ingress on the other broker (the link already
    // delivered them there), or in the district's outbox: nothing is lost in between.
    const conn = await amqp.connect(otherBroker);
    const ch = await conn.createChannel();
    const waiting = await eventually(async () => {
      const q = await ch.checkQueue(hubQueues(province.id).ingress);
      return q.messageCount >= 5 ? q.messageCount : undefined;
    }, 'messages waiting for the province');
    await conn.close();
    expect(waiting).toBeGreaterThanOrEqual(5);

    const config = parseConfig(n.net.config, n.net.dir, {});
    if (!config.ok) throw new Error(config.error.message);
    const restarted = await startHub(onOtherBroker(config.value), onOtherBroker(config.value).hubs[0]!, { log: pino({ level: 'silent' }), clock: () => new Date() });
    if (!restarted.ok) throw new Error(restarted.error.message);
    n.hubs[0] = restarted.value;
    const freshDepartment = n.agent('000.00.12.');
    for (const id of docIds) await arrives(freshDepartment, id);
  });
});
