// The consumer side of the idempotent receiver: manual acks, a prefetch window, and a handler
// that decides while this adapter acts. 'retry' returns the message to its queue (the quorum
// delivery limit stops a poison message from coming back forever). A handler that fails because
// something it needs is away (the ledger's server: `outage`) is not the message's fault: the
// message is held, unacknowledged, and handled again with backoff until it succeeds. A returned
// message would count toward its delivery limit (quorum queues count every return), and an outage
// of a minute would dead-letter healthy packages. The prefetch window bounds what is held: once
// it is full the broker gives this consumer nothing more, and work resumes by itself.
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { closeAmqp, type BusConnection } from './connection.js';

export type Disposition = 'ack' | 'retry';

const OUTAGE_RETRY_FIRST_MS = 250;
const OUTAGE_RETRY_MAX_MS = 5_000;

export interface Stoppable { stop(): Promise<void> }

/** A queue's consumer: an administrator may pause it (to inspect a lane) and resume it. */
export interface Consumer extends Stoppable {
  pause(): Promise<void>;
  resume(): Promise<void>;
  paused(): boolean;
}

export async function consume(
  conn: BusConnection, queue: string, prefetch: number, log: Logger,
  handle: (body: Buffer, headers: unknown, redelivered: boolean) => Promise<Disposition>,
  /** Told of every message acked (the journal's consumption marks). */
  acked?: (queue: string, headers: unknown) => void,
  /** Whether a handler's error is an outage of something it needs (held and retried, never returned). */
  outage: (err: Error) => boolean = () => false,
  /** Paused from the start (an operator paused this lane on every replica of the hub: admin/lanes.ts). */
  startPaused = false,
): Promise<Consumer> {
  let channel: Channel | null = null;
  let tag: string | null = null;
  let stopping = false;
  let paused = startPaused;
  const inFlight = new Set<Promise<void>>();
  // Messages this consumer was given, and those it finished (acked or returned): equal after a drain.
  let delivered = 0;
  let finished = 0;

  let held = 0;
  const handleThroughOutages = async (msg: ConsumeMessage): Promise<Disposition> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const disposition = await handle(msg.content, msg.properties.headers, msg.fields.redelivered);
        if (attempt > 0 && --held === 0) log.info({ queue }, 'the outage is over: messages flow again');
        return disposition;
      } catch (err) {
        // Stopping, the message goes back (the stop cannot wait out an outage).
        if (!(err instanceof Error) || !outage(err) || stopping) {
          if (attempt > 0) held--;
          throw err;
        }
        if (attempt === 0 && held++ === 0) log.warn({ queue, err: err.message }, 'a dependency is unreachable: holding messages and retrying them, taking no more');
        await new Promise((resolve) => setTimeout(resolve, Math.min(OUTAGE_RETRY_MAX_MS, OUTAGE_RETRY_FIRST_MS * 2 ** attempt)));
      }
    }
  };

  const start = async (ch: Channel) => {
    const consumer = await ch.consume(queue, (msg: ConsumeMessage | null) => {
      if (msg === null) return; // cancelled by the broker; the next reconnect consumes again
      // A message someone took and did not ack: after a crash that is recovery. After a clean stop
      // only one kind is expected: a quorum queue returns a message that was on its way to a
      // consumer being cancelled (RabbitMQ's cancel race; x-delivery-count 1, never seen here).
      if (msg.fields.redelivered) {
        log.info({ queue, redelivered: true, deliveryCount: (msg.properties.headers ?? {})['x-delivery-count'] }, 'message redelivered');
      }
      delivered++;
      const work = handleThroughOutages(msg)
        .then((d) => {
          if (d === 'retry') return ch.nack(msg, false, true);
          ch.ack(msg);
          acked?.(queue, msg.properties.headers);
        })
        .catch((err: Error) => {
          log.error({ err: err.message, queue }, 'handler failed; message returned to its queue');
          try {
            ch.nack(msg, false, true);
          } catch (nackErr) {
            // The channel is gone: the broker returns the message to the queue by itself.
            log.warn({ err: (nackErr as Error).message, queue }, 'could not nack on a closed channel');
          }
        })
        .finally(() => {
          finished++;
          inFlight.delete(work);
        });
      inFlight.add(work);
    }, { noAck: false });
    tag = consumer.consumerTag;
  };

  await conn.onConnect(async (model: ChannelModel) => {
    if (stopping) return;
    const ch = await model.createChannel();
    ch.on('error', (err: Error) => log.warn({ err: err.message, queue }, 'consumer channel error'));
    ch.on('close', () => { if (channel === ch) { channel = null; tag = null; } });
    await ch.prefetch(prefetch);
    channel = ch;
    if (!paused) await start(ch);
  });

  // Stop the deliveries first, then finish (and ack) everything delivered, including what
  // arrived until the cancel took effect: a message left unacked comes back redelivered.
  const cancelAndDrain = async (ch: Channel | null) => {
    if (ch !== null && tag !== null) {
      try {
        await ch.cancel(tag);
      } catch (err) {
        log.warn({ err: (err as Error).message, queue }, 'could not cancel the consumer: its channel is gone, and the broker requeues what it held');
      }
      tag = null;
    }
    while (inFlight.size > 0) await Promise.all(inFlight);
  };

  return {
    paused: () => paused,
    // Paused, the queue keeps (and keeps receiving) its messages; what is in hand is finished.
    async pause() {
      paused = true;
      await cancelAndDrain(channel);
      log.info({ queue }, 'consumer paused');
    },
    async resume() {
      paused = false;
      if (channel !== null && tag === null) await start(channel);
      log.info({ queue }, 'consumer resumed');
    },
    async stop() {
      stopping = true;
      const ch = channel;
      await cancelAndDrain(ch);
      channel = null;
      if (ch !== null) await closeAmqp(ch);
      log.info({ queue, delivered, finished }, 'consumer stopped');
    },
  };
}
