// Publishing with publisher confirms: publish() resolves only once the broker has the message
// (persistent, on a quorum queue). Confirms are windowed, not awaited one at a time: any number
// of publishes may be in flight. Messages unconfirmed when the channel dies are published again
// on the next channel (consumers are idempotent, so a repeat is harmless). A broker nack is not
// a verdict on the message: a quorum queue nacks while it has no reachable leader, after a
// cluster node dies, and RabbitMQ 3.10 goes on nacking on a channel that published there during
// the election even once a new leader is in place. So a nack renews the channel, after a pause,
// and everything unconfirmed goes again on the new one, until the confirm timeout.
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import { closeAmqp, type BusConnection } from './connection.js';
import { addressOf } from './topology.js';

export interface Outgoing {
  /** A queue (a hub's through that hub's exchange: topology.ts addressOf), or a fanout exchange with `exchange`. */
  queue: string;
  exchange?: string;
  body: Buffer;
  headers: Record<string, string>;
  messageId: string;
  /** By default JSON through an exchange, XML (a package) to a queue. */
  contentType?: string;
}

export interface Publisher {
  publish(message: Outgoing): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  message: Outgoing;
  resolve: () => void;
  reject: (err: Error) => void;
  nacks: number;
}

/** The wait before renewing the channel after a nack: doubling from the first while nacks go on, up to the last. */
const NACK_RETRY_MS = [100, 2_000] as const;

/** The broker did not confirm in time (unreachable, or blocking publishers): not a refusal. */
export class NotConfirmed extends Error {}

/**
 * The message cannot be published at all (amqplib cannot encode it, e.g. a header table over its
 * 64 KiB buffer): refused at once. Waiting for the next channel would only fail the same way.
 */
export class PublishRefused extends Error {}

/** amqplib throws IllegalOperationError on a channel (or connection) that has closed. */
function closedChannel(err: unknown): boolean {
  return err instanceof Error && err.name === 'IllegalOperationError';
}

const BROKER_NACK = 'message nacked'; // amqplib's error for a basic.nack

/** `confirmTimeoutMs`: the configuration's amqpConfirmTimeoutMs. */
export async function createPublisher(conn: BusConnection, log: Logger, confirmTimeoutMs: number): Promise<Publisher> {
  let channel: ConfirmChannel | null = null;
  let model: ChannelModel | null = null;
  let closed = false;
  let renewal: NodeJS.Timeout | undefined;
  let nackRounds = 0; // renewals since the last confirm
  const unconfirmed = new Set<Pending>();

  const send = (ch: ConfirmChannel, p: Pending) => {
    const { queue, exchange, body, headers, messageId } = p.message;
    const contentType = p.message.contentType ?? (exchange ? 'application/json' : 'application/xml');
    const options = { persistent: true, messageId, headers, contentType };
    try {
      const confirmed = (err: Error | null) => {
        // 'channel closed': not refused, just not confirmed; it goes again on the next channel.
        if (err && err.message !== BROKER_NACK) return;
        if (err) {
          p.nacks++;
          renewLater();
          return;
        }
        nackRounds = 0;
        unconfirmed.delete(p);
        p.resolve();
      };
      const to = exchange !== undefined ? { exchange, routingKey: '' } : addressOf(queue);
      ch.publish(to.exchange, to.routingKey, body, options, confirmed);
    } catch (err) {
      if (!closedChannel(err)) {
        // Nothing reached the broker (amqplib throws before it writes or counts a confirm).
        unconfirmed.delete(p);
        p.reject(new PublishRefused(`cannot publish to ${exchange ?? queue}: ${(err as Error).message}`));
        return;
      }
      // The channel closed under us; the message waits in `unconfirmed` for the next channel.
      log.debug({ err: (err as Error).message, queue }, 'publish deferred until the broker is back');
    }
  };

  const open = async (m: ChannelModel) => {
    const ch = await m.createConfirmChannel();
    ch.on('error', (err: Error) => log.warn({ err: err.message }, 'publisher channel error'));
    ch.on('close', () => { if (channel === ch) channel = null; });
    channel = ch;
    if (unconfirmed.size > 0) log.info({ count: unconfirmed.size }, 'republishing unconfirmed messages');
    for (const p of unconfirmed) send(ch, p);
  };

  const renewLater = () => {
    if (renewal !== undefined) return;
    const delay = Math.min(NACK_RETRY_MS[0] * 2 ** nackRounds++, NACK_RETRY_MS[1]);
    log.info({ delay }, 'nacked by the broker: publishing again on a new channel');
    renewal = setTimeout(() => {
      renewal = undefined;
      const old = channel;
      const m = model;
      // No channel: the next connection's republishes everything.
      if (old === null || m === null || closed) return;
      channel = null;
      void closeAmqp(old)
        .catch((err: Error) => log.debug({ err: err.message }, 'publisher channel already closed'))
        .then(() => open(m))
        .catch((err: Error) => log.warn({ err: err.message }, 'no new publisher channel: the next reconnect opens one'));
    }, delay);
  };

  await conn.onConnect(async (m: ChannelModel) => {
    model = m;
    await open(m);
  });

  return {
    publish: (message) => new Promise<void>((resolve, reject) => {
      if (closed) return reject(new Error('publisher closed'));
      const timer = setTimeout(() => {
        unconfirmed.delete(pending);
        reject(new NotConfirmed(pending.nacks > 0
          ? `the broker nacked the message ${pending.nacks} times in ${confirmTimeoutMs} ms (a queue without a leader?)`
          : `no broker confirm within ${confirmTimeoutMs} ms`));
      }, confirmTimeoutMs);
      const pending: Pending = {
        message,
        nacks: 0,
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      };
      unconfirmed.add(pending);
      if (channel !== null) send(channel, pending);
    }),
    async close() {
      closed = true;
      clearTimeout(renewal);
      const ch = channel;
      channel = null;
      if (ch !== null) await closeAmqp(ch);
    },
  };
}
