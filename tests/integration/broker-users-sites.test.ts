// `lgsp broker users --hub` where a network spans two brokers (here two vhosts of the local
// RabbitMQ, as cross-broker-link.test.ts does): the province hub on one "site", the district and
// commune hubs on the other. Each site is provisioned on its own, naming its hubs; the district's
// link then reaches the province's broker as the province's user (docs/security.md, "Broker
// users"). With one LGSP_BROKER_USER_SECRET, `lgsp start` carries a document up across the link
// and its status back down, every connection by a hub's own user; no user has a permission on a
// site its hub is not on.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustExchange } from '../../src/bus/broadcast.js';
import { brokerPermissions } from '../../src/bus/topology.js';
import { buildDemoNetwork, deleteNetworkQueues, type DemoNetwork } from '../../src/demo/network.js';
import { brokerUsersFor, deleteBrokerUsers } from '../../src/demo/broker-users.js';
import { hasLocalBroker, rabbitmqctl } from '../helpers/broker-control.js';
import { makeAgent, signedDocument, signedStatus } from '../helpers/agent.js';
import { freePort } from '../helpers/free-port.js';
import { AMQP_URL, eventually, inboxItem } from '../helpers/network.js';
import { lgspAsync, tempDir } from '../helpers/tools.js';
import { startOnBrokerUsers, type NetworkProcess } from '../helpers/hub-processes.js';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';
const SECRET = randomBytes(24).toString('hex');
const VHOST = `lgsp-site-${randomBytes(4).toString('hex')}`;
const OTHER_SITE = `${AMQP_URL.replace(/\/$/, '')}/${VHOST}`;
const tmp = tempDir();
let net: DemoNetwork;
let configFile: string;
let ids: [string, string, string];
let hub: NetworkProcess | undefined;

const hubUrl = (hubId: string) => `http://127.0.0.1:${net.hubs.find((h) => h.id === hubId)!.port}`;
const agent = (prefix: string) => { const a = net.agencies.find((x) => x.code.startsWith(prefix))!; return makeAgent(a, hubUrl(a.hubId)); };
const admin = (amqpUrl: string) => ({ LGSP_BROKER_USER_SECRET: SECRET, LGSP_BROKER_ADMIN_URL: amqpUrl, RABBITMQ_MANAGEMENT_URL: MANAGEMENT_URL });
/** Each user's permissions on a vhost, as rabbitmqctl lists them. */
const permissionsOn = async (vhost: string) => new Map((await rabbitmqctl('list_permissions', '-p', vhost, '--no-table-headers')).split('\n')
  .filter((l) => l.startsWith('lgsp-')).map((l) => { const [user, configure, write, read] = l.split('\t'); return [user!, { configure, write, read }]; }));

