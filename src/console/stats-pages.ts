// The console's statistics (issue 20): the "Thống kê / Statistics" page (a date range, documents
// per day as a chart, the per-agency table sortable by each column, the overdue list, CSV and
// Excel exports) and the dashboard's 7-day chart. Sorting is by links (the console runs no script).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ExchangeReports, OverdueItem } from '../admin/exchange-report.js';
import { XLSX_TYPE, workbookOf } from '../admin/stats-workbook.js';
import { addDays, dayOf, daysFrom, formatDay, formatMoment, isRealDay, reportRange } from '../stats/calendar.js';
import { MAX_REPORT_DAYS, reportCsv, type StatsRow } from '../stats/report.js';
import { lineChart } from './chart.js';
import { fieldsOf, type ConsoleFrame } from './frame.js';
import { html, type Html } from './html.js';
import { label, type Lang, type Label } from './i18n.js';

export interface StatsPageDeps { reports: ExchangeReports; clock: () => Date }

const COLUMNS: [keyof StatsRow, Label][] = [
  ['sent', 'sent'], ['received', 'received'], ['statusSent', 'statusSent'], ['statusReceived', 'statusReceived'], ['refused', 'refused'],
  ['acked', 'ackDone'], ['ackFailed', 'ackFailed'], ['medianAckSeconds', 'medianAck'], ['p90AckSeconds', 'p90Ack'], ['overdue', 'overdue'],
];
const SORTABLE = new Set<string>(['key', 'name', ...COLUMNS.map(([f]) => f)]);

/** The range of the page's query, or the last 30 days (and whether what was asked was refused). */
function rangeOf(request: FastifyRequest, now: Date): { from: string; to: string; refused: boolean } {
  const q = fieldsOf(request.query);
  const from = q.from || undefined;
  const to = q.to || undefined;
  const refused = { ...reportRange({}, now), refused: true };
  if (![from, to].every((d) => d === undefined || isRealDay(d))) return refused;
  const range = reportRange({ from, to }, now);
  return range.from <= range.to && daysFrom(range.from, range.to).length <= MAX_REPORT_DAYS ? { ...range, refused: false } : refused;
}

/** Documents per day (sent, received, refused) over the range, every day drawn (none: zero). */
async function perDayChart(reports: ExchangeReports, lang: Lang, from: string, to: string, title: Label, testId: string): Promise<Html> {
  const l = (k: Label) => label(lang, k);
  const byDay = new Map((await reports.report({ from, to, groupBy: 'day' })).rows.map((r) => [r.key, r]));
  const days = daysFrom(from, to);
  const values = (f: 'sent' | 'received' | 'refused') => days.map((d) => byDay.get(d)?.[f] ?? 0);
  return lineChart({
    title: `${l(title)} (${formatDay(from)} – ${formatDay(to)})`, testId, labels: days.map((d) => formatDay(d).slice(0, 5)),
    series: [
      { name: l('sent'), colour: '#1f5fa8', values: values('sent') },
      { name: l('received'), colour: '#1b7d3a', values: values('received') },
      { name: l('refused'), colour: '#b3261e', values: values('refused') },
    ],
  });
}

/** A waiting time as people read it: 1 ngày 3 giờ, 25 phút. */
function waited(lang: Lang, seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const parts = [[d, 'days'], [h, 'hours'], [m, 'minutes']] as const;
  return parts.filter(([n], i) => n > 0 || (i === 2 && d === 0 && h === 0)).map(([n, k]) => `${n} ${label(lang, k)}`).join(' ');
}

export function overdueTable(lang: Lang, items: readonly OverdueItem[]): Html {
  const l = (k: Label) => label(lang, k);
  if (items.length === 0) return html`<p data-testid="overdue">${l('none')}</p>`;
  return html`<table data-testid="overdue"><tr><th>${l('agency')}</th><th>${l('docId')}</th><th>${l('sender')}</th><th>${l('subject')}</th><th>${l('at')}</th><th>${l('waiting')}</th></tr>
${items.map((o) => html`<tr><td>${o.agencyName ?? o.agency}<br><small>${o.agency}</small></td><td><a href="/admin/documents/${o.docId}">${o.docId}</a></td>
<td>${o.sender}</td><td>${o.subject ?? ''}</td><td>${formatMoment(o.receivedAt)}</td><td class="bad">${waited(lang, o.waitingSeconds)}</td></tr>`)}</table>`;
}

