// The web console in real headless Chromium (Debian's chromium, driven by playwright-core):
// sign in (each hub its own session), see the dashboard under its Content-Security-Policy, find a dead letter, replay it, follow the document's trace; pause
// a lane, see what waits in it, resume it.
// Screenshots go to tests/artifacts/.
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrl, type KeyAndCert } from '../../src/pki/dev-pki.js';
import { eventually, networkCa, revokedAtDistrict, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { ARTIFACTS, hasChromium, launchChromium } from '../helpers/chromium.js';

const DAY = 86_400_000;

let n: TestNetwork;
let browser: Browser;
let ca: KeyAndCert;
let school: Agent, department: Agent;

beforeAll(async () => {
  if (!hasChromium) return;
  n = await startTestNetwork({ configFor: revokedAtDistrict('001.07.05.') });
  ca = networkCa(n.net);
  school = n.agent('001.07.05.');
  department = n.agent('000.00.12.');
  browser = await launchChromium();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await n?.close();
});

describe.skipIf(!hasChromium)('web console', () => {
  it('signs in, shows the dashboard, replays a dead letter and follows the trace', async () => {
    const { docId } = (await school.submit(n.document(school, [department], 'Văn bản cần gửi lại'))).json;
    const district = n.hubs[1]!.url;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    const violations: string[] = [];
    page.on('console', (m) => { if (m.text().includes('Content Security Policy')) violations.push(m.text()); });

    await page.goto(`${district}/admin`);
    expect(page.url()).toContain('/admin/login');
    await page.fill('input[name=token]', 'wrong');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('không đúng');
    await page.fill('input[name=token]', n.net.adminToken);
    await page.click('button[type=submit]');
    await page.waitForURL(`${district}/admin`);
    expect(await page.textContent('h1')).toBe('Tổng quan');
    expect(await page.textContent('[data-testid=queues]')).toContain(`lgsp.${n.hubs[1]!.id}.ingress`);
    // The stylesheet applies under the Content-Security-Policy (no inline style is allowed).
    // (Runs in the page: the DOM's getComputedStyle, which this file's types do not know.)
    expect(await page.locator('header').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } })
      .getComputedStyle(el).backgroundColor)).toBe('rgb(139, 26, 26)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-dashboard.png'), fullPage: true });

    await page.goto(`${district}/admin/dead-letters?lang=en`);
    expect(await page.textContent('h1')).toBe('Dead letters');
    const row = page.locator('tr[data-dead-letter]', { hasText: docId });
    await expect.poll(async () => { await page.reload(); return row.count(); }, { timeout: 15_000 }).toBe(1);
    expect(await row.textContent()).toContain('CERT_REVOKED');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-dead-letters.png'), fullPage: true });

    // The cause is fixed (a newer CRL without the school), then the operator replays it.
    const crl = await createCrl(ca, [], new Date(Date.now() + 1000), new Date(Date.now() + DAY));
    const imported = await fetch(`${district}/api/admin/crls`, { method: 'POST', body: crl, headers: { authorization: `Bearer ${n.net.adminToken}`, 'content-type': 'application/x-pem-file' } });
    expect(imported.status).toBe(200);
    await row.getByRole('button', { name: 'Replay' }).click();
    await page.waitForURL(/flash=/);
    expect(await page.textContent('[role=status]')).toContain('Done');
    expect(await page.locator('tr[data-dead-letter]', { hasText: docId }).count()).toBe(0);

    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items
      .some((i: { docId: string }) => i.docId === docId) ? true : undefined), 'the replayed package delivered');

    // Follow the document at the hub that delivered it: one entry per hub, each with its checks.
    // Each hub keeps its own console sessions: the district hub's cookie signs in nowhere else.
    await page.goto(`${n.hubs[0]!.url}/admin/documents`);
    expect(page.url()).toContain('/admin/login');
    await page.fill('input[name=token]', n.net.adminToken);
    await page.click('button[type=submit]');
    await page.waitForURL(`${n.hubs[0]!.url}/admin`);
    await page.goto(`${n.hubs[0]!.url}/admin/documents`);
    await page.fill('input[name=docId]', docId);
    await page.click('[data-testid=search] button');
    await page.waitForURL(`**/admin/documents/${docId}`);
    const hubs = await page.locator('[data-testid=timeline] li').evaluateAll((items) => items.map((li) => li.getAttribute('data-hub')));
    expect(hubs).toEqual([n.hubs[2]!.id, n.hubs[1]!.id, n.hubs[0]!.id]);
    expect(await page.textContent('[data-testid=timeline]')).toContain('certificate: ok');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-trace.png'), fullPage: true });
    expect(violations).toEqual([]);
    await page.close();
  });

  it('pauses a lane, lists what waits in it, and resumes it', async () => {
    const province = n.hubs[0]!;
    const ingress = `lgsp.${province.id}.ingress`;
    const commune = n.agent('000.07.05.');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    await page.goto(`${province.url}/admin/login?lang=en`);
    await page.fill('input[name=token]', n.net.adminToken);
    await page.click('button[type=submit]');
    await page.waitForURL(`${province.url}/admin`);

    await page.goto(`${province.url}/admin/queues`);
    await page.click(`a[href="/admin/queues/${ingress}"]`);
    await page.getByRole('button', { name: 'Pause' }).click();
    expect(await page.textContent('[data-testid=lane]')).toBe('paused');
    const { docId } = (await commune.submit(n.document(commune, [department], 'Chờ trong hàng đợi'))).json;
    await expect.poll(async () => { await page.reload(); return page.locator('[data-testid=messages] tr', { hasText: docId }).count(); }, { timeout: 15_000 }).toBe(1);
    await page.fill('input[name=docId]', docId);
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.locator('[data-testid=messages] tr').count()).toBe(2); // header and the one row
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-queue.png'), fullPage: true });

    await page.getByRole('button', { name: 'Resume' }).click();
    expect(await page.textContent('[data-testid=lane]')).toBe('running');
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items
      .some((i: { docId: string }) => i.docId === docId) ? true : undefined), 'the held package delivered after resume');
    await page.close();
  });
});