describe.skipIf(!(await hasLocalBroker()))('lgsp broker users, one site at a time (skipped: no local broker for rabbitmqctl)', () => {
  beforeAll(async () => {
    const province = `W${10 + Math.floor(Math.random() * 90)}`; // W: no other test's letter
    net = await buildDemoNetwork({ dir: tmp.dir, province, ports: [await freePort(), await freePort(), await freePort()], amqpUrl: AMQP_URL, now: new Date() });
    ids = net.hubs.map((h) => h.id) as [string, string, string];
    const raw = net.config as { hubs: { id: string; amqpUrl?: string }[] };
    // The province hub on the other site; the file's URLs carry guest, which the secret replaces.
    configFile = path.join(tmp.dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...raw, hubs: raw.hubs.map((h) => (h.id === ids[0] ? { ...h, amqpUrl: OTHER_SITE } : h)) }));
    await rabbitmqctl('add_vhost', VHOST);
    await rabbitmqctl('set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*');
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    if (net !== undefined) {
      await deleteNetworkQueues(AMQP_URL, net);
      deleteBrokerUsers(brokerUsersFor(net.hubs));
    }
    await rabbitmqctl('delete_vhost', VHOST).catch((err: Error) => console.error(err.message));
    tmp.cleanup();
  }, 60_000);

  it('provisions each site with the hubs it names, counting as neighbours only those beside them', async () => {
    const [province, district, commune] = ids;
    const here = await lgspAsync(admin(AMQP_URL), 'broker', 'users', '--config', configFile, '--hub', district, '--hub', commune, '--json');
    expect(here.status, here.stdout + here.stderr).toBe(0);
    const there = await lgspAsync(admin(OTHER_SITE), 'broker', 'users', '--config', configFile, '--hub', province, '--json');
    expect(there.status, there.stdout + there.stderr).toBe(0);
    expect(JSON.parse(there.stdout)).toMatchObject({ ok: true, vhost: VHOST, users: [{ hubId: province, user: `lgsp-${province}` }] });

    // The district's neighbour beside it is the commune; the province, on the other site, is
    // reached through the district's outbox and link, and the province has no neighbour on its site.
    const onThisSite = await permissionsOn('/');
    expect(onThisSite.get(`lgsp-${district}`)).toEqual(brokerPermissions(district, [commune], trustExchange(province)));
    expect(onThisSite.get(`lgsp-${commune}`)).toEqual(brokerPermissions(commune, [district], trustExchange(province)));
    expect(onThisSite.has(`lgsp-${province}`)).toBe(false);
    const onOtherSite = await permissionsOn(VHOST);
    expect(onOtherSite.get(`lgsp-${province}`)).toEqual(brokerPermissions(province, [], trustExchange(province)));
    expect([...onOtherSite.keys()]).toEqual([`lgsp-${province}`]);
  }, 60_000);

  it('lgsp start with the secret carries a document across the sites and its status back, each hub as its own user', async () => {
    hub = await startOnBrokerUsers(configFile, SECRET, ids.map(hubUrl));

    const commune = agent('000.07.05.');
    const department = agent('000.00.12.');
    const document = signedDocument(commune, [department], 'Qua hai nơi đặt trục');
    const sent = await commune.submit(document);
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    await inboxItem(department, sent.json.docId, 30_000);
    const documentId = /<edXML:DocumentId>([^<]+)</.exec(document.toString('utf8'))![1]!;
    const answered = await department.submit(signedStatus(department, '03', { OrganId: commune.agency.code, DocumentId: documentId }));
    expect(answered.status, JSON.stringify(answered.json)).toBe(202);
    await eventually(async () => {
      const item = (await commune.request('GET', '/api/v1/edocs/sent')).json.items.find((i: { docId: string }) => i.docId === sent.json.docId);
      return item?.recipients[0]?.status === '03' ? true : undefined;
    }, 'the status back at the commune', 30_000);

    // Who is connected where: on the province's site only its user (its hub, and the district's
    // link to it); on this site the district's and the commune's (and the province's link down).
    const connections = async (vhost: string) => (await rabbitmqctl('list_connections', 'vhost', 'user', 'client_properties', '--no-table-headers'))
      .split('\n').filter((l) => l.startsWith(`${vhost}\t`) && ids.some((id) => l.includes(`lgsp hub ${id}`)))
      .map((l) => `${l.split('\t')[1]} ${/lgsp hub [^"]+/.exec(l)![0]}`).sort();
    expect(await connections(VHOST)).toEqual([`lgsp-${ids[0]} lgsp hub ${ids[0]}`, `lgsp-${ids[0]} lgsp hub ${ids[1]} link to ${ids[0]}`]);
    expect(await connections('/')).toEqual([
      `lgsp-${ids[1]} lgsp hub ${ids[0]} link to ${ids[1]}`, `lgsp-${ids[1]} lgsp hub ${ids[1]}`, `lgsp-${ids[2]} lgsp hub ${ids[2]}`,
    ].sort());
  }, 120_000);
});
