// The exchange statistics in the ledger (issue 20), the same SQL for SQLite and PostgreSQL over a
// small port each ledger lends. Counts come from the ledger's own tables (documents sent,
// mailbox deliveries and acknowledgements, exchange marks), never from process counters, so a
// restart or a replica changes nothing. Each whole day is rolled up once into stats_daily (one
// row per agency and day) so that a year's report reads 365 rows per agency, not every document;
// the days not rolled up yet (today) are counted from the tables when asked. Each month is summed
// again from its days into stats_monthly, so that a year is 12 rows per agency: a report reads
// whole months there, the days at either end of its range in stats_daily; a report by day reads
// stats_day_totals, each day's sum over its agencies (one row a day, under agency '*').
import { z } from 'zod';
import { addDays, dayOf, dayStart, daysFrom } from '../stats/calendar.js';
import { COUNT_FIELDS, addCell, addEncodedBuckets, bucketOf, emptyCell, encodeBuckets, type StatsCell } from '../stats/report.js';
import type { ExchangeMark, Ledger, UnackedItem } from './store.js';

/** What a ledger lends: queries with `?` placeholders, and writes run in one transaction. */
export interface SqlPort {
  all(sql: string, args: readonly unknown[]): Promise<unknown[]>;
  /** One write; how many rows it changed. */
  run(sql: string, args: readonly unknown[]): Promise<number>;
  batch(steps: readonly { sql: string; args: readonly unknown[] }[]): Promise<void>;
  /** The aggregate that joins text values with commas (group_concat, string_agg). */
  joinText(expr: string): string;
  /** The length in bytes of a blob (length, octet_length). */
  byteLength(expr: string): string;
}

/** The tables, the same in both SQL dialects (PostgreSQL appends them as one migration). */
export const STATS_SCHEMA = `
CREATE TABLE IF NOT EXISTS exchange_marks (
  mark_key TEXT PRIMARY KEY, at TEXT NOT NULL, agency TEXT NOT NULL, mark TEXT NOT NULL, code TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS exchange_marks_at ON exchange_marks (at);
CREATE TABLE IF NOT EXISTS stats_daily (
  day TEXT NOT NULL, agency TEXT NOT NULL, sent INTEGER NOT NULL, received INTEGER NOT NULL, status_sent INTEGER NOT NULL,
  status_received INTEGER NOT NULL, legacy INTEGER NOT NULL, refused_first INTEGER NOT NULL, refused_later INTEGER NOT NULL,
  acked INTEGER NOT NULL, ack_failed INTEGER NOT NULL, ack_buckets TEXT NOT NULL, PRIMARY KEY (day, agency));
CREATE TABLE IF NOT EXISTS stats_monthly (
  month TEXT NOT NULL, agency TEXT NOT NULL, sent INTEGER NOT NULL, received INTEGER NOT NULL, status_sent INTEGER NOT NULL,
  status_received INTEGER NOT NULL, legacy INTEGER NOT NULL, refused_first INTEGER NOT NULL, refused_later INTEGER NOT NULL,
  acked INTEGER NOT NULL, ack_failed INTEGER NOT NULL, ack_buckets TEXT NOT NULL, PRIMARY KEY (month, agency));
CREATE TABLE IF NOT EXISTS stats_day_totals (
  day TEXT NOT NULL, agency TEXT NOT NULL, sent INTEGER NOT NULL, received INTEGER NOT NULL, status_sent INTEGER NOT NULL,
  status_received INTEGER NOT NULL, legacy INTEGER NOT NULL, refused_first INTEGER NOT NULL, refused_later INTEGER NOT NULL,
  acked INTEGER NOT NULL, ack_failed INTEGER NOT NULL, ack_buckets TEXT NOT NULL, PRIMARY KEY (day, agency));
CREATE TABLE IF NOT EXISTS stats_days (day TEXT PRIMARY KEY, rolled_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_submitted ON documents (submitted_at);
CREATE INDEX IF NOT EXISTS mailbox_received ON mailbox (received_at);
CREATE INDEX IF NOT EXISTS mailbox_acked ON mailbox (acked_at, received_at);
`;

/**
 * The rolled-up tables' columns added since STATS_SCHEMA (each ledger adds those it lacks): the
 * split of sent and received with the national axis (issue 17). Days rolled up before hold 0.
 */
export const STATS_ADDED_COLUMNS: readonly [table: string, column: string, type: string][] =
  (['stats_daily', 'stats_monthly', 'stats_day_totals'] as const).flatMap((table) =>
    ['sent_national', 'received_national'].map((column): [string, string, string] => [table, column, 'INTEGER NOT NULL DEFAULT 0']));

