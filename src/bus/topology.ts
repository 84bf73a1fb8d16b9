// The per-hub topology of ARCHITECTURE.md, as data: queue names and arguments, asserted on every
// (re)connect. All queues are quorum queues (replicated, Raft); a message delivered more than
// DELIVERY_LIMIT times (a poison message) is dead-lettered to `dead` instead of blocking the lane.
// Beside its queues each hub has a `journal` stream: a wire tap that records every message put
// into the hub's queues and every one taken out, so that administrators can browse a queue
// without touching its messages (bus/journal.ts).
//
// Nothing is published through RabbitMQ's default exchange to a hub's queue: RabbitMQ checks a
// publish against the exchange only, so a user that may publish there may publish into any
// queue. Each hub has two direct exchanges instead, routing by queue name: `lgsp.<hub>.in` to its
// ingress and journal (what its neighbours write) and `lgsp.<hub>.own` to its other queues (what
// only it writes). A broker user can then be granted exactly the exchanges it needs
// (brokerPermissions). What exists is only checked, which needs no permission; what is missing is
// declared, so a hub on a restricted user runs on a topology an administrator provisioned.
import type { Channel } from 'amqplib';
import { NATIONAL } from '../routing/router.js';
import { trustQueue } from './broadcast.js';
import { closeAmqp } from './connection.js';

export const DELIVERY_LIMIT = 5;

export interface HubQueues {
  ingress: string;
  deliver: string;
  dead: string;
  journal: string;
  outbox: (neighbour: string) => string;
}

export function hubQueues(hubId: string): HubQueues {
  const prefix = `lgsp.${hubId}`;
  return {
    ingress: `${prefix}.ingress`,
    deliver: `${prefix}.deliver`,
    dead: `${prefix}.dead`,
    journal: `${prefix}.journal`,
    outbox: (neighbour) => `${prefix}.out.${neighbour}`,
  };
}

// A hub id is an agency code, four dot-separated parts (DDD.DD.DD.XNN).
const HUB = '[^.]+\\.[^.]+\\.[^.]+\\.[^.]+';
// An outbox leads to a neighbour hub, or (`out.national`) to the national axis.
const OUTBOX = `out\\.(?:${HUB}|${NATIONAL})`;
const WORKING_QUEUE = new RegExp(`^lgsp\\.(${HUB})\\.(ingress|deliver|dead|${OUTBOX})$`);
const HUB_QUEUE = new RegExp(`^lgsp\\.(${HUB})\\.(ingress|deliver|dead|journal|${OUTBOX})$`);

/** The hub that owns a working queue (ingress, deliver, dead, an outbox), or null for any other name. */
export function ownerOf(queue: string): string | null {
  return WORKING_QUEUE.exec(queue)?.[1] ?? null;
}

export function hubExchanges(hubId: string): { inbound: string; own: string } {
  return { inbound: `lgsp.${hubId}.in`, own: `lgsp.${hubId}.own` };
}

/** Where a publish to `queue` goes: a hub's queue through that hub's exchange; any other through the default exchange. */
export function addressOf(queue: string): { exchange: string; routingKey: string } {
  const owned = HUB_QUEUE.exec(queue);
  if (owned === null) return { exchange: '', routingKey: queue };
  const x = hubExchanges(owned[1]!);
  return { exchange: owned[2] === 'ingress' || owned[2] === 'journal' ? x.inbound : x.own, routingKey: queue };
}

// The journal keeps entries (a few hundred bytes each, never package bytes) for a week or up to
// JOURNAL_MAX_BYTES, whichever comes first; a message older than that is not browsable.
export const JOURNAL_MAX_BYTES = 256 * 1024 * 1024;
const journal = {
  durable: true,
  arguments: {
    'x-queue-type': 'stream', 'x-max-age': '7D', 'x-max-length-bytes': JOURNAL_MAX_BYTES, 'x-stream-max-segment-size-bytes': 16 * 1024 * 1024,
  },
};

/** Opens a channel on the connection being set up. */
export type OpenChannel = () => Promise<Channel>;

/**
 * Ensures a hub's queues and exchanges: `outboxFor` are the neighbours on other brokers (an
 * outbox and a link each); `directTo` are neighbours on this broker, whose ingress this hub
 * publishes to straight away and therefore ensures too, so that nothing is ever published into a
 * queue not there yet.
 */
export async function assertTopology(open: OpenChannel, hubId: string, outboxFor: readonly string[], directTo: readonly string[] = []): Promise<void> {
  const q = hubQueues(hubId);
  const x = hubExchanges(hubId);
  const ownQueues = [q.dead, q.deliver, ...outboxFor.map(q.outbox)];
  const made = await ensure(open, 'exchange', x.own, (ch) => ch.assertExchange(x.own, 'direct', { durable: true }));
  for (const name of ownQueues) {
    await ensure(open, 'queue', name, async (ch) => {
      await ch.assertQueue(name, name === q.dead ? deadQueue : workingQueue(hubId));
      await ch.bindQueue(name, x.own, name);
    });
  }
  // An exchange made now, beside queues made before it (a neighbour made the dead queue, or an
  // upgrade from publishing through the default exchange).
  if (made) await bindAll(open, x.own, ownQueues);
  await ensureInbound(open, hubId);
  for (const n of directTo) await ensureInbound(open, n);
}

