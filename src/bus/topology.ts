// The per-hub topology of ARCHITECTURE.md, as data: queue names and arguments, asserted on every
// (re)connect. All queues are quorum queues (replicated, Raft); a message delivered more than
// DELIVERY_LIMIT times (a poison message) is dead-lettered to `dead` instead of blocking the lane.
// Beside its queues each hub has a `journal` stream: a wire tap that records every message put
// into the hub's queues and every one taken out, so that administrators can browse a queue
// without touching its messages (bus/journal.ts).
import type { Channel } from 'amqplib';
import { trustQueue } from './broadcast.js';

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
const WORKING_QUEUE = /^lgsp\.([^.]+\.[^.]+\.[^.]+\.[^.]+)\.(ingress|deliver|dead|out\.[^.]+\.[^.]+\.[^.]+\.[^.]+)$/;

/** The hub that owns a working queue (ingress, deliver, dead, an outbox), or null for any other name. */
export function ownerOf(queue: string): string | null {
  return WORKING_QUEUE.exec(queue)?.[1] ?? null;
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

/**
 * Declares a hub's queues: `outboxFor` are the neighbours on other brokers (an outbox and a link
 * each); `directTo` are neighbours on this broker, whose ingress this hub publishes to straight
 * away and therefore declares too, so that nothing is ever published into a queue not there yet.
 */
export async function assertTopology(ch: Channel, hubId: string, outboxFor: readonly string[], directTo: readonly string[] = []): Promise<void> {
  const q = hubQueues(hubId);
  await ch.assertQueue(q.journal, journal);
  await ch.assertQueue(q.dead, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const working = {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': q.dead,
      // at-least-once dead-lettering needs reject-publish overflow: nothing dropped on the way.
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  };
  for (const name of [q.ingress, q.deliver, ...outboxFor.map(q.outbox)]) await ch.assertQueue(name, working);
  for (const n of directTo) {
    const theirs = hubQueues(n);
    await ch.assertQueue(theirs.journal, journal);
    await ch.assertQueue(theirs.dead, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.assertQueue(theirs.ingress, { ...working, arguments: { ...working.arguments, 'x-dead-letter-routing-key': theirs.dead } });
  }
}

/** Removes a hub's queues (demo restarts and test clean-up; never on a live hub). */
export async function deleteTopology(ch: Channel, hubId: string, neighbours: readonly string[]): Promise<void> {
  const q = hubQueues(hubId);
  for (const name of [q.ingress, q.deliver, q.dead, q.journal, trustQueue(hubId), ...neighbours.map(q.outbox)]) await ch.deleteQueue(name);
}
