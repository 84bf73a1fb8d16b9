// The exchange statistics as reported: cells of counts (one per agency, day or month) merged into
// the rows of GET /api/admin/stats, their totals, and the CSV export. Pure: the ledger counts,
// this shapes. Acknowledgement times are kept as a histogram (bucket → count) so that days
// rolled up once can be merged into any range; median and p90 are read from it (docs/statistics.md).

/** What one agency did on one day (or any sum of such). */
export interface ExchangeCounts {
  sent: number;
  received: number;
  /** Of `sent`, the documents with a recipient reached through the national axis. */
  sentNational: number;
  /** Of `received`, the documents the national axis handed down to the network. */
  receivedNational: number;
  statusSent: number;
  statusReceived: number;
  /** Packages accepted without a signature or with a legacy algorithm, as policy allowed. */
  legacy: number;
  refusedFirstHop: number;
  refusedLaterHop: number;
  acked: number;
  ackFailed: number;
}

export interface StatsCell extends ExchangeCounts {
  key: string;
  /** Delivery → acknowledgement times: bucket (bucketOf) → how many. */
  ackBuckets: Map<number, number>;
}

export const COUNT_FIELDS = ['sent', 'received', 'sentNational', 'receivedNational', 'statusSent', 'statusReceived', 'legacy', 'refusedFirstHop', 'refusedLaterHop', 'acked', 'ackFailed'] as const;

export const GROUPINGS = ['agency', 'hub', 'day', 'month'] as const;
/** The longest range one report covers: ten years (a year's report reads 365 rolled-up rows per agency). */
export const MAX_REPORT_DAYS = 3660;
export type Grouping = (typeof GROUPINGS)[number];

/** A row of the CONTRACT's shape. */
export interface StatsRow {
  key: string;
  name?: string;
  sent: number;
  received: number;
  statusSent: number;
  statusReceived: number;
  refused: number;
  acked: number;
  ackFailed: number;
  medianAckSeconds: number | null;
  p90AckSeconds: number | null;
  overdue: number;
  /** Beside the CONTRACT's fields: the split of `sent` and `received` with the national axis. */
  sentNational: number;
  receivedNational: number;
}

export interface StatsTotals extends Omit<StatsRow, 'key' | 'name'> {
  legacy: number;
  refusedFirstHop: number;
  refusedLaterHop: number;
  /** Refusals by hop and error code, over the whole range. */
  refusedByCode: { hop: 'first' | 'later'; code: string; count: number }[];
}

export interface StatsReport { from: string; to: string; groupBy: Grouping; rows: StatsRow[]; totals: StatsTotals }

/** Histogram buckets grow by 5 %: a median or p90 read from one is within 2.5 % of the exact value. */
const RATIO = 1.05;
const LOG_RATIO = Math.log(RATIO);

/** The bucket of a delivery → acknowledgement time: 0 below one second, then one per 5 % step. */
export function bucketOf(seconds: number): number {
  return seconds < 1 ? 0 : 1 + Math.floor(Math.log(seconds) / LOG_RATIO + 1e-9);
}

/** The value a bucket stands for: the geometric middle of its range, rounded to 0.1 s. */
function bucketValue(bucket: number): number {
  const value = bucket === 0 ? 0.5 : RATIO ** (bucket - 1) * Math.sqrt(RATIO);
  return Math.round(value * 10) / 10;
}

/** The q-quantile (0 < q ≤ 1) of a histogram; null when it is empty. */
export function quantileOf(buckets: ReadonlyMap<number, number>, q: number): number | null {
  return quantilesOf(buckets, [q])[0]!;
}

/** Several quantiles (ascending) of a histogram in one pass over its sorted buckets. */
function quantilesOf(buckets: ReadonlyMap<number, number>, qs: readonly number[]): (number | null)[] {
  let total = 0;
  for (const n of buckets.values()) total += n;
  if (total === 0) return qs.map(() => null);
  const sorted = [...buckets.keys()].sort((x, y) => x - y);
  const out: (number | null)[] = [];
  let seen = 0;
  let i = 0;
  for (const q of qs) {
    const rank = Math.ceil(q * total);
    while (seen + buckets.get(sorted[i]!)! < rank) seen += buckets.get(sorted[i++]!)!;
    out.push(bucketValue(sorted[i]!));
  }
  return out;
}

/** A histogram as stored in a ledger column: "bucket:count,…". */
export function encodeBuckets(buckets: ReadonlyMap<number, number>): string {
  return [...buckets].map(([b, n]) => `${b}:${n}`).join(',');
}

/**
 * Adds the histograms of one or more stored columns (joined by commas) into `into`. Read by hand,
 * not split: a year's report by day parses hundreds of thousands of pairs.
 */
export function addEncodedBuckets(into: Map<number, number>, text: string): void {
  let bucket = 0;
  let count = 0;
  let inCount = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 44;
    if (c === 58) { // ':'
      inCount = true;
    } else if (c === 44) { // ','
      if (inCount) into.set(bucket, (into.get(bucket) ?? 0) + count);
      bucket = 0;
      count = 0;
      inCount = false;
    } else if (inCount) {
      count = count * 10 + (c - 48);
    } else {
      bucket = bucket * 10 + (c - 48);
    }
  }
}

