// Exchange statistics on a real network (issue 20): counts from each hub's ledger after documents,
// statuses, refusals at hop 1 and hop 2 and acknowledgements; the same after every hub restarts;
// the CSV and the Excel workbook hold the same numbers; a document left unacknowledged past the
// (shortened) threshold is listed, counted in the gauge and sent to the webhook once.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, revokedAtDistrict, startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook.js';
import { lgspAsync } from '../helpers/tools.js';
import { emitEdoc } from '../../src/edxml/emit.js';

let n: TestNetwork;
let shift = 0;
/** The three documents sent to the department: the first two acknowledged, the third not. */
const sent: Buffer[] = [];
const ids: string[] = [];
const alerts: { items: { agency: string; docId: string; subject?: string; waitingSeconds: number }[] }[] = [];
let webhook: WebhookSink | undefined;
const agents = () => ({ commune: n.agent('000.07.05.'), school: n.agent('001.07.05.'), department: n.agent('000.00.12.'), village: n.agent('000.08.05.') });
/** The edXML DocumentId a status answers. */
const documentIdOf = (bytes: Buffer) => /<edXML:DocumentId>([^<]+)<\/edXML:DocumentId>/.exec(bytes.toString('utf8'))![1]!;
const today = () => new Date(Date.now() + shift + 7 * 3_600_000).toISOString().slice(0, 10);

beforeAll(async () => {
  webhook = await startWebhookSink(alerts);
  const url = webhook.url;
  n = await startTestNetwork({
    clock: () => new Date(Date.now() + shift),
    configFor: revokedAtDistrict('001.07.05.', (_hubId, config) => ({
      ...config, alerts: { ...config.alerts, webhookUrl: url, unacknowledgedAfter: 24 * 3_600_000, overdueCheckIntervalMs: 100 },
      retention: { ...config.retention, checkIntervalMs: 100 },
      // Unsigned packages pass where policy allows them: counted apart as legacy.
      policy: { ...config.policy, requireSignature: false },
    })),
  });
}, 60_000);
afterAll(async () => {
  await n?.close();
  webhook?.close();
});

const stats = async (hub: number, query: string) => {
  const res = await n.admin(hub, 'GET', `/api/admin/stats?${query}`);
  expect(res.status).toBe(200);
  return res.json;
};
const rowOf = (report: { rows: { key: string }[] }, key: string): any => report.rows.find((r) => r.key === key);

