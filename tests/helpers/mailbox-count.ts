// Counting, the way a Jepsen-style harness does: every accepted package against every recipient's
// mailbox. Two views: the recipients' document systems (they poll `received` and acknowledge
// what they read, so a package listed again after its acknowledgement is a duplicate they were
// handed), and the hubs' SQLite ledgers read directly (rows per document and recipient, and rows
// nobody sent). The figures are recorded for the suite's summary before the test asserts them.
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { Agent } from './agent.js';
import type { Accepted, Load } from './chaos-load.js';
import { recordChaos } from './chaos-report.js';
import type { HubProcesses } from './hub-processes.js';
import { eventually } from './network.js';

export interface MailboxReaders {
  /** Pairs `docId agency` each recipient has read. */
  readonly seen: ReadonlySet<string>;
  /** Packages handed to a document system again after it had acknowledged them. */
  readonly duplicates: readonly string[];
  /** Resolves once every accepted package is read (and acknowledged) by each of its recipients. */
  complete(accepted: readonly Accepted[], timeoutMs: number, abortIf?: () => string | undefined): Promise<true>;
  readonly stopped: boolean;
  stop(): Promise<void>;
}

const pair = (docId: string, agency: string) => `${docId} ${agency}`;
const ReceivedList = z.object({ items: z.array(z.object({ docId: z.string() })) });

/** Document systems reading their mailboxes in the background; `ack: false` only reads. */
export function startMailboxReaders(agents: readonly Agent[], options: { ack: boolean } = { ack: true }): MailboxReaders {
  const seen = new Set<string>();
  const acked = new Set<string>();
  const duplicates: string[] = [];
  let stopped = false;

  // fetch fails with a TypeError when the hub is down, a SyntaxError when its answer was cut
  // off: the document system tries again at its next poll.
  const tolerate = (err: Error) => {
    if (err.name !== 'TypeError' && err.name !== 'SyntaxError') throw err;
    return undefined;
  };
  // An acknowledgement whose answer was lost (the hub died) may or may not have been stored: it
  // is sent again (acknowledging is idempotent) until the hub confirms it.
  const unconfirmed = new Set<string>();
  const acknowledge = async (agent: Agent, key: string) => {
    const ack = await agent.request('POST', `/api/v1/edocs/${key.split(' ')[0]!}/ack`, { result: 'done' }).catch(tolerate);
    if (ack?.status !== 200) return;
    unconfirmed.delete(key);
    acked.add(key);
  };
  const readOnce = async (agent: Agent) => {
    const code = agent.agency.code;
    const answer = await agent.request('GET', '/api/v1/edocs/received?limit=1000').catch(tolerate);
    if (answer === undefined || answer.status !== 200) return;
    const listed = new Set<string>();
    for (const { docId } of ReceivedList.parse(answer.json).items) {
      const key = pair(docId, code);
      if (acked.has(key) || listed.has(key)) duplicates.push(key);
      listed.add(key);
      seen.add(key);
      if (options.ack && !acked.has(key)) unconfirmed.add(key);
    }
    await Promise.all([...unconfirmed].filter((key) => key.endsWith(` ${code}`)).map((key) => acknowledge(agent, key)));
  };
  let failed: Error | undefined;
  const loop = eventually(async () => {
    await Promise.all(agents.map(readOnce));
    return stopped ? true : undefined;
  }, 'the mailbox readers to stop', Number.POSITIVE_INFINITY).then(() => undefined, (err: Error) => { failed = err; });
  const done = options.ack ? acked : seen;
  const owed = (accepted: readonly Accepted[]) => accepted.flatMap((a) => a.recipients.map((r) => pair(a.docId, r)));

  return {
    seen, duplicates,
    get stopped() { return stopped; },
    async complete(accepted, timeoutMs, abortIf) {
      const deadline = Date.now() + timeoutMs;
      return eventually(async () => {
        if (failed !== undefined) throw failed;
        const abort = abortIf?.();
        if (abort !== undefined) throw new Error(`reading aborted: ${abort}`);
        const missing = owed(accepted).filter((key) => !done.has(key));
        if (missing.length === 0) return true;
        if (Date.now() > deadline) throw new Error(`${missing.length} deliveries never ${options.ack ? 'acknowledged' : 'read'}, e.g. ${missing.slice(0, 3).join(', ')}`);
        return undefined;
      }, 'every accepted package read by each recipient', Number.POSITIVE_INFINITY);
    },
    async stop() {
      stopped = true;
      await loop;
      if (failed !== undefined) throw failed;
    },
  };
}

