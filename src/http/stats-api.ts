// The exchange statistics (issue 20): GET /api/admin/stats (role observer and up) as JSON, as CSV
// (UTF-8 with a byte order mark, so that Excel reads Vietnamese names right) or as an Excel
// workbook (exceljs: one sheet per grouping, Vietnamese headers, named ThongKeVanBan_<from>_<to>.xlsx);
// GET /api/admin/overdue, the documents waiting unacknowledged past alerts.unacknowledgedAfter.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AdminRole } from '../config.js';
import type { ExchangeReports } from '../admin/exchange-report.js';
import { XLSX_TYPE, workbookOf } from '../admin/stats-workbook.js';
import { isRealDay, reportRange } from '../stats/calendar.js';
import { GROUPINGS, MAX_REPORT_DAYS, reportCsv } from '../stats/report.js';
import { adminCaller, type AdminTokens, type AgencyKeys } from './auth.js';
import { ADMIN_ERRORS, Bytes, errorsOf } from './route-schema.js';

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];

const Day = z.string().refine(isRealDay, 'a calendar day YYYY-MM-DD (Asia/Ho_Chi_Minh)');
export const StatsQuery = z.object({
  from: Day.optional().describe('first day, included; default: 29 days before to'),
  to: Day.optional().describe('last day, included; default: today'),
  groupBy: z.enum(GROUPINGS).default('agency'),
  format: z.enum(['json', 'csv', 'xlsx']).default('json'),
}).refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'must not be before from', path: ['to'] })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.to) - Date.parse(q.from) < MAX_REPORT_DAYS * 86_400_000,
    { message: `a report covers at most ${MAX_REPORT_DAYS} days`, path: ['to'] });

const Seconds = z.number().nullable().describe('from delivery to acknowledgement, read from a histogram of 5 % steps; null without acknowledgements');
const Counts = {
  sent: z.number().int(), received: z.number().int(), statusSent: z.number().int(), statusReceived: z.number().int(),
  refused: z.number().int().describe('at the first hop and at later hops'), acked: z.number().int().describe('acknowledged done'),
  ackFailed: z.number().int().describe('acknowledged fail'), medianAckSeconds: Seconds, p90AckSeconds: Seconds,
  overdue: z.number().int().describe('delivered and not acknowledged past alerts.unacknowledgedAfter, now'),
  sentNational: z.number().int().describe('of sent: documents with a recipient reached through the national axis'),
  receivedNational: z.number().int().describe('of received: documents the national axis handed down'),
};
const StatsBody = z.object({
  from: z.string(), to: z.string(), groupBy: z.enum(GROUPINGS),
  rows: z.array(z.object({ key: z.string(), name: z.string().optional(), ...Counts })),
  totals: z.object({
    ...Counts, legacy: z.number().int().describe('accepted unsigned or with a legacy algorithm, as policy allowed'),
    refusedFirstHop: z.number().int(), refusedLaterHop: z.number().int(),
    refusedByCode: z.array(z.object({ hop: z.enum(['first', 'later']), code: z.string(), count: z.number().int() })),
    hubs: z.array(z.string()).describe('the hubs whose ledgers were read: this one and those below it'),
    unreadHubs: z.array(z.string()).describe('hubs below whose ledgers could not be read: their agencies are missing'),
    levels: z.array(z.object({
      level: z.number().int().describe('0: the top hub'), hubs: z.array(z.string()), sent: z.number().int(), received: z.number().int(),
      statusSent: z.number().int(), statusReceived: z.number().int(), refused: z.number().int(), acked: z.number().int(), ackFailed: z.number().int(),
    })),
  }),
}).describe('Counts per agency, hub, day or month over Asia/Ho_Chi_Minh days, for this hub and every hub below it (docs/statistics.md)');
const OverdueBody = z.object({
  items: z.array(z.object({
    agency: z.string(), agencyName: z.string().optional(), docId: z.string(), sender: z.string(), subject: z.string().optional(),
    receivedAt: z.string(), waitingSeconds: z.number().int(),
  })),
});

export interface StatsApiDeps { admins: AdminTokens; agencyKeys: AgencyKeys; reports: ExchangeReports; clock: () => Date }

export async function statsApi(app: FastifyInstance, deps: StatsApiDeps): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const reader = adminCaller(deps.admins, deps.agencyKeys, READ);
  const tags = ['statistics'];

  api.get('/api/admin/stats', {
    onRequest: reader,
    schema: {
      tags, summary: 'Documents exchanged per agency, hub, day or month (JSON, CSV or Excel)', querystring: StatsQuery,
      produces: ['application/json', 'text/csv', XLSX_TYPE],
      response: {
        200: z.union([StatsBody, z.string().describe('format=csv: the rows as CSV, UTF-8 with a byte order mark'), Bytes.describe('format=xlsx: an Excel workbook')]),
        ...errorsOf(...ADMIN_ERRORS, 'SCHEMA_INVALID'),
      },
    },
  }, async (request, reply) => {
    const { groupBy, format } = request.query;
    const range = reportRange(request.query, deps.clock());
    const report = await deps.reports.report({ ...range, groupBy });
    if (format === 'json') return report;
    const name = `ThongKeVanBan_${range.from}_${range.to}`;
    if (format === 'csv') {
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}_${groupBy}.csv"`).send(reportCsv(report));
    }
    return reply.type(XLSX_TYPE).header('content-disposition', `attachment; filename="${name}.xlsx"`).send(await workbookOf(deps.reports, report));
  });

  api.get('/api/admin/overdue', {
    onRequest: reader,
    schema: { tags, summary: 'Documents delivered and not acknowledged past alerts.unacknowledgedAfter, at this hub and those below it, oldest first', response: { 200: OverdueBody, ...errorsOf(...ADMIN_ERRORS) } },
  }, async () => ({ items: await deps.reports.overdueBelow() }));
}
