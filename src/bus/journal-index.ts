// What a hub's journal says is in its queues, built from the journal's entries (pure: entries in,
// browse results out). A `put` is written beside every message put into a working queue (several
// share one `puts` entry), a `taken` entry after consumers ack: the messages still in a queue are
// the puts not yet taken.
// Browsing reads this index only, so it never touches a message (no redelivered flag, no
// delivery count, no reordering), which RabbitMQ's own get-and-requeue cannot promise.
import { z } from 'zod';

export const JournalPut = z.object({
  kind: z.literal('put'),
  queue: z.string(),
  /** The publish id (x-lgsp-publish-id header) the message carries. */
  id: z.string(),
  at: z.string(),
  bytes: z.number().int().nonnegative(),
  docId: z.string().optional(),
  messageKind: z.string().optional(),
  sender: z.string().optional(),
  recipients: z.array(z.string()).default([]),
  subject: z.string().optional(),
  statusCode: z.string().optional(),
  reasonCode: z.string().optional(),
  reason: z.string().optional(),
});
export type JournalPut = z.output<typeof JournalPut>;

export const JournalEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('puts'), items: z.array(JournalPut) }),
  z.object({ kind: z.literal('taken'), items: z.array(z.object({ queue: z.string(), id: z.string() })) }),
  /** Written by a reader at start: reading it back means the reader has caught up. */
  z.object({ kind: z.literal('probe'), id: z.string() }),
]);
export type JournalEntry = z.output<typeof JournalEntry>;

export interface QueuedMessage extends Omit<JournalPut, 'kind'> {
  /** Position in the journal: the browse cursor. */
  seq: number;
}

export const BROWSE_MAX = 500;
const TAKEN_FIRST_MAX = 10_000;

export interface BrowseFilter {
  queue: string;
  docId?: string;
  /** Sender or one of the recipients. */
  agency?: string;
  since?: string;
  until?: string;
  /** A reason code (exact) or words of the reason (case-insensitive). */
  reason?: string;
  /** Only messages after this cursor (a `seq` from an earlier page). */
  after?: number;
  limit: number;
}

export interface BrowsePage { items: QueuedMessage[]; matched: number; next: number | null }

export type MessageIndex = ReturnType<typeof createMessageIndex>;

/** The hub's journal as readers see it: the working queues it covers, their index, and whether it has caught up. */
export interface JournalView { queues: readonly string[]; index: MessageIndex; caughtUp: () => boolean }

export function createMessageIndex() {
  // Insertion order is journal order, which is the order each queue received its messages in.
  const queued = new Map<string, QueuedMessage>();
  // A put republished after a channel reset can land after its taken mark: remember recent
  // marks that matched nothing, so that such a put is not listed forever.
  const takenFirst = new Set<string>();
  const key = (queue: string, id: string) => `${queue}\u0000${id}`;
  let seq = 0;

  return {
    apply(entry: JournalEntry): void {
      if (entry.kind === 'puts') {
        for (const { kind: _kind, ...message } of entry.items) {
          const k = key(message.queue, message.id);
          if (!takenFirst.delete(k)) queued.set(k, { ...message, seq: ++seq });
        }
      } else if (entry.kind === 'taken') {
        for (const t of entry.items) {
          const k = key(t.queue, t.id);
          if (queued.delete(k)) continue;
          takenFirst.add(k);
          // Insertion order: the oldest unmatched mark goes first.
          if (takenFirst.size > TAKEN_FIRST_MAX) takenFirst.delete(takenFirst.values().next().value!);
        }
      }
    },

    count(queue: string): number {
      let n = 0;
      for (const m of queued.values()) if (m.queue === queue) n++;
      return n;
    },

    browse(f: BrowseFilter): BrowsePage {
      const reason = f.reason?.toLowerCase();
      const items: QueuedMessage[] = [];
      let matched = 0;
      let next: number | null = null;
      for (const m of queued.values()) {
        if (m.queue !== f.queue) continue;
        if (f.docId !== undefined && m.docId !== f.docId) continue;
        if (f.agency !== undefined && m.sender !== f.agency && !m.recipients.includes(f.agency)) continue;
        if (f.since !== undefined && Date.parse(m.at) < Date.parse(f.since)) continue;
        if (f.until !== undefined && Date.parse(m.at) > Date.parse(f.until)) continue;
        if (reason !== undefined && m.reasonCode?.toLowerCase() !== reason && !m.reason?.toLowerCase().includes(reason)) continue;
        matched++;
        if (f.after !== undefined && m.seq <= f.after) continue;
        if (items.length < f.limit) items.push(m);
        else next ??= items.at(-1)!.seq;
      }
      return { items, matched, next };
    },
  };
}
