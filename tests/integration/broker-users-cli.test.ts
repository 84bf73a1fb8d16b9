// `lgsp broker users` (the step docker-compose.yml runs before the hubs) against the real local
// RabbitMQ and its management API, for a fresh three-hub network: it declares the queues and
// makes a user per hub with the permissions brokerPermissions gives; `lgsp start` with the same
// LGSP_BROKER_USER_SECRET then connects each hub as its own user (in place of the file's guest)
// and carries a document end to end; the commune hub's credentials cannot reach the province's
// queues; a refused or unreachable management API exits 2, UNAVAILABLE, changes nothing and never
// shows a password. Queues and users are removed after.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerPasswordOf, withCredentials } from '../../src/config.js';
import { trustExchange } from '../../src/bus/broadcast.js';
import { brokerPermissions, hubExchanges, hubQueues } from '../../src/bus/topology.js';
import { buildDemoNetwork, deleteNetworkQueues, type DemoNetwork } from '../../src/demo/network.js';
import { brokerUsersFor, deleteBrokerUsers } from '../../src/demo/broker-users.js';
import { hasLocalBroker, rabbitmqctl } from '../helpers/broker-control.js';
import { makeAgent, signedDocument } from '../helpers/agent.js';
import { freePort } from '../helpers/free-port.js';
import { AMQP_URL, inboxItem } from '../helpers/network.js';
import { lgspAsync, tempDir } from '../helpers/tools.js';
import { startOnBrokerUsers, type NetworkProcess } from '../helpers/hub-processes.js';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';
const SECRET = randomBytes(24).toString('hex');
const ADMIN = { LGSP_BROKER_USER_SECRET: SECRET, LGSP_BROKER_ADMIN_URL: AMQP_URL, RABBITMQ_MANAGEMENT_URL: MANAGEMENT_URL };
const tmp = tempDir();
let net: DemoNetwork;
let configFile: string;
let ids: [string, string, string];
let hub: NetworkProcess | undefined;

const usersOnBroker = async () => (await rabbitmqctl('list_users', '--no-table-headers')).split('\n').map((l) => l.split('\t')[0]!);
const queuesOnBroker = async (province: string) => (await rabbitmqctl('list_queues', 'name', '--no-table-headers')).split('\n').filter((q) => q.includes(`.${province}.`));
const hubUrl = (hubId: string) => `http://127.0.0.1:${net.hubs.find((h) => h.id === hubId)!.port}`;
const agent = (prefix: string) => { const a = net.agencies.find((x) => x.code.startsWith(prefix))!; return makeAgent(a, hubUrl(a.hubId)); };

