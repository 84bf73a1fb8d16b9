// Broadcast between the hubs of one network on one broker: a fanout exchange named after the
// network's top hub, with a queue per hub bound to it. Trust-store changes travel this way, so one
// operator call reaches every running hub of its network, and never a hub of another network that
// happens to share the broker.
import type { Channel } from 'amqplib';

export function trustExchange(networkRoot: string): string {
  return `lgsp.${networkRoot}.trust`;
}

export function trustQueue(hubId: string): string {
  return `lgsp.${hubId}.trust`;
}

export async function assertBroadcast(ch: Channel, hubId: string, networkRoot: string): Promise<void> {
  await ch.assertExchange(trustExchange(networkRoot), 'fanout', { durable: true });
  await ch.assertQueue(trustQueue(hubId), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(trustQueue(hubId), trustExchange(networkRoot), '');
}
