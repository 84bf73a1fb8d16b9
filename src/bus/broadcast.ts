// Broadcast between the hubs of one broker: a fanout exchange, with a queue per hub bound to it.
// Trust-store changes travel this way, so one operator call reaches every running hub.
import type { Channel } from 'amqplib';

export const TRUST_EXCHANGE = 'lgsp.trust';

export function trustQueue(hubId: string): string {
  return `lgsp.${hubId}.trust`;
}

export async function assertBroadcast(ch: Channel, hubId: string): Promise<void> {
  await ch.assertExchange(TRUST_EXCHANGE, 'fanout', { durable: true });
  await ch.assertQueue(trustQueue(hubId), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(trustQueue(hubId), TRUST_EXCHANGE, '');
}