describe.skipIf(!(await hasLocalBroker()))('lgsp broker users (skipped: no local broker for rabbitmqctl)', () => {
  beforeAll(async () => {
    const province = `U${10 + Math.floor(Math.random() * 90)}`;
    net = await buildDemoNetwork({ dir: tmp.dir, province, ports: [await freePort(), await freePort(), await freePort()], amqpUrl: AMQP_URL, now: new Date() });
    ids = net.hubs.map((h) => h.id) as [string, string, string];
    configFile = path.join(tmp.dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify(net.config));
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    if (net !== undefined) {
      await deleteNetworkQueues(AMQP_URL, net);
      deleteBrokerUsers(brokerUsersFor(net.hubs)); // the same names: lgsp-<hub id>
    }
    tmp.cleanup();
  }, 60_000);

  it('refuses a wrong or unreachable management API or a missing secret: exit 2, no password shown, nothing changed', async () => {
    const wrong = 'Wr0ng-Adm1n-Pa55word';
    const refused = await lgspAsync({ ...ADMIN, RABBITMQ_MANAGEMENT_URL: withCredentials(MANAGEMENT_URL, 'guest', wrong) }, 'broker', 'users', '--config', configFile, '--json');
    expect(refused.status, refused.stdout + refused.stderr).toBe(2);
    expect(JSON.parse(refused.stdout)).toEqual({ ok: false, code: 'UNAVAILABLE',
      message: `RabbitMQ's management API at http://***@${new URL(MANAGEMENT_URL).host}/ refused the administrator's credentials (GET /api/whoami: 401, Login failed)` });
    // The same password given apart from the URLs.
    const apart = await lgspAsync({ ...ADMIN, RABBITMQ_MANAGEMENT_URL: withCredentials(MANAGEMENT_URL, 'guest', ''), LGSP_BROKER_ADMIN_PASSWORD: wrong }, 'broker', 'users', '--config', configFile);
    expect(apart.status).toBe(2);
    expect(apart.stderr).toMatch(/^UNAVAILABLE: RabbitMQ's management API at .* refused the administrator's credentials/);
    const nobody = await freePort(); // free, so nothing listens there
    const closed = await lgspAsync({ ...ADMIN, RABBITMQ_MANAGEMENT_URL: `http://guest:${wrong}@127.0.0.1:${nobody}` }, 'broker', 'users', '--config', configFile);
    expect(closed.status).toBe(2);
    expect(closed.stderr).toMatch(new RegExp(`^UNAVAILABLE: RabbitMQ's management API at http://\\*\\*\\*@127\\.0\\.0\\.1:${nobody} does not answer \\(GET /api/whoami\\): .*ECONNREFUSED`));
    const noSecret = await lgspAsync({ ...ADMIN, LGSP_BROKER_USER_SECRET: '' }, 'broker', 'users', '--config', configFile, '--json');
    expect(noSecret.status).toBe(2);
    expect(JSON.parse(noSecret.stdout)).toMatchObject({ ok: false, code: 'USAGE', message: expect.stringMatching(/^LGSP_BROKER_USER_SECRET: /) });
    for (const r of [refused, apart, closed, noSecret]) {
      expect(r.stdout + r.stderr).not.toContain(wrong);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    }
    const users = await usersOnBroker();
    for (const id of ids) expect(users).not.toContain(`lgsp-${id}`);
    expect(await queuesOnBroker(ids[0].split('.')[3]!)).toEqual([]);
  }, 60_000);

  it('declares the queues and makes a user per hub, with the patterns brokerPermissions gives; again, it updates them', async () => {
    const [province, district, commune] = ids;
    const expected = {
      [province]: brokerPermissions(province, [district], trustExchange(province)),
      [district]: brokerPermissions(district, [commune, province], trustExchange(province)),
      [commune]: brokerPermissions(commune, [district], trustExchange(province)),
    };
    // The second time as docker-compose.yml runs it: the administrator's password apart from the URLs.
    const password = decodeURIComponent(new URL(AMQP_URL).password);
    const composeShaped = { ...ADMIN, LGSP_BROKER_ADMIN_URL: withCredentials(AMQP_URL, 'guest', ''), RABBITMQ_MANAGEMENT_URL: withCredentials(MANAGEMENT_URL, 'guest', ''), LGSP_BROKER_ADMIN_PASSWORD: password };
    for (const env of [ADMIN, composeShaped]) {
      const r = await lgspAsync(env, 'broker', 'users', '--config', configFile, '--json');
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ ok: true, broker: expect.stringMatching(/^amqp:\/\/\*\*\*@/), vhost: '/',
        users: ids.map((id) => ({ hubId: id, user: `lgsp-${id}`, permissions: expected[id] })) });
      expect(r.stdout).not.toContain(SECRET);
      for (const id of ids) expect(r.stdout).not.toContain(brokerPasswordOf(SECRET, id));
    }
    const listed = (await rabbitmqctl('list_permissions', '-p', '/', '--no-table-headers')).split('\n').map((l) => l.split('\t'));
    for (const id of ids) {
      const p = expected[id]!;
      expect(listed.find((l) => l[0] === `lgsp-${id}`), id).toEqual([`lgsp-${id}`, p.configure, p.write, p.read]);
    }
    expect(await queuesOnBroker(province.split('.')[3]!)).toEqual(expect.arrayContaining([hubQueues(province).ingress, hubQueues(commune).deliver, `lgsp.${district}.trust`]));
  }, 60_000);

  it('lgsp start with the secret connects each hub as its own user and carries a document through the three hubs', async () => {
    hub = await startOnBrokerUsers(configFile, SECRET, ids.map(hubUrl));
    // Every connection of these hubs is by its own user, none by the file's guest.
    const connections = (await rabbitmqctl('list_connections', 'user', 'client_properties', '--no-table-headers')).split('\n')
      .filter((l) => ids.some((id) => l.includes(`lgsp hub ${id}`)));
    for (const id of ids) expect(connections.filter((l) => l.includes(`lgsp hub ${id}`)).map((l) => l.split('\t')[0])).toEqual([`lgsp-${id}`]);

    const commune = agent('000.07.05.');
    const department = agent('000.00.12.');
    const sent = await commune.submit(signedDocument(commune, [department], 'Qua người dùng riêng của từng trục'));
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    await inboxItem(department, sent.json.docId, 30_000);
    // At trace level, the hubs logged neither the secret nor any password derived from it.
    expect(hub!.output()).not.toContain(SECRET);
    for (const id of ids) expect(hub!.output()).not.toContain(brokerPasswordOf(SECRET, id));
  }, 90_000);

  it('the commune hub\'s credentials can publish into its neighbour\'s ingress, never into the province\'s queues, nor declare another hub\'s queue', async () => {
    const [province, district, commune] = ids;
    const conn = await amqp.connect(withCredentials(AMQP_URL, `lgsp-${commune}`, brokerPasswordOf(SECRET, commune)));
    try {
      const attempt = async (act: (ch: amqp.ConfirmChannel) => Promise<unknown>) => {
        const ch = await conn.createConfirmChannel();
        // A refusal closes the channel with ACCESS_REFUSED; the pending call then only says it closed.
        let refusal = '';
        ch.on('error', (err: Error) => { refusal = err.message; });
        return act(ch).then(async () => { await ch.close(); return 'done'; }, (err: Error) => refusal || err.message);
      };
      const publish = (exchange: string, queue: string) => attempt((ch) => { ch.publish(exchange, queue, Buffer.from('<forged/>'), { persistent: true }); return ch.waitForConfirms(); });
      // Allowed, the control: its neighbour's ingress (where the district's seal check stops a forgery).
      expect(await publish(hubExchanges(district).inbound, hubQueues(district).ingress)).toBe('done');
      // Refused: the province hub's deliver queue and ingress, by its exchanges or the default one.
      expect(await publish(hubExchanges(province).own, hubQueues(province).deliver)).toContain('ACCESS_REFUSED');
      expect(await publish(hubExchanges(province).inbound, hubQueues(province).ingress)).toContain('ACCESS_REFUSED');
      expect(await publish('', hubQueues(province).deliver)).toContain('ACCESS_REFUSED');
      // Refused: declaring a queue of another hub, new or existing.
      expect(await attempt((ch) => ch.assertQueue(`lgsp.${province}.out.forged`, { durable: true }))).toContain('ACCESS_REFUSED');
      expect(await attempt((ch) => ch.assertQueue(hubQueues(district).dead, { durable: true, arguments: { 'x-queue-type': 'quorum' } }))).toContain('ACCESS_REFUSED');
    } finally {
      await conn.close();
    }
  }, 30_000);
});
