// The transport port's adapters on RabbitMQ (pipeline/transport.ts): a message for this hub's
// mailbox stage goes to its deliver queue, for a neighbour on this broker straight into that
// neighbour's ingress, for a neighbour on another broker into a local outbox that a link drains
// (so that a WAN outage only fills the outbox). Messages come in decoded (bus/message.ts), and
// go to the dead letters as they arrived, with the reason in headers of their own.
import type { HubError } from '../errors.js';
import type { HopMessage } from '../hop/trace.js';
import type { Inbound, NextHop, Outlet } from '../pipeline/transport.js';
import type { Disposition } from './consumer.js';
import { boundedHeaders, fromAmqp, headerBytes, MAX_HEADER_BYTES, toHeaders } from './message.js';
import type { Publisher } from './publisher.js';
import { hubQueues } from './topology.js';

/** The headers a dead letter carries its reason in (read back by bus/dead-letters.ts). */
export const DEAD_LETTER_HEADERS = { code: 'x-lgsp-reason-code', reason: 'x-lgsp-reason', at: 'x-lgsp-dead-at' } as const;

/** Sends a message, as it arrived, to a dead-letter queue with its reason. */
export type DeadLetterer = (body: Buffer, headers: unknown, reason: HubError) => Promise<void>;

export function deadLetterer(publisher: Publisher, queue: string, clock: () => Date): DeadLetterer {
  // Whatever headers the message came with, its dead letter's are bounded (it must publish).
  return (body, headers, reason) => {
    const kept = boundedHeaders(headers);
    return publisher.publish({
      queue, body,
      headers: { ...kept, [DEAD_LETTER_HEADERS.code]: reason.code, [DEAD_LETTER_HEADERS.reason]: reason.message.slice(0, 1024), [DEAD_LETTER_HEADERS.at]: clock().toISOString() },
      messageId: `dead:${(kept['x-lgsp-doc-id'] ?? 'unknown').slice(0, 64)}`,
    });
  };
}

/** Sends a message on one way out (one adapter behind the port). */
export type Adapter = (message: HopMessage) => Promise<void>;

/** An adapter that publishes to a queue of this broker. */
export function queueAdapter(publisher: Publisher, queue: string): Adapter {
  return (m) => publisher.publish({ queue, body: m.body, headers: toHeaders(m), messageId: `${m.docId}:${m.recipients.join(',')}` });
}

/**
 * The outlet of hub `hubId`: its mailbox stage, and one adapter per neighbour (`viaOutbox`: those
 * on another broker). A hub with no adapter of its own is reached in its ingress on this broker.
 */
export function hubOutlet(opts: {
  hubId: string; publisher: Publisher; viaOutbox: readonly string[]; available: () => boolean;
  /** Further ways out (another transport), by the hub they lead to. */
  adapters?: ReadonlyMap<string, Adapter>;
}): Outlet {
  const q = hubQueues(opts.hubId);
  const mailbox = queueAdapter(opts.publisher, q.deliver);
  const adapters = new Map(opts.adapters);
  for (const n of opts.viaOutbox) adapters.set(n, queueAdapter(opts.publisher, q.outbox(n)));
  const adapterFor = (to: NextHop): Adapter => to === 'mailbox' ? mailbox
    : adapters.get(to.hub) ?? queueAdapter(opts.publisher, hubQueues(to.hub).ingress);
  return {
    available: opts.available,
    refuses(m) {
      const bytes = headerBytes(toHeaders(m));
      return bytes <= MAX_HEADER_BYTES ? undefined
        : { code: 'PAYLOAD_TOO_LARGE', message: `the routing headers would take ${bytes} bytes, over the ${MAX_HEADER_BYTES}-byte limit (too many recipients)` };
    },
    send: (to, m) => adapterFor(to)(m),
  };
}

/** A queue consumer's handler that decodes each message for `handle`; an unreadable one is dead-lettered. */
export function hopHandler(handle: (inbound: Inbound) => Promise<void>, deadLetter: DeadLetterer) {
  return async (body: Buffer, headers: unknown): Promise<Disposition> => {
    const dead = (reason: HubError) => deadLetter(body, headers, reason);
    const message = fromAmqp(body, headers);
    if ('error' in message) await dead({ code: 'POLICY_VIOLATION', message: `unreadable hop headers: ${message.error}` });
    else await handle({ message, deadLetter: dead });
    return 'ack';
  };
}