/** A day is rolled up once it ended this long ago: a write stamped before midnight has landed by then. */
const ROLL_UP_GRACE_MS = 5 * 60_000;

const COLUMNS: Record<(typeof COUNT_FIELDS)[number], string> = {
  sent: 'sent', received: 'received', sentNational: 'sent_national', receivedNational: 'received_national', statusSent: 'status_sent', statusReceived: 'status_received', legacy: 'legacy',
  refusedFirstHop: 'refused_first', refusedLaterHop: 'refused_later', acked: 'acked', ackFailed: 'ack_failed',
};
const MARK_FIELD = { refused_first: 'refusedFirstHop', refused_later: 'refusedLaterHop', legacy: 'legacy', sent_national: 'sentNational' } as const;

const n = z.coerce.number();
const Grouped = z.object({ agency: z.string(), kind: z.enum(['edoc', 'status']), n });
const Acked = z.object({ agency: z.string(), ack_result: z.enum(['done', 'fail']), received_at: z.string(), acked_at: z.string() });
const Marked = z.object({ agency: z.string(), mark: z.enum(['refused_first', 'refused_later', 'legacy', 'sent_national']), n });
const Counted = z.object({ agency: z.string(), n });
/** A rolled-up row: its key, the summed count columns, and the histograms joined. */
const Rolled = z.object({ key: z.string(), ack_buckets: z.string().nullable() }).catchall(n);
const ByCode = z.object({ mark: z.enum(['refused_first', 'refused_later']), code: z.string(), n });
const Unacked = z.object({ doc_id: z.string(), agency: z.string(), sender: z.string(), subject: z.string().nullable(), received_at: z.string() });
const Earliest = z.object({ at: z.string().nullable() });
const DayRow = z.object({ day: z.string() });

type RolledTable = 'stats_daily' | 'stats_monthly' | 'stats_day_totals';
type StatsMethods = Pick<Ledger, 'recordExchangeMark' | 'rollUpStats' | 'exchangeStats' | 'refusalsByCode' | 'unacknowledged'>;
type ReportQuery = Parameters<Ledger['exchangeStats']>[0];

/**
 * The statistics as an aggregator over the ledger's tables: whole days are rolled up as they
 * end (rollUpDue), and a report reads the rolled-up rows and counts what is not rolled up yet.
 */
export function exchangeStats(db: SqlPort, now: () => Date): StatsMethods {
  const rollUpStats = (at: Date) => rollUpDue(db, now, at);
  return {
    recordExchangeMark: (m: ExchangeMark) => db.batch([{
      sql: 'INSERT INTO exchange_marks (mark_key, at, agency, mark, code) VALUES (?, ?, ?, ?, ?) ON CONFLICT (mark_key) DO NOTHING',
      args: [m.key, m.at, m.agency, m.mark, m.code],
    }]),
    rollUpStats,
    exchangeStats: async (q) => {
      await rollUpStats(now());
      return report(db, now, q);
    },
    refusalsByCode: async (from, to) => (await db.all(`SELECT mark, code, count(*) AS n FROM exchange_marks
        WHERE at >= ? AND at < ? AND mark IN ('refused_first', 'refused_later') GROUP BY mark, code ORDER BY count(*) DESC, code`, [dayStart(from), dayStart(addDays(to, 1))]))
      .map((r) => {
        const row = ByCode.parse(r);
        return { hop: row.mark === 'refused_first' ? 'first' as const : 'later' as const, code: row.code, count: row.n };
      }),
    unacknowledged: async (receivedBefore, limit) => (await db.all(`SELECT doc_id, agency, sender, subject, received_at FROM mailbox
        WHERE acked_at IS NULL AND kind = 'edoc' AND received_at < ? ORDER BY received_at, doc_id LIMIT ?`, [receivedBefore, limit]))
      .map((r): UnackedItem => {
        const row = Unacked.parse(r);
        return { docId: row.doc_id, agency: row.agency, sender: row.sender, receivedAt: row.received_at, ...(row.subject === null ? {} : { subject: row.subject }) };
      }),
  };
}

