// The statistics' calendar (the Asia/Ho_Chi_Minh day) and report shaping: histograms, quantiles,
// regrouping, totals, the CSV.
import { describe, expect, it } from 'vitest';
import { addDays, dayOf, dayStart, daysFrom, formatMoment, isRealDay } from '../../../src/stats/calendar.js';
import { addEncodedBuckets, bucketOf, buildReport, emptyCell, encodeBuckets, quantileOf, regroup, reportCsv, type StatsCell } from '../../../src/stats/report.js';

describe('the statistics calendar', () => {
  it('takes the day in Ho Chi Minh City (UTC+7), whose midnight is 17:00 UTC the day before', () => {
    expect(dayOf('2026-11-01T16:59:59.999Z')).toBe('2026-11-01');
    expect(dayOf('2026-11-01T17:00:00.000Z')).toBe('2026-11-02');
    expect(dayStart('2026-11-02')).toBe('2026-11-01T17:00:00.000Z');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(daysFrom('2026-02-27', '2026-03-01')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    expect(isRealDay('2026-02-28')).toBe(true);
    expect(isRealDay('2026-02-30')).toBe(false);
    expect(isRealDay('2026-2-3')).toBe(false);
  });

  it('shows a moment as dd/mm/yyyy HH:mm in Ho Chi Minh City time', () => {
    expect(formatMoment('2026-11-01T17:05:00Z')).toBe('02/11/2026 00:05');
    expect(formatMoment('not a time')).toBe('not a time');
  });
});

describe('the statistics report', () => {
  it('reads median and p90 from 5 % buckets within 2.5 % of the exact values', () => {
    const times = Array.from({ length: 1000 }, (_, i) => 30 + i * 7.3);
    const buckets = new Map<number, number>();
    for (const t of times) buckets.set(bucketOf(t), (buckets.get(bucketOf(t)) ?? 0) + 1);
    const exact = (q: number) => times[Math.ceil(q * times.length) - 1]!;
    expect(Math.abs(quantileOf(buckets, 0.5)! / exact(0.5) - 1)).toBeLessThan(0.025);
    expect(Math.abs(quantileOf(buckets, 0.9)! / exact(0.9) - 1)).toBeLessThan(0.025);
    expect(quantileOf(new Map(), 0.5)).toBeNull();
    expect(bucketOf(0.2)).toBe(0);
    const decoded = new Map<number, number>();
    addEncodedBuckets(decoded, `${encodeBuckets(buckets)},,${encodeBuckets(new Map([[bucketOf(30), 2]]))}`);
    expect(decoded.get(bucketOf(30))).toBe(buckets.get(bucketOf(30))! + 2);
  });

  it('regroups agencies under their hub, totals every row and writes the CSV with a BOM', () => {
    const cell = (key: string, sent: number, refusedFirstHop: number): StatsCell => ({ ...emptyCell(key), sent, refusedFirstHop, ackBuckets: new Map([[bucketOf(60), 1]]) });
    const cells = regroup([{ ...cell('A1', 2, 1), sentNational: 1 }, { ...cell('B1', 5, 0), receivedNational: 2 }, cell('A2', 1, 0)], (code) => code.slice(0, 1));
    expect(cells.map((c) => [c.key, c.sent, c.ackBuckets.get(bucketOf(60))])).toEqual([['A', 3, 2], ['B', 5, 1]]);
    const report = buildReport({
      from: '2026-11-01', to: '2026-11-30', groupBy: 'hub', cells: [...cells].reverse(), nameOf: (k) => (k === 'A' ? 'Trục "A", tỉnh' : undefined),
      overdueOf: (k) => (k === 'B' ? 4 : 0), refusedByCode: [{ hop: 'first', code: 'SIGNATURE_INVALID', count: 1 }],
    });
    expect(report.rows.map((r) => [r.key, r.name, r.sent, r.refused, r.overdue])).toEqual([['A', 'Trục "A", tỉnh', 3, 1, 0], ['B', undefined, 5, 0, 4]]);
    const sixty = quantileOf(new Map([[bucketOf(60), 1]]), 0.5)!;
    expect(Math.abs(sixty / 60 - 1)).toBeLessThan(0.025);
    expect(report.rows.map((r) => [r.key, r.sentNational, r.receivedNational])).toEqual([['A', 1, 0], ['B', 0, 2]]);
    expect(report.totals).toMatchObject({ sent: 8, sentNational: 1, receivedNational: 2, refused: 1, refusedFirstHop: 1, overdue: 4, medianAckSeconds: sixty, p90AckSeconds: sixty });
    const csv = reportCsv(report);
    expect(csv.startsWith('\uFEFFMã,Tên,Văn bản gửi,')).toBe(true);
    expect(csv.split('\r\n')[1]).toBe(`A,"Trục ""A"", tỉnh",3,0,0,0,1,0,0,${sixty},${sixty},0,1,0`);
  });

  it('keeps a name that starts like a spreadsheet formula as text in the CSV, and numbers as numbers', () => {
    // Agency names come from the directory an administrator edits (agency.add, a CSV plan): a
    // report's reader must not run a formula one of them wrote (issue 14, item 8).
    const names: Record<string, string> = { A: '=HYPERLINK("http://x.example","A")', B: '+1', C: '-1', D: '@SUM(1)', E: '\tTab' };
    const report = buildReport({
      from: '2026-11-01', to: '2026-11-30', groupBy: 'agency', cells: Object.keys(names).map((k) => ({ ...emptyCell(k), sent: 1 })),
      nameOf: (k) => names[k], overdueOf: () => 0, refusedByCode: [],
    });
    const written = reportCsv(report).split('\r\n').slice(1, 6).map((line) => line.slice(2, line.indexOf(',1,')));
    expect(written).toEqual([`"'=HYPERLINK(""http://x.example"",""A"")"`, "'+1", "'-1", "'@SUM(1)", "'\tTab"]);
    expect(reportCsv(report).split('\r\n')[1]!.endsWith(',1,0,0,0,0,0,0,,,0,0,0')).toBe(true);
  });
});