export interface Tally {
  sent: number;
  /** Deliveries owed: one per accepted package and recipient. */
  expected: number;
  lost: number;
  duplicates: number;
  /** Mailbox rows for packages nobody was told were accepted. */
  unexpected: number;
  /** Redelivered copies the mailbox dedupe absorbed (since each hub process started). */
  absorbed: number;
  /** Up to 10 of the lost deliveries, for the failure message. */
  missing: string[];
}

const MailboxRow = z.object({ doc_id: z.string(), agency: z.string(), n: z.number() });

/** Counts every hub's mailbox rows straight from its ledger file (read-only). */
function mailboxRows(files: readonly string[]): z.output<typeof MailboxRow>[] {
  return files.flatMap((file) => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT doc_id, agency, COUNT(*) AS n FROM mailbox GROUP BY doc_id, agency').all().map((r) => MailboxRow.parse(r));
    } finally {
      db.close();
    }
  });
}

/** The deliver stage's absorbed duplicates, from each running hub's /metrics (a crash is reported apart). */
function absorbedDuplicates(hubs: HubProcesses): Promise<number> {
  return absorbedAt(hubs.ids.filter(hubs.running).map(hubs.url), hubs.net.adminToken);
}

/** The deliver stage's absorbed duplicates, summed over the /metrics of the hub processes at `urls`. */
export async function absorbedAt(urls: readonly string[], adminToken: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
    for (const [, labels, value] of text.matchAll(/^lgsp_documents_total\{([^}]*)\} (\d+)$/gm)) {
      if (labels!.includes('stage="deliver"') && labels!.includes('result="duplicate"')) total += Number(value);
    }
  }
  return total;
}

/**
 * Waits for every accepted package to be read by each recipient (up to `timeoutMs`), stops the
 * readers, counts and records the run's figures. The caller asserts them.
 */
export async function countDeliveries(run: {
  name: string; hubs: HubProcesses; load: Load; readers: MailboxReaders; faults: Record<string, number>; timeoutMs?: number;
}): Promise<Tally> {
  const accepted = await run.load.done;
  // An incomplete read is counted first (the figures say what was lost), then it fails the run.
  const unread = await run.readers.complete(accepted, run.timeoutMs ?? 180_000, () => run.hubs.crashes()[0])
    .then(() => undefined, (err: Error) => err);
  await run.readers.stop();
  const owed = new Set(accepted.flatMap((a) => a.recipients.map((r) => pair(a.docId, r))));
  const rows = mailboxRows(run.hubs.ids.map(run.hubs.ledgerFile));
  const present = new Set(rows.map((r) => pair(r.doc_id, r.agency)));
  const missing = [...owed].filter((k) => !present.has(k));
  const tally: Tally = {
    sent: accepted.length,
    expected: owed.size,
    lost: missing.length,
    duplicates: run.readers.duplicates.length + rows.reduce((sum, r) => sum + r.n - 1, 0),
    unexpected: rows.filter((r) => !owed.has(pair(r.doc_id, r.agency))).length,
    absorbed: await absorbedDuplicates(run.hubs),
    missing: missing.slice(0, 10),
  };
  recordChaos({
    run: run.name, sent: tally.sent, expected: tally.expected, faults: run.faults,
    lost: tally.lost, duplicates: tally.duplicates, unexpected: tally.unexpected, absorbed: tally.absorbed,
  });
  if (unread !== undefined && tally.lost === 0) throw new Error(`${run.name}: every package is in its mailbox, but ${unread.message}`);
  return tally;
}

const SentList = z.object({ items: z.array(z.object({ docId: z.string(), recipients: z.array(z.object({ organId: z.string(), delivery: z.string() })) })) });

/**
 * Resolves once each sender's hub shows every recipient of every accepted package in one of
 * `states`: the receipts came back through the same faults.
 */
export function receiptsArrived(senders: readonly Agent[], accepted: readonly Accepted[], states: readonly string[], timeoutMs: number): Promise<true> {
  return eventually(async () => {
    for (const agent of senders) {
      const mine = accepted.filter((a) => a.sender === agent.agency.code);
      const sent = SentList.parse((await agent.request('GET', '/api/v1/edocs/sent?limit=1000')).json).items;
      const delivery = new Map(sent.flatMap((s) => s.recipients.map((r) => [pair(s.docId, r.organId), r.delivery])));
      if (!mine.every((a) => a.recipients.every((r) => states.includes(delivery.get(pair(a.docId, r)) ?? 'none')))) return undefined;
    }
    return true;
  }, `every receipt (${states.join(' or ')}) at the senders' hubs`, timeoutMs);
}