export function emptyCell(key: string): StatsCell {
  return { key, sent: 0, received: 0, sentNational: 0, receivedNational: 0, statusSent: 0, statusReceived: 0, legacy: 0, refusedFirstHop: 0, refusedLaterHop: 0, acked: 0, ackFailed: 0, ackBuckets: new Map() };
}

/** Adds `cell` into `into` (counts and histogram). */
export function addCell(into: StatsCell, cell: ExchangeCounts & { ackBuckets: ReadonlyMap<number, number> }): void {
  for (const f of COUNT_FIELDS) into[f] += cell[f];
  for (const [b, n] of cell.ackBuckets) into.ackBuckets.set(b, (into.ackBuckets.get(b) ?? 0) + n);
}

/** Cells merged under a new key (an agency's cells under its hub), keeping the first-seen order. */
export function regroup(cells: readonly StatsCell[], keyOf: (key: string) => string): StatsCell[] {
  const merged = new Map<string, StatsCell>();
  for (const c of cells) {
    const key = keyOf(c.key);
    const into = merged.get(key) ?? emptyCell(key);
    merged.set(key, into);
    addCell(into, c);
  }
  return [...merged.values()];
}

/**
 * The report: one row per cell, sorted by key, named where `nameOf` knows the key, with the
 * documents overdue now for each key (`overdueOf`), and the totals over every row.
 */
export function buildReport(p: {
  from: string; to: string; groupBy: Grouping; cells: readonly StatsCell[];
  nameOf: (key: string) => string | undefined; overdueOf: (key: string) => number;
  refusedByCode: StatsTotals['refusedByCode'];
}): StatsReport {
  const total = emptyCell('');
  const rows = [...p.cells].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((c): StatsRow => {
    addCell(total, c);
    const name = p.nameOf(c.key);
    return { key: c.key, ...(name === undefined ? {} : { name }), ...rowCounts(c), overdue: p.overdueOf(c.key) };
  });
  return {
    from: p.from, to: p.to, groupBy: p.groupBy, rows,
    totals: {
      ...rowCounts(total), overdue: rows.reduce((a, r) => a + r.overdue, 0),
      legacy: total.legacy, refusedFirstHop: total.refusedFirstHop, refusedLaterHop: total.refusedLaterHop, refusedByCode: p.refusedByCode,
    },
  };
}

function quantileFields(buckets: ReadonlyMap<number, number>): Pick<StatsRow, 'medianAckSeconds' | 'p90AckSeconds'> {
  const [medianAckSeconds, p90AckSeconds] = quantilesOf(buckets, [0.5, 0.9]) as [number | null, number | null];
  return { medianAckSeconds, p90AckSeconds };
}

function rowCounts(c: StatsCell): Omit<StatsRow, 'key' | 'name' | 'overdue'> {
  return {
    sent: c.sent, received: c.received, statusSent: c.statusSent, statusReceived: c.statusReceived,
    refused: c.refusedFirstHop + c.refusedLaterHop, acked: c.acked, ackFailed: c.ackFailed,
    ...quantileFields(c.ackBuckets), sentNational: c.sentNational, receivedNational: c.receivedNational,
  };
}

/** The columns of the CSV and the workbook, with their Vietnamese headers (Excel is read by people). */
export const REPORT_COLUMNS: readonly { field: keyof StatsRow; header: string }[] = [
  { field: 'key', header: 'Mã' },
  { field: 'name', header: 'Tên' },
  { field: 'sent', header: 'Văn bản gửi' },
  { field: 'received', header: 'Văn bản nhận' },
  { field: 'statusSent', header: 'Trạng thái gửi' },
  { field: 'statusReceived', header: 'Trạng thái nhận' },
  { field: 'refused', header: 'Bị từ chối' },
  { field: 'acked', header: 'Đã xác nhận' },
  { field: 'ackFailed', header: 'Xác nhận lỗi' },
  { field: 'medianAckSeconds', header: 'Thời gian xác nhận trung vị (giây)' },
  { field: 'p90AckSeconds', header: 'Thời gian xác nhận p90 (giây)' },
  { field: 'overdue', header: 'Quá hạn chưa xác nhận' },
  // The split with the national axis, after the CONTRACT's columns.
  { field: 'sentNational', header: 'Văn bản gửi lên trục quốc gia' },
  { field: 'receivedNational', header: 'Văn bản nhận từ trục quốc gia' },
];

/**
 * A CSV of the rows (RFC 4180, CRLF), starting with a UTF-8 byte order mark so that Excel reads
 * Vietnamese names right. A text that starts with = + - @ tab or CR is a formula to a spreadsheet,
 * and agency names are whatever an administrator registered: such a text gets a leading ' so it
 * stays text (OWASP, CSV injection; as the dead letters' CSV). Numbers are written as they are.
 */
export function reportCsv(report: StatsReport): string {
  const cell = (v: unknown) => {
    const raw = v === undefined || v === null ? '' : String(v);
    const text = typeof v === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [REPORT_COLUMNS.map((c) => cell(c.header)).join(','), ...report.rows.map((r) => REPORT_COLUMNS.map((c) => cell(r[c.field])).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
