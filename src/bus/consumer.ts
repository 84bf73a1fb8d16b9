// The consumer side of the idempotent receiver: manual acks, a prefetch window, and a handler
// that decides while this adapter acts. 'retry' returns the message to its queue (the quorum
// delivery limit stops a poison message from coming back forever).
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { BusConnection } from './connection.js';

export type Disposition = 'ack' | 'retry';

export interface Stoppable { stop(): Promise<void> }

export async function consume(
  conn: BusConnection, queue: string, prefetch: number, log: Logger,
  handle: (body: Buffer, headers: unknown, redelivered: boolean) => Promise<Disposition>,
): Promise<Stoppable> {
  let channel: Channel | null = null;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();

  await conn.onConnect(async (model: ChannelModel) => {
    if (stopping) return;
    const ch = await model.createChannel();
    ch.on('error', (err: Error) => log.warn({ err: err.message, queue }, 'consumer channel error'));
    ch.on('close', () => { if (channel === ch) channel = null; });
    await ch.prefetch(prefetch);
    channel = ch;
    await ch.consume(queue, (msg: ConsumeMessage | null) => {
      if (msg === null) return; // cancelled by the broker; the next reconnect consumes again
      const work = handle(msg.content, msg.properties.headers, msg.fields.redelivered)
        .then((d) => (d === 'ack' ? ch.ack(msg) : ch.nack(msg, false, true)))
        .catch((err: Error) => {
          log.error({ err: err.message, queue }, 'handler failed; message returned to its queue');
          try {
            ch.nack(msg, false, true);
          } catch (nackErr) {
            // The channel is gone: the broker returns the message to the queue by itself.
            log.warn({ err: (nackErr as Error).message, queue }, 'could not nack on a closed channel');
          }
        })
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    }, { noAck: false });
  });

  return {
    async stop() {
      stopping = true;
      await Promise.all(inFlight); // finish (and ack) what is in hand before closing
      const ch = channel;
      channel = null;
      if (ch !== null) await ch.close();
    },
  };
}