describe('exchange statistics', () => {
  it('counts documents, statuses, refusals at hop 1 and 2 and acknowledgements from the ledger, the same after every hub restarts', async () => {
    const { commune, school, department, village } = agents();
    const doc = (subject: string) => n.document(commune, [department], subject);
    const unsigned = emitEdoc({
      from: { OrganId: commune.agency.code, OrganName: commune.agency.name }, to: [{ OrganId: village.agency.code, OrganName: village.agency.name }],
      codeNumber: '7', codeNotation: 'UBND-VP', promulgationDate: new Date(), subject: 'Không ký số',
      attachments: [{ contentId: 'att1', name: 'vanban.pdf', contentType: 'application/pdf', data: Buffer.from('nội dung') }], at: new Date(),
    });
    expect((await commune.submit(unsigned)).status).toBe(202);
    sent.push(doc('Thống kê một'), doc('Thống kê hai'), doc('Chưa ai đọc'));
    for (const bytes of sent) ids.push((await commune.submit(bytes)).json.docId);
    // Refused at hop 1 (altered after signing) and at hop 2 (the school's certificate is revoked at the district).
    expect((await commune.submit(Buffer.from(doc('Bị sửa').toString().replace('Bị sửa', 'Đã sửa')))).status).toBe(422);
    expect((await school.submit(n.document(school, [department], 'Bị từ chối ở huyện'))).status).toBe(202);
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items.length === 3 ? true : undefined), 'three deliveries');
    const atVillage = await eventually(async () => (await village.request('GET', '/api/v1/edocs/received')).json.items[0], 'the unsigned delivery');
    expect((await village.request('POST', `/api/v1/edocs/${atVillage.docId}/ack`, { result: 'done' })).status).toBe(200);
    expect((await department.request('POST', `/api/v1/edocs/${ids[0]}/ack`, { result: 'done' })).status).toBe(200);
    expect((await department.request('POST', `/api/v1/edocs/${ids[1]}/ack`, { result: 'fail', reason: 'không đọc được' })).status).toBe(200);
    expect((await department.submit(n.status(department, '03', { OrganId: commune.agency.code, DocumentId: documentIdOf(sent[0]!) }))).status).toBe(202);
    await eventually(async () => {
      const school02 = (await school.request('GET', '/api/v1/edocs/received?kind=status')).json.items.length;
      const commune03 = (await commune.request('GET', '/api/v1/edocs/received?kind=status')).json.items.length;
      const r = rowOf(await stats(2, `groupBy=agency&from=${today()}&to=${today()}`), school.agency.code);
      return school02 === 1 && commune03 === 1 && r?.refused === 1 ? true : undefined;
    }, 'the 02 and 03 statuses, and the refusal at hop 2 reported back');

    const range = `from=${today()}&to=${today()}`;
    const atCommune = await stats(2, `${range}&groupBy=agency`);
    expect(rowOf(atCommune, commune.agency.code)).toMatchObject({ name: commune.agency.name, sent: 4, refused: 1, statusReceived: 1, received: 0 });
    expect(rowOf(atCommune, school.agency.code)).toMatchObject({ sent: 1, refused: 1, statusReceived: 1 });
    expect(atCommune.totals).toMatchObject({ sent: 5, refused: 2, refusedFirstHop: 1, refusedLaterHop: 1, legacy: 1 });
    expect(atCommune.totals.refusedByCode).toEqual(expect.arrayContaining([
      { hop: 'first', code: 'SIGNATURE_INVALID', count: 1 }, { hop: 'later', code: 'CERT_REVOKED', count: 1 },
    ]));
    const atProvince = await stats(0, `${range}&groupBy=agency`);
    expect(rowOf(atProvince, commune.agency.code)).toEqual(rowOf(atCommune, commune.agency.code));
    const dept = rowOf(atProvince, department.agency.code);
    expect(dept).toMatchObject({ received: 3, statusSent: 1, acked: 1, ackFailed: 1, overdue: 0 });
    expect(dept.medianAckSeconds).toBeGreaterThan(0);
    expect(dept.p90AckSeconds).toBeGreaterThanOrEqual(dept.medianAckSeconds);
    // By day, over the network: the department's three and the village's one.
    expect((await stats(0, `${range}&groupBy=day`)).rows).toEqual([expect.objectContaining({ key: today(), received: 4, acked: 2, ackFailed: 1 })]);

    // Network-wide: the top hub reads every hub's ledger, the district its own and the commune's.
    const counts = ({ sent, received, statusSent, statusReceived, refused, acked, ackFailed }: Record<string, number>) =>
      ({ sent, received, statusSent, statusReceived, refused, acked, ackFailed });
    const byHub = await stats(0, `${range}&groupBy=hub`);
    const [province, district, communeHub] = n.hubs.map((h) => h.id);
    expect(byHub.rows.map((r: { key: string }) => r.key)).toEqual([province, district, communeHub].sort());
    expect(counts(rowOf(byHub, province!))).toMatchObject({ received: 3, statusSent: 1, acked: 1, ackFailed: 1 });
    expect(counts(rowOf(byHub, communeHub!))).toEqual(counts((await stats(2, range)).totals));
    expect(counts(byHub.totals)).toEqual(counts(byHub.rows.reduce((sum: Record<string, number>, r: Record<string, number>) => {
      for (const k of Object.keys(counts(r))) sum[k] = (sum[k] ?? 0) + r[k]!;
      return sum;
    }, {})));
    expect(counts(byHub.totals)).toEqual(counts((await stats(0, `${range}&groupBy=agency`)).totals));
    expect(byHub.totals).toMatchObject({ hubs: [province, district, communeHub].sort(), unreadHubs: [] });
    expect(byHub.totals.levels.map((l: { level: number; hubs: string[] }) => [l.level, l.hubs])).toEqual([[0, [province]], [1, [district]], [2, [communeHub]]]);
    const atDistrict = await stats(1, `${range}&groupBy=hub`);
    expect(atDistrict.rows.map((r: { key: string }) => r.key)).toEqual([district, communeHub].sort());
    expect(counts(rowOf(atDistrict, communeHub!))).toEqual(counts(rowOf(byHub, communeHub!)));

    const before = [await stats(0, range), await stats(1, range), await stats(2, range)];
    await n.restart();
    expect([await stats(0, range), await stats(1, range), await stats(2, range)]).toEqual(before);
  });

  it('exports CSV (UTF-8 with a BOM) and an Excel workbook holding the same numbers', async () => {
    const range = `from=${today()}&to=${today()}`;
    const json = await stats(0, `${range}&groupBy=agency`);
    const headers = { authorization: `Bearer ${n.net.adminToken}` };
    const csv = await fetch(`${n.hubs[0]!.url}/api/admin/stats?${range}&groupBy=agency&format=csv`, { headers });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = Buffer.from(await csv.arrayBuffer());
    expect([...text.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = text.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(lines[0]).toBe('Mã,Tên,Văn bản gửi,Văn bản nhận,Trạng thái gửi,Trạng thái nhận,Bị từ chối,Đã xác nhận,Xác nhận lỗi,Thời gian xác nhận trung vị (giây),Thời gian xác nhận p90 (giây),Quá hạn chưa xác nhận,Văn bản gửi lên trục quốc gia,Văn bản nhận từ trục quốc gia');
    expect(lines).toHaveLength(json.rows.length + 1);
    const dept = json.rows.find((r: { key: string }) => r.key.startsWith('000.00.12.'));
    expect(lines).toContain(`${dept.key},${dept.name},0,3,1,0,0,1,1,${dept.medianAckSeconds},${dept.p90AckSeconds},0,0,0`);

    const xlsx = await fetch(`${n.hubs[0]!.url}/api/admin/stats?${range}&groupBy=agency&format=xlsx`, { headers });
    expect(xlsx.headers.get('content-disposition')).toBe(`attachment; filename="ThongKeVanBan_${today()}_${today()}.xlsx"`);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await xlsx.arrayBuffer());
    expect(book.worksheets.map((s) => s.name)).toEqual(['Theo cơ quan', 'Theo trục', 'Theo ngày', 'Theo tháng']);
    const sheet = book.getWorksheet('Theo cơ quan')!;
    expect(sheet.getRow(1).getCell(3).value).toBe('Văn bản gửi');
    const found = sheet.getRows(2, sheet.rowCount - 1)!.find((r) => r.getCell(1).value === dept.key)!;
    expect([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((c) => found.getCell(c).value)).toEqual([dept.name, 0, 3, 1, 0, 0, 1, 1, dept.medianAckSeconds, dept.p90AckSeconds, 0, 0, 0]);
    expect(sheet.getRow(sheet.rowCount).getCell(1).value).toBe('Tổng cộng');
  });

  it('documents the statistics routes in the admin OpenAPI document, from their schemas', async () => {
    const doc = await (await fetch(`${n.hubs[0]!.url}/api/admin/openapi.json`)).json() as { paths: Record<string, { get?: { parameters?: { name: string; schema?: { enum?: string[] } }[] } }> };
    const params = doc.paths['/api/admin/stats']!.get!.parameters!;
    expect(params.map((p) => p.name).sort()).toEqual(['format', 'from', 'groupBy', 'to']);
    expect(params.find((p) => p.name === 'groupBy')!.schema!.enum).toEqual(['agency', 'hub', 'day', 'month']);
    expect(doc.paths['/api/admin/overdue']!.get).toBeDefined();
  });

  it('refuses a bad range or grouping with a coded 400 naming the field', async () => {
    for (const [query, field] of [['from=2026-02-30', 'from'], ['from=2026-12-01&to=2026-11-01', 'to'], ['groupBy=week', 'groupBy'], ['format=pdf', 'format'], ['from=2000-01-01&to=2026-01-01', 'to']]) {
      const res = await n.admin(0, 'GET', `/api/admin/stats?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe('SCHEMA_INVALID');
      expect(res.json.error.message).toContain(`${field}:`);
    }
  });

  it('lists a document left unacknowledged past the threshold, counts it in the gauge and tells the webhook once', async () => {
    const { department } = agents();
    expect(alerts).toEqual([]);
    shift = 25 * 3_600_000; // a day and an hour later
    const alert = await eventually(async () => alerts[0], 'the overdue webhook');
    expect(alert.items).toEqual([expect.objectContaining({ agency: department.agency.code, subject: 'Chưa ai đọc', waitingSeconds: expect.any(Number) })]);
    expect(alert.items[0]!.waitingSeconds).toBeGreaterThanOrEqual(25 * 3600 - 60);
    const overdue = await n.admin(0, 'GET', '/api/admin/overdue');
    expect(overdue.json.items).toEqual([expect.objectContaining({ agency: department.agency.code, docId: alert.items[0]!.docId, subject: 'Chưa ai đọc' })]);
    const metrics = await (await fetch(`${n.hubs[0]!.url}/metrics`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).text();
    expect(metrics).toMatch(new RegExp(`^lgsp_documents_overdue\\{.*agency="${department.agency.code.replaceAll('.', '\\.')}".*\\} 1$`, 'm'));
    // Yesterday is rolled up now; the report over both days still counts it, and the overdue document.
    const report = await stats(0, `from=${new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10)}&to=${today()}&groupBy=agency`);
    expect(rowOf(report, department.agency.code)).toMatchObject({ received: 3, acked: 1, ackFailed: 1, overdue: 1 });
    await new Promise((r) => setTimeout(r, 600)); // several checks later: the same list is not sent again
    expect(alerts).toHaveLength(1);
  });

  it('archives acknowledged packages with their digests, then retention removes their bytes: 410 GONE, counts kept', async () => {
    const { department } = agents();
    const province = n.hubs[0]!.id;
    const configFile = path.join(n.net.dir, 'lgsp.config.json');
    fs.writeFileSync(configFile, JSON.stringify(n.net.config));
    const out = path.join(n.net.dir, 'archive');
    const tomorrow = new Date(Date.parse(`${today()}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const bad = await lgspAsync({}, 'ledger', 'export', '--config', configFile, '--hub', province, '--before', '2026-02-30', '--out', out, '--json');
    expect(bad.status).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, code: 'USAGE', message: expect.stringContaining('--before') });
    expect(fs.existsSync(out)).toBe(false);
    const exported = await lgspAsync({}, 'ledger', 'export', '--config', configFile, '--hub', province, '--before', tomorrow, '--out', out, '--json');
    expect(exported.stderr).toBe('');
    expect(JSON.parse(exported.stdout)).toEqual({ ok: true, hub: province, out, documents: 2 });
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.documents.map((d: { docId: string }) => d.docId).sort()).toEqual([ids[0], ids[1]].sort());
    for (const d of manifest.documents) {
      const original = sent[ids.indexOf(d.docId)]!;
      const file = fs.readFileSync(path.join(out, d.file));
      expect(d.sha256).toBe(createHash('sha256').update(original).digest('hex'));
      expect(createHash('sha256').update(file).digest('hex')).toBe(d.sha256);
      expect(d.recipients).toEqual([expect.objectContaining({ agency: department.agency.code })]);
    }
    const before = await stats(0, `from=${new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10)}&to=${today()}&groupBy=agency`);

    shift = 367 * 86_400_000; // a year after the acknowledgements: retention (checked every 100 ms) removes their bytes
    const gone = await eventually(async () => {
      const r = await department.request('GET', `/api/v1/edocs/${ids[0]}`);
      return r.status === 410 ? r : undefined;
    }, 'the acknowledged package gone');
    expect(gone.json.error.code).toBe('GONE');
    expect((await department.request('GET', `/api/v1/edocs/${ids[1]}`)).status).toBe(410);
    expect((await department.request('GET', `/api/v1/edocs/${ids[2]}`)).status).toBe(200); // never acknowledged: kept
    expect((await department.request('GET', `/api/v1/edocs/${ids[0]}/trace`)).status).toBe(200);
    const after = await stats(0, `from=${before.from}&to=${before.to}&groupBy=agency`);
    expect(after.rows.map((r: { overdue: number }) => ({ ...r, overdue: 0 }))).toEqual(before.rows.map((r: { overdue: number }) => ({ ...r, overdue: 0 })));
  });
});