/** Per agency, what happened on one day, counted from the ledger's tables. */
async function countDay(db: SqlPort, day: string): Promise<Map<string, StatsCell>> {
  const range = [dayStart(day), dayStart(addDays(day, 1))];
  const cells = new Map<string, StatsCell>();
  const cell = (agency: string) => cells.get(agency) ?? cells.set(agency, emptyCell(agency)).get(agency)!;
  for (const r of await db.all('SELECT sender AS agency, kind, count(*) AS n FROM documents WHERE submitted_at >= ? AND submitted_at < ? GROUP BY sender, kind', range)) {
    const row = Grouped.parse(r);
    cell(row.agency)[row.kind === 'edoc' ? 'sent' : 'statusSent'] += row.n;
  }
  for (const r of await db.all('SELECT agency, kind, count(*) AS n FROM mailbox WHERE received_at >= ? AND received_at < ? GROUP BY agency, kind', range)) {
    const row = Grouped.parse(r);
    cell(row.agency)[row.kind === 'edoc' ? 'received' : 'statusReceived'] += row.n;
  }
  // Handed down by the national axis: the trace holds the hop of the gateway that admitted it,
  // whose checks name the axis's DocId (the gateway's own hop towards the axis is hub 'national').
  for (const r of await db.all(`SELECT agency, count(*) AS n FROM mailbox m WHERE received_at >= ? AND received_at < ? AND kind = 'edoc'
        AND EXISTS (SELECT 1 FROM trace t WHERE t.doc_id = m.doc_id AND t.hub <> 'national' AND t.checks LIKE '%"national":%') GROUP BY agency`, range)) {
    const row = Counted.parse(r);
    cell(row.agency).receivedNational += row.n;
  }
  // Acknowledgements of documents (statuses are acknowledged too, but say nothing of reading).
  for (const r of await db.all("SELECT agency, ack_result, received_at, acked_at FROM mailbox WHERE acked_at >= ? AND acked_at < ? AND kind = 'edoc'", range)) {
    const row = Acked.parse(r);
    const c = cell(row.agency);
    c[row.ack_result === 'done' ? 'acked' : 'ackFailed'] += 1;
    const b = bucketOf((Date.parse(row.acked_at) - Date.parse(row.received_at)) / 1000);
    c.ackBuckets.set(b, (c.ackBuckets.get(b) ?? 0) + 1);
  }
  for (const r of await db.all('SELECT agency, mark, count(*) AS n FROM exchange_marks WHERE at >= ? AND at < ? GROUP BY agency, mark', range)) {
    const row = Marked.parse(r);
    cell(row.agency)[MARK_FIELD[row.mark]] += row.n;
  }
  return cells;
}

/** The first day anything was recorded, or null for an empty ledger. */
async function firstDay(db: SqlPort): Promise<string | null> {
  const firsts = await Promise.all([
    db.all('SELECT min(submitted_at) AS at FROM documents', []), db.all('SELECT min(received_at) AS at FROM mailbox', []),
    db.all('SELECT min(at) AS at FROM exchange_marks', []),
  ]);
  const ats = firsts.map((rows) => Earliest.parse(rows[0]).at).filter((at): at is string => at !== null).sort();
  return ats.length === 0 ? null : dayOf(ats[0]!);
}

async function rolledDays(db: SqlPort, from: string, to: string): Promise<Set<string>> {
  return new Set((await db.all('SELECT day FROM stats_days WHERE day >= ? AND day <= ?', [from, to])).map((r) => DayRow.parse(r).day));
}

/**
 * Rolls up each day that ended before `at` (less the grace) and is not rolled up yet, then
 * the months those days are in; idempotent, so replicas may race. How many days it rolled up.
 */
async function rollUpDue(db: SqlPort, now: () => Date, at: Date): Promise<number> {
  const first = await firstDay(db);
  const last = addDays(dayOf(new Date(at.getTime() - ROLL_UP_GRACE_MS)), -1);
  if (first === null || first > last) return 0;
  const done = await rolledDays(db, first, last);
  const due = daysFrom(first, last).filter((d) => !done.has(d));
  for (const day of due) await rollUpDay(db, now, day);
  for (const month of new Set(due.map((d) => d.slice(0, 7)))) await rollUpMonth(db, month);
  return due.length;
}

/** A day's row per agency, and its total, in one transaction with the mark that it is rolled up. */
async function rollUpDay(db: SqlPort, now: () => Date, day: string): Promise<void> {
  const cells = [...(await countDay(db, day)).values()];
  const total = emptyCell('*');
  for (const c of cells) addCell(total, c);
  await db.batch([
    ...replaceRows('stats_daily', day, cells),
    ...replaceRows('stats_day_totals', day, cells.length === 0 ? [] : [total]),
    { sql: 'INSERT INTO stats_days (day, rolled_at) VALUES (?, ?) ON CONFLICT (day) DO NOTHING', args: [day, now().toISOString()] },
  ]);
}

