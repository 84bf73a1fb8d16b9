// Broker users (docs/security.md, "Broker users"), made with rabbitmqctl for these tests and
// removed after, as `lgsp demo` makes them. A user per hub: the network works, and a hub's user
// can publish into its neighbours' ingress only, never another hub's queues. (The users
// `lgsp broker users` makes, docker-compose.yml's way: tests/integration/broker-users-cli.test.ts.)
import { execFileSync } from 'node:child_process';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubExchanges, hubQueues } from '../../src/bus/topology.js';
import { brokerUsersFor, createBrokerUsers, deleteBrokerUsers, provisionNetwork, withUser, type BrokerUser } from '../../src/demo/broker-users.js';
import { AMQP_URL, eventually, startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { sendAcross } from '../helpers/shared-network.js';

const hasRabbitmqctl = (() => {
  try {
    execFileSync('rabbitmqctl', ['status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // not installed, or no broker node it can reach: said in the skip message below
  }
})();

describe.skipIf(!hasRabbitmqctl)('a broker user per hub (skipped: rabbitmqctl cannot reach the broker here)', () => {
  let net: TestNetwork;
  let users: BrokerUser[] = [];
  beforeAll(async () => {
    net = await startTestNetwork({
      configFor: async (hubId, config, demo) => {
        if (users.length === 0) {
          users = brokerUsersFor(demo.hubs);
          await provisionNetwork(AMQP_URL, demo.hubs);
          const created = createBrokerUsers(users);
          if (!created.ok) throw new Error(created.error.message);
        }
        return { ...config, hubs: config.hubs.map((h) => ({ ...h, amqpUrl: withUser(AMQP_URL, users.find((u) => u.hubId === h.id)!) })) };
      },
    });
  }, 60_000);
  afterAll(async () => {
    await net?.close();
    deleteBrokerUsers(users);
  });

  it('runs the network, documents and receipts both ways, each hub on its own user', async () => {
    const { commune, docId } = await sendAcross(net, 'Mỗi trục một người dùng');
    await eventually(async () => ((await commune.request('GET', '/api/v1/edocs/sent')).json.items
      .find((i: { docId: string }) => i.docId === docId)?.recipients[0]?.delivery === 'delivered' ? true : undefined), 'the delivered receipt at the commune');
  });

  it('lets the commune hub\'s user publish only into its neighbour\'s ingress, never into another hub\'s queues', async () => {
    const [province, district, commune] = net.hubs.map((h) => h.id) as [string, string, string];
    const conn = await amqp.connect(withUser(AMQP_URL, users.find((u) => u.hubId === commune)!));
    const attempt = async (exchange: string, routingKey: string) => {
      const ch = await conn.createConfirmChannel();
      // A refusal closes the channel with ACCESS_REFUSED; waitForConfirms then only says it closed.
      let refusal = '';
      ch.on('error', (err: Error) => { refusal = err.message; });
      ch.publish(exchange, routingKey, Buffer.from('<forged/>'), { persistent: true });
      return ch.waitForConfirms().then(async () => { await ch.close(); return 'published'; }, (err: Error) => refusal || err.message);
    };
    // Allowed: its neighbour's ingress (where the district's seal check stops a forgery).
    expect(await attempt(hubExchanges(district).inbound, hubQueues(district).ingress)).toBe('published');
    // Refused: a non-neighbour's ingress, a neighbour's mailbox stage, any queue by the default exchange.
    expect(await attempt(hubExchanges(province).inbound, hubQueues(province).ingress)).toContain('ACCESS_REFUSED');
    expect(await attempt(hubExchanges(district).own, hubQueues(district).deliver)).toContain('ACCESS_REFUSED');
    expect(await attempt('', hubQueues(province).ingress)).toContain('ACCESS_REFUSED');
    expect(await attempt('', hubQueues(district).deliver)).toContain('ACCESS_REFUSED');
    // Nor read another hub's queue, nor delete one.
    const ch = await conn.createChannel();
    ch.on('error', () => { /* as above */ });
    expect(await ch.get(hubQueues(district).ingress).then(() => 'read', (err: Error) => err.message)).toContain('ACCESS_REFUSED');
    const ch2 = await conn.createChannel();
    ch2.on('error', () => { /* as above */ });
    expect(await ch2.deleteQueue(hubQueues(district).deliver).then(() => 'deleted', (err: Error) => err.message)).toContain('ACCESS_REFUSED');
    await conn.close();
    // The one forgery it could publish was dead-lettered at the district, unread as a hop message.
    await eventually(async () => ((await net.admin(1, 'GET', '/api/admin/dead-letters')).json.items.length === 1 ? true : undefined), 'the forgery in the district\'s dead letters');
  });
});

describe.skipIf(!hasRabbitmqctl)('a hub on a restricted user before its topology is provisioned (skipped: no rabbitmqctl)', () => {
  let users: BrokerUser[] = [];
  afterAll(() => deleteBrokerUsers(users));

  it('does not start, and says what is missing and what to do', async () => {
    const started = startTestNetwork({
      configFor: (hubId, config, demo) => {
        if (users.length === 0) {
          users = brokerUsersFor(demo.hubs);
          const created = createBrokerUsers(users);
          if (!created.ok) throw new Error(created.error.message);
        }
        return { ...config, hubs: config.hubs.map((h) => ({ ...h, amqpUrl: withUser(AMQP_URL, users.find((u) => u.hubId === h.id)!) })) };
      },
    });
    await expect(started).rejects.toThrow(/cannot set up its queues: the exchange lgsp\.\S+\.own does not exist and this broker user may not create it: provision the topology first/);
  });
});
