// The console's statistics page and the dashboard's 7-day chart in real headless Chromium
// (Debian's chromium, driven by playwright-core): the chart is drawn on the server as SVG with a
// point per day and series, the agency table sorts by a column, the overdue list shows a document
// in Ho Chi Minh City time, and the exports download with the session. Screenshots go to tests/artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { ARTIFACTS, hasChromium, launchChromium } from '../helpers/chromium.js';


let n: TestNetwork;
let browser: Browser;
let shift = 0;

beforeAll(async () => {
  if (!hasChromium) return;
  n = await startTestNetwork({ clock: () => new Date(Date.now() + shift) });
  browser = await launchChromium();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await n?.close();
});

describe.skipIf(!hasChromium)('the statistics in the console', () => {
  it('draws documents per day, sorts the agency table, lists overdue documents and exports CSV and Excel', async () => {
    const commune = n.agent('000.07.05.');
    const village = n.agent('000.03.06.');
    const department = n.agent('000.00.12.');
    for (const [from, subject] of [[commune, 'Báo cáo tháng'], [commune, 'Giấy mời'], [village, 'Tờ trình']] as const) {
      expect((await from.submit(n.document(from, [department], subject))).status).toBe(202);
    }
    expect((await commune.submit(Buffer.from(n.document(commune, [department], 'Bị sửa').toString().replace('Bị sửa', 'Đã sửa')))).status).toBe(422);
    const received = await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/received')).json.items;
      return items.length === 3 ? items : undefined;
    }, 'three deliveries');
    expect((await department.request('POST', `/api/v1/edocs/${received[0].docId}/ack`, { result: 'done' })).status).toBe(200);
    shift = 25 * 3_600_000; // a day later: the two documents not acknowledged are overdue

    const province = n.hubs[0]!.url;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(10_000);
    const violations: string[] = [];
    page.on('console', (m) => { if (m.text().includes('Content Security Policy')) violations.push(m.text()); });
    page.on('request', (r) => { if (!r.url().startsWith(province)) violations.push(`request to ${r.url()}`); });
    await page.goto(`${province}/admin/login`);
    await page.fill('input[name=token]', n.net.adminToken);
    await page.click('button[type=submit]');
    await page.waitForURL(`${province}/admin`);

    // The dashboard's 7-day chart: three series of seven points, the day of the deliveries (one or
    // two days back in Ho Chi Minh City, by the time of day) at 3.
    const hcmDay = (t: number) => Date.parse(new Date(t + 7 * 3_600_000).toISOString().slice(0, 10));
    const back = Math.round((hcmDay(Date.now() + shift) - hcmDay(Date.now())) / 86_400_000);
    const week = page.locator('[data-testid=week-chart]');
    expect(await week.locator('circle').count()).toBe(21);
    expect(await week.locator('g[data-series="Văn bản nhận"] circle').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-value')))))
      .toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => (i === 6 - back ? 3 : 0)));
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-dashboard-week.png'), fullPage: true });

    await page.click('nav a[href="/admin/stats"]');
    expect(await page.textContent('h1')).toBe('Thống kê');
    const chart = page.locator('[data-testid=stats-chart]');
    expect(await chart.locator('circle').count()).toBe(90); // 30 days × sent, received, refused
    const receivedLine = chart.locator('g[data-series="Văn bản nhận"] polyline');
    const ys = (await receivedLine.getAttribute('points'))!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(new Set(ys).size).toBe(2); // flat at zero but for the day of the three deliveries
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(600);
    fs.writeFileSync(path.join(ARTIFACTS, 'console-stats-chart.png'), await chart.screenshot());

    const dept = page.locator(`[data-testid=stats] tr[data-agency="${department.agency.code}"]`);
    expect(await dept.locator('td').allTextContents()).toEqual(expect.arrayContaining([department.agency.code, 'Sở Nội vụ', '3']));
    // Sorted by received, most first: the department heads the table.
    await page.click('[data-sort=received]');
    await page.click('[data-sort=received]');
    expect(page.url()).toContain('sort=received&dir=desc');
    expect(await page.locator('[data-testid=stats] tr[data-agency]').first().getAttribute('data-agency')).toBe(department.agency.code);

    const overdue = page.locator('[data-testid=overdue]');
    expect(await overdue.locator('tr').count()).toBe(3); // the header and two documents
    const text = await overdue.textContent();
    expect(text).toContain('Giấy mời');
    expect(text).toMatch(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    expect(text).toContain('1 ngày');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-stats.png'), fullPage: true });

    const csv = await page.request.get(`${province}${await page.getAttribute('[data-testid=csv]', 'href')}`);
    expect(csv.headers()['content-type']).toBe('text/csv; charset=utf-8');
    expect((await csv.text()).startsWith('\uFEFFMã,Tên,Văn bản gửi')).toBe(true);
    const xlsx = await page.request.get(`${province}${await page.getAttribute('[data-testid=xlsx]', 'href')}`);
    expect(xlsx.headers()['content-disposition']).toMatch(/^attachment; filename="ThongKeVanBan_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.xlsx"$/);
    expect((await xlsx.body()).subarray(0, 2).toString()).toBe('PK');

    // Across the console: roles and states in Vietnamese, times as dd/mm/yyyy HH:mm (no raw ISO UTC).
    await page.goto(`${province}/admin/documents`);
    const listing = (await page.textContent('main'))!;
    expect(listing).toContain('nơi nhận');
    expect(listing).toMatch(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    expect(listing).not.toMatch(/destination|origin|\d{4}-\d{2}-\d{2}T\d{2}/);
    await page.goto(`${province}/admin/documents/${received[1].docId}`);
    expect(await page.textContent('main')).toContain('chưa xác nhận');

    await page.goto(`${province}/admin/stats?lang=en&from=2026-02-30`);
    expect(await page.textContent('h1')).toBe('Statistics');
    expect(await page.textContent('[role=alert]')).toContain('Not a valid date range');
    expect(violations).toEqual([]);
    await page.close();
  });
});
