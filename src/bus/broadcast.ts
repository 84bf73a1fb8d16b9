// Broadcast between the hubs of one network on one broker: a fanout exchange named after the
// network's top hub, with a queue per hub bound to it. Trust-store changes travel this way, so one
// operator call reaches every running hub of its network, and never a hub of another network that
// happens to share the broker. Each replica of a hub has besides a queue of its own
// (replicaQueue), exclusive to its connection, so that every replica hears every change while the
// hub's durable queue keeps it for the hub when none runs. (Named `.broadcast`, not `.trust`: the top hub's own trust queue is
// `lgsp.<top>.trust`, and a broker permission pattern cannot tell an exchange from a queue.)
import { bindAll, ensure, type OpenChannel } from './topology.js';
import { closeAmqp } from './connection.js';
import type { Publisher } from './publisher.js';

export function trustExchange(networkRoot: string): string {
  return `lgsp.${networkRoot}.broadcast`;
}

export function trustQueue(hubId: string): string {
  return `lgsp.${hubId}.trust`;
}

/** A replica's own queue on the broadcast: `lgsp.<hub>.trust.<replica id>`, gone with its connection. */
export function replicaQueue(hubId: string, replica: string): string {
  return `${trustQueue(hubId)}.${replica}`;
}

/** Declares a replica's queue (exclusive, so on every reconnect anew) and binds it to the broadcast. */
export async function assertReplicaQueue(open: OpenChannel, hubId: string, replica: string, networkRoot: string): Promise<void> {
  const queue = replicaQueue(hubId, replica);
  const ch = await open();
  try {
    await ch.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    await ch.bindQueue(queue, trustExchange(networkRoot), '');
  } finally {
    await closeAmqp(ch);
  }
}

export async function assertBroadcast(open: OpenChannel, hubId: string, networkRoot: string): Promise<void> {
  const exchange = trustExchange(networkRoot);
  const queue = trustQueue(hubId);
  const made = await ensure(open, 'exchange', exchange, (ch) => ch.assertExchange(exchange, 'fanout', { durable: true }));
  const queueMade = await ensure(open, 'queue', queue, async (ch) => {
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(queue, exchange, '');
  });
  // The exchange made now, for a queue made before it (an upgrade): bind them.
  if (made && !queueMade) await bindAll(open, exchange, [queue]);
}

/** Publishes a message to every hub of the network named by `networkRoot`. */
export function broadcaster(publisher: Publisher, networkRoot: string) {
  return (body: Buffer, headers: Record<string, string>, messageId: string) =>
    publisher.publish({ exchange: trustExchange(networkRoot), queue: '', body, messageId, headers });
}
