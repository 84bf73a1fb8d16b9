// A hub's place on the broker: its connection (with its queues and the network's broadcast set up
// after every reconnect), a journaled publisher, and for each neighbour on another broker a
// connection and publisher of its own (the far end of that neighbour's link). Everything it opens
// goes on the caller's resource stack, so a failed start or a stop closes it in reverse.
import fs from 'node:fs';
import type { Logger } from 'pino';
import { fail, ok, type Result } from '../errors.js';
import { brokerNodes, redactUrl, sameBroker, type Config, type HubConfig } from '../config.js';
import type { ResourceStack } from '../resource-stack.js';
import { connectBus, type BusConnection, type BusTls } from './connection.js';
import { assertBroadcast, assertReplicaQueue, replicaQueue, trustQueue } from './broadcast.js';
import { journaled } from './journal.js';
import { createPublisher, type Publisher } from './publisher.js';
import { assertTopology, ensureInbound, hubQueues } from './topology.js';
import { consume, type Consumer } from './consumer.js';
import { LedgerUnavailable } from '../ledger/store.js';
import { startLink } from './link.js';
import type { HubPlan } from './plan.js';

export interface HubBus {
  /** The first of the broker's nodes (they share one vhost, which is what queue stats need). */
  brokerUrl: string;
  conn: BusConnection;
  publisher: Publisher;
  /** Neighbours on this broker (messages go straight into their ingress). */
  direct: string[];
  /** Neighbours on another broker, each with its connection and publisher there. */
  remote: Map<string, { conn: BusConnection; publisher: Publisher }>;
}

export async function openHubBus(opts: {
  config: Readonly<Config>; hub: HubConfig; replica: string; plan: HubPlan;
  clock: () => Date; log: Logger; opened: ResourceStack;
  /**
   * The other hubs of the network, whose broadcast queues the gateway to the national axis
   * ensures (those on this broker): the directory it broadcasts at start then waits for a hub
   * that has never run yet, instead of being lost.
   */
  networkHubs?: readonly string[];
  /** Told when a connection of the hub's is lost (hub.ts: a start it cuts short is tried again). */
  onLost?: () => void;
}): Promise<Result<HubBus>> {
  const { config, hub, log, opened } = opts;
  const { direct, linked, outboxFor, root } = opts.plan;
  const nodes = brokerNodes(config, hub.id);
  const connect = async (urls: readonly string[], name: string, tlsOf: Pick<HubConfig, 'amqpTls'> | undefined, component: Record<string, string>) => {
    try {
      return ok(opened.push(await connectBus(urls, log.child(component), { name, tls: tlsFor(tlsOf?.amqpTls ?? config.amqpTls), onLost: opts.onLost }), (c) => c.close()));
    } catch (err) {
      return fail('UNAVAILABLE', `hub ${hub.id}: no broker at ${urls.map(redactUrl).join(', ')}: ${(err as Error).message}`);
    }
  };
  const conn = await connect(nodes, `lgsp hub ${hub.id}`, hub, { component: 'bus' });
  if (!conn.ok) return conn;
  try {
    await conn.value.onConnect(async (model) => {
      const open = () => model.createChannel();
      await assertTopology(open, hub.id, outboxFor, direct);
      await assertBroadcast(open, hub.id, root);
      await assertReplicaQueue(open, hub.id, opts.replica, root);
      if (hub.upstream !== undefined) {
        for (const other of opts.networkHubs ?? []) if (sameBroker(brokerNodes(config, other), nodes)) await assertBroadcast(open, other, root);
      }
    });
  } catch (err) {
    // A broker user that may not create the missing topology, most often (docs/security.md).
    return fail('UNAVAILABLE', `hub ${hub.id}: cannot set up its queues: ${(err as Error).message}`);
  }
  const journal = (p: Publisher, component: Record<string, string>) =>
    opened.push(journaled(p, opts.clock, log.child({ component: 'journal', ...component })), (j) => j.close());
  const publisher = journal(await createPublisher(conn.value, log.child({ component: 'publisher' }), config.amqpConfirmTimeoutMs), {});
  const remote = new Map<string, { conn: BusConnection; publisher: Publisher }>();
  for (const n of linked) {
    const c = await connect(brokerNodes(config, n), `lgsp hub ${hub.id} link to ${n}`, config.hubs.find((h) => h.id === n), { component: 'link', neighbour: n });
    if (!c.ok) return c;
    await c.value.onConnect((model) => ensureInbound(() => model.createChannel(), n));
    remote.set(n, { conn: c.value, publisher: journal(await createPublisher(c.value, log.child({ component: 'link', neighbour: n }), config.amqpConfirmTimeoutMs), { neighbour: n }) });
  }
  return ok({ brokerUrl: nodes[0]!, conn: conn.value, publisher, direct, remote });
}

