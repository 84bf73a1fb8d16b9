// The overdue alert: the webhook hears the list when it changes (an empty one once it clears) and
// once a day (Asia/Ho_Chi_Minh) while it is not empty; the same list on the same day is not sent again.
// What was sent is remembered in the hub's ledger: another replica taking the lead, or a restart,
// does not send it again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOverdueMonitor } from '../../../src/admin/overdue-monitor.js';
import type { OverdueItem } from '../../../src/admin/exchange-report.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import type { Ledger } from '../../../src/ledger/store.js';
import { settled, startWebhookSink, type WebhookSink } from '../../helpers/webhook.js';

const received: { items: { docId: string }[] }[] = [];
let server: WebhookSink | undefined;
let url: string;
beforeAll(async () => {
  server = await startWebhookSink(received, '/');
  url = server.url;
});
afterAll(() => { server?.close(); });

const item = (docId: string): OverdueItem => ({ agency: 'A', docId, sender: 'S', receivedAt: '2026-11-01T00:00:00.000Z', waitingSeconds: 90_000 });
const settle = (count: number) => settled(received, count);

describe('the overdue monitor', () => {
  it('sends a changed list at once, the same list once a day, and the list cleared', async () => {
    let now = new Date('2026-11-02T10:00:00+07:00');
    let list: OverdueItem[] = [];
    let leading = false;
    // Two replicas of the hub: two handles on one ledger.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-overdue-'));
    const ledgers: Ledger[] = [openSqliteLedger(dir, () => now), openSqliteLedger(dir, () => now)];
    const start = (memory: Ledger, lead: () => boolean) => startOverdueMonitor({
      overdue: async () => list, clock: () => now, log: pino({ level: 'silent' }), intervalMs: 3_600_000, thresholdMs: 86_400_000, hubId: 'H',
      webhook: { url, timeoutMs: 1000, retries: 0, retryMs: 10 }, leading: lead, memory,
    });
    const monitor = start(ledgers[0]!, () => leading);
    const other = start(ledgers[1]!, () => !leading);
    try {
      list = [item('d0')];
      await monitor.check(); // another replica leads: it sends, this one does not
      await settle(1);
      expect(received).toHaveLength(0);
      leading = true;
      list = [];
      await monitor.check(); // nothing overdue, nothing sent
      list = [item('d1')];
      await monitor.check();
      await settle(1);
      expect(received.map((r) => r.items.map((i) => i.docId))).toEqual([['d1']]);
      now = new Date('2026-11-02T23:59:00+07:00');
      await monitor.check(); // same list, same day
      leading = false;
      await other.check(); // the lead moved to the other replica: it knows the list was sent
      await settle(1);
      expect(received).toHaveLength(1);
      leading = true;
      now = new Date('2026-11-03T00:01:00+07:00');
      await monitor.check(); // a new day in Ho Chi Minh City
      await settle(2);
      expect(received).toHaveLength(2);
      list = [item('d1'), item('d2')];
      await monitor.check();
      list = [];
      await monitor.check();
      await settle(4);
      // Two calls in flight at once may land in either order.
      expect(received.slice(2).map((r) => r.items.map((i) => i.docId)).sort((a, b) => b.length - a.length)).toEqual([['d1', 'd2'], []]);
      await monitor.check(); // still empty: nothing more
      await settle(4);
      expect(received).toHaveLength(4);
    } finally {
      monitor.stop();
      other.stop();
      for (const l of ledgers) await l.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