/** A hub's ingress and journal, and the exchange its neighbours reach them through (with its dead queue, the ingress's dead-letter target). */
export async function ensureInbound(open: OpenChannel, hubId: string): Promise<void> {
  const q = hubQueues(hubId);
  const { inbound } = hubExchanges(hubId);
  const made = await ensure(open, 'exchange', inbound, (ch) => ch.assertExchange(inbound, 'direct', { durable: true }));
  await ensure(open, 'queue', q.dead, (ch) => ch.assertQueue(q.dead, deadQueue));
  for (const [name, options] of [[q.journal, journal], [q.ingress, workingQueue(hubId)]] as const) {
    await ensure(open, 'queue', name, async (ch) => {
      await ch.assertQueue(name, options);
      await ch.bindQueue(name, inbound, name);
    });
  }
  if (made) await bindAll(open, inbound, [q.journal, q.ingress]);
}

/**
 * Declares a queue or exchange the broker does not have. The check is a passive declare, which
 * needs no broker permission; a missing resource closes the checking channel (404), so the
 * declaration opens another. Returns whether it declared.
 */
export async function ensure(open: OpenChannel, kind: 'queue' | 'exchange', name: string, declare: (ch: Channel) => Promise<unknown>): Promise<boolean> {
  const probe = await quietChannel(open);
  const check = kind === 'queue' ? probe.ch.checkQueue(name) : probe.ch.checkExchange(name);
  const found = await check.then(() => true, (err: Error) => {
    if (!/NOT[_-]FOUND/.test(err.message)) throw err;
    return false;
  });
  if (found) {
    await probe.close();
    return false;
  }
  const ch = await quietChannel(open);
  try {
    await declare(ch.ch);
  } catch (err) {
    if (!/ACCESS[_-]REFUSED/.test((err as Error).message)) throw err;
    throw new Error(`the ${kind} ${name} does not exist and this broker user may not create it: provision the topology first (docs/security.md, "Broker users")`);
  } finally {
    await ch.close();
  }
  return true;
}

/** Binds each queue to `exchange` by its own name (the routing key a direct exchange routes on; a fanout ignores it). */
export async function bindAll(open: OpenChannel, exchange: string, queues: readonly string[]): Promise<void> {
  const ch = await quietChannel(open);
  try {
    for (const name of queues) await ch.ch.bindQueue(name, exchange, name);
  } finally {
    await ch.close();
  }
}

/** A channel whose failures surface as the rejected call that caused them, closed only if still open. */
async function quietChannel(open: OpenChannel): Promise<{ ch: Channel; close(): Promise<void> }> {
  const ch = await open();
  let closed = false;
  // The broker closing the channel (404, 403) rejects the pending call, which the caller handles.
  ch.on('error', () => { closed = true; });
  ch.on('close', () => { closed = true; });
  return { ch, close: async () => { if (!closed) await closeAmqp(ch); } };
}

const deadQueue = { durable: true, arguments: { 'x-queue-type': 'quorum' } };

function workingQueue(hubId: string) {
  return {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': hubQueues(hubId).dead,
      // at-least-once dead-lettering needs reject-publish overflow: nothing dropped on the way.
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  };
}

/** Removes a hub's queues (demo restarts and test clean-up; never on a live hub). */
export async function deleteTopology(ch: Channel, hubId: string, neighbours: readonly string[]): Promise<void> {
  const q = hubQueues(hubId);
  // Deleting a queue that is not there is no error: the national outbox goes too, where there is one.
  for (const name of [q.ingress, q.deliver, q.dead, q.journal, trustQueue(hubId), ...[...neighbours, NATIONAL].map(q.outbox)]) await ch.deleteQueue(name);
  for (const name of Object.values(hubExchanges(hubId))) await ch.deleteExchange(name);
}

/** A broker user's permission patterns (rabbitmqctl set_permissions: configure, write, read). */
export interface BrokerPermissions { configure: string; write: string; read: string }

/**
 * What a hub needs on a provisioned broker (provisionNetwork declares the topology): configure
 * only on its replicas' own broadcast queues (each replica declares one on connecting), write on
 * its own two exchanges, its neighbours' inbound exchanges, its network's broadcast exchange and
 * its replica queues (binding), read on its own queues and on the broadcast exchange (binding). It can reach its neighbours only through their
 * ingress (and the journal beside it), and no other hub at all.
 */
export function brokerPermissions(hubId: string, neighbours: readonly string[], broadcast: string): BrokerPermissions {
  const re = (s: string) => s.replaceAll('.', '\\.');
  const x = hubExchanges(hubId);
  const writes = [x.own, x.inbound, ...neighbours.map((n) => hubExchanges(n).inbound), broadcast];
  const replicas = `${re(`lgsp.${hubId}.trust.`)}[0-9a-f]+`;
  return {
    configure: `^${replicas}$`,
    write: `^(${writes.map(re).join('|')}|${replicas})$`,
    read: `^(${re(`lgsp.${hubId}.`)}(ingress|deliver|dead|journal|trust|out\\..+)|${replicas}|${re(broadcast)})$`,
  };
}
