// npm run bench:stats: the exchange statistics query over a year of data for 500 agencies,
// generated into a SQLite ledger's own tables (documents sent, mailbox deliveries and
// acknowledgements, refusals), then rolled up once as a hub does (timed apart), then the report
// the admin API answers (GET /api/admin/stats) asked repeatedly for the whole year by agency,
// by hub, by day and by month. Target: p50 under 200 ms (issue 20).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { buildRegistry } from '../src/agency/registry.js';
import { exchangeReports } from '../src/admin/exchange-report.js';
import { openSqliteLedger } from '../src/ledger/sqlite.js';
import { addDays, dayStart } from '../src/stats/calendar.js';
import type { Grouping } from '../src/stats/report.js';

const AGENCIES = 500;
const DAYS = 365;
/**
 * Documents each agency sends a day, each to one other agency, which acknowledges it within 8
 * hours (3 % fail); those of the last three days are left unacknowledged three times in ten.
 */
const PER_DAY = 4;
const RUNS = 15;
const TARGET_MS = 200;
const FIRST_DAY = '2025-01-01';
const NOW = new Date(`${addDays(FIRST_DAY, DAYS + 1)}T05:00:00Z`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const agencyCode = (i: number) => `000.${String(Math.floor(i / 100)).padStart(2, '0')}.${String(i % 100).padStart(2, '0')}.H41`;

/** A year of exchange written straight into the ledger's tables, in one transaction. */
function generate(file: string): number {
  const db = new Database(file);
  const doc = db.prepare("INSERT INTO documents (doc_id, kind, sender, digest, submitted_at) VALUES (?, 'edoc', ?, 'd', ?)");
  const box = db.prepare("INSERT INTO mailbox (doc_id, agency, kind, sender, origin_hub, bytes, received_at, acked_at, ack_result) VALUES (?, ?, 'edoc', ?, 'H', ?, ?, ?, ?)");
  const mark = db.prepare("INSERT INTO exchange_marks (mark_key, at, agency, mark, code) VALUES (?, ?, ?, 'refused_first', 'SIGNATURE_INVALID')");
  const bytes = Buffer.from('<edXML/>');
  let n = 0;
  let seed = 42;
  const random = () => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648; };
  db.transaction(() => {
    for (let d = 0; d < DAYS; d++) {
      const start = Date.parse(dayStart(addDays(FIRST_DAY, d)));
      for (let a = 0; a < AGENCIES; a++) {
        for (let k = 0; k < PER_DAY; k++) {
          const id = (++n).toString(16).padStart(32, '0');
          const sentAt = start + Math.floor(random() * 20 * 3_600_000);
          const to = agencyCode((a + 1 + k) % AGENCIES);
          doc.run(id, agencyCode(a), new Date(sentAt).toISOString());
          const receivedAt = sentAt + 2000;
          const acked = random() < (d >= DAYS - 3 ? 0.7 : 1);
          const ackedAt = receivedAt + Math.floor(random() * 8 * 3_600_000);
          box.run(id, to, agencyCode(a), bytes, new Date(receivedAt).toISOString(), acked ? new Date(ackedAt).toISOString() : null, acked ? (random() < 0.97 ? 'done' : 'fail') : null);
        }
        if (random() < 0.05) mark.run(`first:${d}:${a}`, new Date(start + 3_600_000).toISOString(), agencyCode(a));
      }
    }
  })();
  db.close();
  return n;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-bench-stats-'));
  try {
    openSqliteLedger(dir, () => NOW).close(); // creates the schema
    let t = performance.now();
    const documents = generate(path.join(dir, 'ledger.sqlite'));
    console.log(`generated ${documents.toLocaleString('en')} documents (${AGENCIES} agencies × ${DAYS} days × ${PER_DAY}) and their deliveries in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const ledger = openSqliteLedger(dir, () => NOW);
    t = performance.now();
    const rolled = await ledger.rollUpStats(NOW);
    console.log(`rolled up ${rolled} days once (a hub does this a day at a time) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const registry = buildRegistry({
      hubs: [{ id: '000.00.00.H41', parentId: null }],
      agencies: Array.from({ length: AGENCIES }, (_, i) => ({ code: agencyCode(i), name: `Cơ quan ${i}` })),
    });
    const reports = exchangeReports({ ledger, registry, hubId: '000.00.00.H41', clock: () => NOW, overdueAfterMs: 86_400_000, ledgerOf: async () => null });
    const range = { from: FIRST_DAY, to: addDays(FIRST_DAY, DAYS - 1) };
    let failed = false;
    for (const groupBy of ['agency', 'day', 'month'] as Grouping[]) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < RUNS; i++) {
        t = performance.now();
        rows = (await reports.report({ ...range, groupBy })).rows.length;
        times.push(performance.now() - t);
      }
      const p50 = median(times);
      failed ||= groupBy === 'agency' && p50 >= TARGET_MS;
      console.log(`stats for a year, groupBy=${groupBy.padEnd(6)} ${String(rows).padStart(4)} rows: p50 ${p50.toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (target p50 < ${TARGET_MS} ms)`);
    }
    await ledger.close();
    if (failed) process.exitCode = 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
