// A link to a neighbour hub: drains this hub's outbox queue for that neighbour into the
// neighbour's ingress queue, on the neighbour's broker. Confirm, then ack: a link or broker
// outage only fills the local outbox, and nothing is acknowledged before it is safe.
import type { Logger } from 'pino';
import type { BusConnection } from './connection.js';
import { consume, type Consumer } from './consumer.js';
import { NotConfirmed, type Publisher } from './publisher.js';
import { hubQueues } from './topology.js';
import { stringHeaders } from './message.js';

export interface LinkConfig {
  from: string;
  to: string;
  /** Publishes on the neighbour's broker (the same publisher where both share one). */
  remote: Publisher;
  /** Told of every message taken from the outbox (the journal's consumption marks). */
  acked?: (queue: string, headers: unknown) => void;
  /** The lane starts paused. */
  paused?: boolean;
}

const LINK_PREFETCH = 200;

export async function startLink(conn: BusConnection, link: LinkConfig, log: Logger): Promise<Consumer> {
  const from = hubQueues(link.from);
  const to = hubQueues(link.to);
  let stopping = false;
  let lane: Consumer | undefined;
  lane = await consume(conn, from.outbox(link.to), LINK_PREFETCH, log, async (body, headers) => {
    const h = stringHeaders(headers);
    // While the neighbour's broker does not confirm, the message stays in hand. Returned to the
    // outbox at every confirm timeout, it would count as a failed delivery each time, and an
    // outage of a few minutes would dead-letter it as poison.
    for (;;) {
      try {
        await link.remote.publish({ queue: to.ingress, body, headers: h, messageId: h['x-lgsp-doc-id'] ?? '' });
        return 'ack';
      } catch (err) {
        // Stopping or pausing the lane returns it to the outbox instead.
        if (!(err instanceof NotConfirmed) || stopping || lane?.paused()) throw err;
        log.debug({ neighbour: link.to }, 'not confirmed by the neighbour\'s broker: publishing again');
      }
    }
  }, link.acked, undefined, link.paused);
  const consumer = lane;
  return { ...consumer, async stop() { stopping = true; await consumer.stop(); } };
}