export function statsPages(app: FastifyInstance, { view, who, t }: ConsoleFrame, deps: StatsPageDeps): { weekChart(lang: Lang): Promise<Html> } {
  app.get('/admin/stats', view('stats', async (lang, request) => {
    const l = t(lang);
    const { from, to, refused } = rangeOf(request, deps.clock());
    const q = fieldsOf(request.query);
    const sort = q.sort !== undefined && SORTABLE.has(q.sort) ? q.sort as keyof StatsRow : 'key';
    const desc = q.dir === 'desc';
    const [report, overdue, chart] = await Promise.all([
      deps.reports.report({ from, to, groupBy: 'agency' }), deps.reports.overdueBelow(), perDayChart(deps.reports, lang, from, to, 'documentsPerDay', 'stats-chart'),
    ]);
    const value = (r: StatsRow) => r[sort] ?? (sort === 'name' ? r.key : -1);
    const rows = [...report.rows].sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'vi');
      return desc ? -order : order;
    });
    const range = `from=${from}&to=${to}`;
    const head = (field: keyof StatsRow, text: string) => {
      const on = sort === field;
      return html`<th><a href="/admin/stats?${range}&sort=${field}&dir=${on && !desc ? 'desc' : 'asc'}" data-sort="${field}">${text}${on ? (desc ? ' ▼' : ' ▲') : ''}</a></th>`;
    };
    const secs = (v: number | null) => (v === null ? '–' : v < 60 ? `${v} s` : waited(lang, Math.round(v)));
    return html`${refused ? html`<p class="bad" role="alert">${l('badRange')}</p>` : ''}
<form method="get" data-testid="range"><label>${l('from')} <input type="date" name="from" value="${from}"></label>
<label>${l('to')} <input type="date" name="to" value="${to}"></label> <button>${l('show')}</button>
<a class="button" href="/admin/stats.csv?${range}" data-testid="csv">${l('exportCsv')}</a> <a class="button" href="/admin/stats.xlsx?${range}" data-testid="xlsx">${l('exportExcel')}</a></form>
${chart}
<table data-testid="stats"><tr>${head('key', l('code'))}${head('name', l('name'))}${COLUMNS.map(([f, k]) => head(f, l(k)))}</tr>
${rows.map((r) => html`<tr data-agency="${r.key}"><td>${r.key}</td><td>${r.name ?? ''}</td><td>${r.sent}</td><td>${r.received}</td><td>${r.statusSent}</td><td>${r.statusReceived}</td>
<td>${r.refused}</td><td>${r.acked}</td><td>${r.ackFailed}</td><td>${secs(r.medianAckSeconds)}</td><td>${secs(r.p90AckSeconds)}</td><td class="${r.overdue > 0 ? 'bad' : ''}">${r.overdue}</td></tr>`)}
<tr class="total"><th colspan="2">${l('total')}</th><th>${report.totals.sent}</th><th>${report.totals.received}</th><th>${report.totals.statusSent}</th><th>${report.totals.statusReceived}</th>
<th>${report.totals.refused}</th><th>${report.totals.acked}</th><th>${report.totals.ackFailed}</th><th>${secs(report.totals.medianAckSeconds)}</th><th>${secs(report.totals.p90AckSeconds)}</th><th>${report.totals.overdue}</th></tr></table>
<h2>${l('overdueList')}</h2>${overdueTable(lang, overdue)}`;
  }));

  // The exports for a browser, which has the session cookie and not the API's bearer token.
  for (const format of ['csv', 'xlsx'] as const) {
    app.get(`/admin/stats.${format}`, async (request, reply) => {
      if ((await who(request)) === null) return reply.redirect('/admin/login');
      const { from, to } = rangeOf(request, deps.clock());
      const report = await deps.reports.report({ from, to, groupBy: 'agency' });
      const name = `ThongKeVanBan_${from}_${to}`;
      return format === 'csv'
        ? reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}_agency.csv"`).send(reportCsv(report))
        : reply.type(XLSX_TYPE).header('content-disposition', `attachment; filename="${name}.xlsx"`).send(await workbookOf(deps.reports, report));
    });
  }

  return {
    weekChart: (lang) => {
      const today = dayOf(deps.clock());
      return perDayChart(deps.reports, lang, addDays(today, -6), today, 'last7Days', 'week-chart');
    },
  };
}