/** A month's row per agency: the sum of its days rolled up so far. */
async function rollUpMonth(db: SqlPort, month: string): Promise<void> {
  return db.batch(replaceRows('stats_monthly', month, await readRolled(db, 'stats_daily', 'agency', [[`${month}-01`, `${month}-31`]])));
}

/** Replaces a period's rows (a day or a month) with `cells`, one per agency. */
function replaceRows(table: RolledTable, period: string, cells: Iterable<StatsCell>) {
  const column = table === 'stats_monthly' ? 'month' : 'day';
  const columns = Object.values(COLUMNS);
  return [
    { sql: `DELETE FROM ${table} WHERE ${column} = ?`, args: [period] },
    ...[...cells].map((c) => ({
      sql: `INSERT INTO ${table} (${column}, agency, ${columns.join(', ')}, ack_buckets) VALUES (?, ?, ${columns.map(() => '?').join(', ')}, ?)
          ON CONFLICT (${column}, agency) DO UPDATE SET ${[...columns, 'ack_buckets'].map((col) => `${col} = excluded.${col}`).join(', ')}`,
      args: [period, c.key, ...COUNT_FIELDS.map((f) => c[f]), encodeBuckets(c.ackBuckets)],
    })),
  ];
}

/** Rolled-up rows over day (or month) ranges, summed per key. */
async function readRolled(db: SqlPort, table: RolledTable, key: string, ranges: readonly [string, string][]): Promise<StatsCell[]> {
  if (ranges.length === 0) return [];
  const column = table === 'stats_monthly' ? 'month' : 'day';
  const rows = await db.all(`SELECT ${key} AS key, ${Object.values(COLUMNS).map((c) => `sum(${c}) AS ${c}`).join(', ')}, ${db.joinText('ack_buckets')} AS ack_buckets
      FROM ${table} WHERE ${ranges.map(() => `(${column} >= ? AND ${column} <= ?)`).join(' OR ')} GROUP BY ${key}`, ranges.flat());
  return rows.map((r) => {
    const row = Rolled.parse(r);
    const c = emptyCell(row.key);
    for (const f of COUNT_FIELDS) c[f] = Number(row[COLUMNS[f]] ?? 0);
    addEncodedBuckets(c.ackBuckets, row.ack_buckets ?? '');
    return c;
  });
}

const DAILY_KEY = { agency: 'agency', month: 'substr(day, 1, 7)' } as const;

/** A report over [from, to], by agency, day or month, from the rolled-up rows and the days not rolled up yet. */
async function report(db: SqlPort, now: () => Date, { from, to, by }: ReportQuery): Promise<StatsCell[]> {
  // Whole months inside the range from stats_monthly (not for a report by day); the rest by day.
  const months = by === 'day' ? [] : monthsWithin(from, to);
  const [firstMonth, lastMonth] = [months[0], months.at(-1)];
  const dayRanges: [string, string][] = firstMonth === undefined || lastMonth === undefined ? [[from, to]] : [
    [from, addDays(`${firstMonth}-01`, -1)], [`${nextMonth(lastMonth)}-01`, to],
  ];
  const cells = new Map<string, StatsCell>();
  const add = (c: StatsCell) => addCell(cells.get(c.key) ?? cells.set(c.key, emptyCell(c.key)).get(c.key)!, c);
  if (firstMonth !== undefined && lastMonth !== undefined) {
    for (const c of await readRolled(db, 'stats_monthly', by === 'agency' ? 'agency' : 'month', [[firstMonth, lastMonth]])) add(c);
  }
  const edges = dayRanges.filter(([a, b]) => a <= b);
  for (const c of await (by === 'day' ? readRolled(db, 'stats_day_totals', 'day', edges) : readRolled(db, 'stats_daily', DAILY_KEY[by], edges))) add(c);
  // The days in range not rolled up yet (today, and yesterday within the grace): counted now.
  const today = dayOf(now());
  const done = await rolledDays(db, from, to);
  for (const day of daysFrom(from, to < today ? to : today).filter((d) => !done.has(d) && d >= addDays(today, -1))) {
    for (const c of (await countDay(db, day)).values()) add({ ...c, key: by === 'agency' ? c.key : by === 'day' ? day : day.slice(0, 7) });
  }
  return [...cells.values()];
}

/** The month after a YYYY-MM. */
function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** The months (YYYY-MM) whose every day lies within [from, to]. */
function monthsWithin(from: string, to: string): string[] {
  const months: string[] = [];
  for (let m = from.slice(8) === '01' ? from.slice(0, 7) : nextMonth(from.slice(0, 7)); addDays(`${nextMonth(m)}-01`, -1) <= to; m = nextMonth(m)) months.push(m);
  return months;
}