function tlsFor(t: Config['amqpTls']): BusTls | undefined {
  return t === undefined ? undefined : {
    ca: fs.readFileSync(t.caFile), ...(t.certFile ? { cert: fs.readFileSync(t.certFile) } : {}), ...(t.keyFile ? { key: fs.readFileSync(t.keyFile) } : {}),
  };
}

/** The working queues' consumers (lanes), which an operator may pause and resume, by queue. */
export async function startHubLanes(opts: {
  hubId: string; replica: string; bus: HubBus; prefetch: number; log: Logger; opened: ResourceStack;
  ingress: Handler; deliver: Handler; dead: Handler;
  /** The network's trust changes, one at a time (not a lane: it is never paused). */
  trust: (body: Buffer, headers: unknown) => Promise<void>;
  /** The same changes, from this replica's own queue: every replica hears each. */
  replicaTrust: (body: Buffer, headers: unknown) => Promise<void>;
  /** Told of every message taken (the journal's consumption marks). */
  taken: (queue: string, headers: unknown) => void;
  /** The queues whose lanes start paused (paused on every replica: admin/lanes.ts). */
  paused: ReadonlySet<string>;
}): Promise<Map<string, Consumer>> {
  const { bus, log, opened } = opts;
  const q = hubQueues(opts.hubId);
  // A ledger outage holds a message rather than fail it (bus/consumer.ts).
  const outage = (err: Error) => err instanceof LedgerUnavailable;
  opened.push(await consume(bus.conn, trustQueue(opts.hubId), 1, log.child({ component: 'trust' }), async (body, headers) => {
    await opts.trust(body, headers);
    return 'ack';
  }, undefined, outage), (c) => c.stop());
  opened.push(await consume(bus.conn, replicaQueue(opts.hubId, opts.replica), 1, log.child({ component: 'trust', replica: opts.replica }), async (body, headers) => {
    await opts.replicaTrust(body, headers);
    return 'ack';
  }, undefined, outage), (c) => c.stop());
  const lanes = new Map<string, Consumer>();
  const add = (queue: string, lane: Consumer) => lanes.set(queue, opened.push(lane, (c) => c.stop()));
  const held = (queue: string) => opts.paused.has(queue);
  add(q.ingress, await consume(bus.conn, q.ingress, opts.prefetch, log.child({ component: 'ingress' }), opts.ingress, opts.taken, outage, held(q.ingress)));
  add(q.deliver, await consume(bus.conn, q.deliver, opts.prefetch, log.child({ component: 'deliver' }), opts.deliver, opts.taken, outage, held(q.deliver)));
  add(q.dead, await consume(bus.conn, q.dead, opts.prefetch, log.child({ component: 'dead-letters' }), opts.dead, opts.taken, outage, held(q.dead)));
  for (const [n, r] of bus.remote) {
    const link = { from: opts.hubId, to: n, remote: r.publisher, acked: opts.taken, paused: held(q.outbox(n)) };
    add(q.outbox(n), await startLink(bus.conn, link, log.child({ component: 'link', neighbour: n })));
  }
  return lanes;
}

type Handler = Parameters<typeof consume>[4];
