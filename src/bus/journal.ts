// The journal adapters (a wire tap on every working queue, ARCHITECTURE.md's "copy made for the
// purpose"): a publisher that writes `put` entries into the owning hub's journal stream just
// before the messages, consumption marks written after acks, and a reader that replays the
// stream into the hub's MessageIndex. Entries hold what an administrator filters on, never the
// package bytes, so the journal stays small and reading it costs little.
import { randomBytes } from 'node:crypto';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { closeAmqp, type BusConnection } from './connection.js';
import type { Stoppable } from './consumer.js';
import { stringHeaders } from './message.js';
import type { Outgoing, Publisher } from './publisher.js';
import { hubQueues, ownerOf } from './topology.js';
import { createMessageIndex, JournalEntry, type JournalPut, type MessageIndex } from './journal-index.js';

export const PUBLISH_ID = 'x-lgsp-publish-id';

const entryMessage = (journal: string, entry: JournalEntry, id: string): Outgoing => ({
  queue: journal, body: Buffer.from(JSON.stringify(entry), 'utf8'), headers: {}, messageId: `journal:${id}`, contentType: 'application/json',
});

/** The `put` entry for a message, from the headers the hub already set on it. */
function putEntry(queue: string, id: string, h: Record<string, string>, bytes: number, at: Date): JournalPut {
  let recipients: string[] = [];
  try {
    const parsed: unknown = JSON.parse(h['x-lgsp-recipients'] ?? '[]');
    if (Array.isArray(parsed)) recipients = parsed.map(String);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    recipients = []; // unreadable recipients: the message itself will be dead-lettered for them
  }
  const optional = {
    docId: h['x-lgsp-doc-id'], messageKind: h['x-lgsp-kind'], sender: h['x-lgsp-sender'], subject: h['x-lgsp-subject'],
    statusCode: h['x-lgsp-status-code'], reasonCode: h['x-lgsp-reason-code'], reason: h['x-lgsp-reason'],
  };
  return {
    kind: 'put', queue, id, at: at.toISOString(), bytes, recipients,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/**
 * Wraps a publisher so that every message to a hub's working queue carries a publish id and is
 * preceded, on the same channel, by its `put` entry in that hub's journal: the entry is in the
 * stream before the message can be consumed. The puts of one event-loop turn share one journal
 * entry (under load, one small publish per turn instead of one per message). A message waits
 * for its own confirm only: the journal serves the browse view, never delivery. Other publishes
 * pass through unchanged.
 */
export function journaled(publisher: Publisher, clock: () => Date, log: Logger): Publisher {
  const prefix = randomBytes(6).toString('hex');
  let n = 0;
  const batches = new Map<string, { puts: JournalPut[]; sends: (() => void)[] }>();
  const flush = () => {
    const ready = [...batches];
    batches.clear();
    for (const [journal, batch] of ready) {
      publisher.publish(entryMessage(journal, { kind: 'puts', items: batch.puts }, batch.puts[0]!.id)).catch((err: Error) =>
        log.warn({ err: err.message, count: batch.puts.length }, 'puts not journaled: browsing will not list these messages'));
      for (const send of batch.sends) send();
    }
  };
  return {
    publish(message) {
      const owner = message.exchange === undefined ? ownerOf(message.queue) : null;
      if (owner === null) return publisher.publish(message);
      const journal = hubQueues(owner).journal;
      const id = `${prefix}.${(++n).toString(36)}`;
      const headers = { ...message.headers, [PUBLISH_ID]: id };
      if (batches.size === 0) setImmediate(flush);
      const batch = batches.get(journal) ?? { puts: [], sends: [] };
      batches.set(journal, batch);
      batch.puts.push(putEntry(message.queue, id, headers, message.body.length, clock()));
      return new Promise<void>((resolve, reject) => {
        batch.sends.push(() => publisher.publish({ ...message, headers }).then(resolve, reject));
      });
    },
    close: () => publisher.close(),
  };
}

const TAKEN_BATCH_MS = 100;
const TAKEN_BATCH_MAX = 500;

export interface TakenMarks {
  /** Records that `queue`'s consumer acked a message (called by the consumer after its ack). */
  taken(queue: string, headers: unknown): void;
  flush(): Promise<void>;
}

/** Consumption marks for one hub's journal, batched: one `taken` entry per TAKEN_BATCH_MS. */
export function takenMarks(publisher: Publisher, hubId: string, log: Logger): TakenMarks {
  const journal = hubQueues(hubId).journal;
  let items: { queue: string; id: string }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let batch = 0;
  // Batches on their way to the broker: flush() waits for them too, so that a hub closing its
  // publisher never leaves a timer-started batch unconfirmed.
  const sending = new Set<Promise<void>>();
  const flush = async () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (items.length > 0) {
      const entry: JournalEntry = { kind: 'taken', items };
      items = [];
      const sent = publisher.publish(entryMessage(journal, entry, `taken.${process.pid}.${++batch}`)).catch((err: Error) =>
        // The messages were consumed all the same; only the browse view lags behind.
        log.warn({ err: err.message, count: entry.items.length }, 'consumption marks not journaled: browsing may list consumed messages'))
        .finally(() => sending.delete(sent));
      sending.add(sent);
    }
    await Promise.all(sending);
  };
  return {
    taken(queue, headers) {
      const h = stringHeaders(headers);
      const id = h[PUBLISH_ID];
      if (id === undefined) return;
      items.push({ queue, id });
      // A poison message dead-lettered by the broker leaves its first queue without an ack there.
      const from = h['x-first-death-queue'];
      if (from !== undefined && from !== queue) items.push({ queue: from, id });
      if (items.length >= TAKEN_BATCH_MAX) void flush();
      else timer ??= setTimeout(() => void flush(), TAKEN_BATCH_MS);
    },
    flush,
  };
}

export interface JournalReader extends Stoppable {
  index: MessageIndex;
  /** True once the reader has read everything that was in the journal when it started. */
  caughtUp(): boolean;
}

const READ_PREFETCH = 1000;
// A stream consumer acks only to grant credit: one ack for every READ_ACK_EVERY entries.
const READ_ACK_EVERY = 100;

/** Replays a hub's journal stream into a MessageIndex and follows it; resumes after reconnects. */
export async function readJournal(conn: BusConnection, publisher: Publisher, hubId: string, log: Logger): Promise<JournalReader> {
  const journal = hubQueues(hubId).journal;
  const index = createMessageIndex();
  const probe = randomBytes(8).toString('hex');
  let next: number | 'first' = 'first';
  let caughtUp = false;
  let stopping = false;
  let close: (() => Promise<void>) | null = null;

  const read = (msg: ConsumeMessage) => {
    const offset = msg.properties.headers?.['x-stream-offset'];
    if (typeof offset === 'number') next = offset + 1;
    let raw: unknown;
    try {
      raw = JSON.parse(msg.content.toString('utf8'));
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      raw = undefined; // refused below, like any other unreadable entry
    }
    const entry = JournalEntry.safeParse(raw);
    if (!entry.success) log.warn({ offset }, 'unreadable journal entry skipped');
    else if (entry.data.kind === 'probe') caughtUp ||= entry.data.id === probe;
    else index.apply(entry.data);
  };

  await conn.onConnect(async (model: ChannelModel) => {
    if (stopping) return;
    const ch = await model.createChannel();
    ch.on('error', (err: Error) => log.warn({ err: err.message }, 'journal channel error'));
    await ch.prefetch(READ_PREFETCH); // a stream needs a prefetch, and acks to grant more credit
    let unacked = 0;
    await ch.consume(journal, (msg) => {
      if (msg === null) return;
      read(msg);
      if (++unacked >= READ_ACK_EVERY) {
        ch.ack(msg, true);
        unacked = 0;
      }
    }, { noAck: false, arguments: { 'x-stream-offset': next } });
    close = () => closeAmqp(ch);
  });
  await publisher.publish(entryMessage(journal, { kind: 'probe', id: probe }, `probe.${probe}`));

  return {
    index,
    caughtUp: () => caughtUp,
    async stop() {
      stopping = true;
      await close?.();
    },
  };
}
