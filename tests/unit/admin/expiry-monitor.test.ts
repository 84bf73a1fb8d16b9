// The expiry alert is said once per certificate and threshold for the hub: remembered in its
// ledger, so a restart or the lead moving to another replica does not say it again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpiryMonitor } from '../../../src/admin/expiry-monitor.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import type { Ledger } from '../../../src/ledger/store.js';
import { settled, startWebhookSink, type WebhookSink } from '../../helpers/webhook.js';

const received: { fingerprint: string; thresholdDays: number }[] = [];
let server: WebhookSink | undefined;
beforeAll(async () => { server = await startWebhookSink(received, '/'); });
afterAll(() => { server?.close(); });

const settle = (count: number) => settled(received, count);

describe('the expiry monitor', () => {
  it('alerts each threshold of a certificate once for the hub, whichever replica leads and after a restart', async () => {
    let now = new Date('2026-11-01T00:00:00Z');
    const cert = { fingerprint: 'f'.repeat(64), subject: 'CN=A', kind: 'agency' as const, agency: 'A', notAfter: new Date('2026-11-10T00:00:00Z') };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-expiry-'));
    const ledgers: Ledger[] = [openSqliteLedger(dir, () => now), openSqliteLedger(dir, () => now)];
    let leader = 0;
    const start = (i: number) => startExpiryMonitor({
      watched: async () => [cert], clock: () => now, log: pino({ level: 'silent' }), intervalMs: 3_600_000, hubId: 'H',
      webhook: { url: server!.url, timeoutMs: 1000, retries: 0, retryMs: 10 }, leading: () => leader === i, memory: ledgers[i]!,
    });
    const monitors = [start(0), start(1)];
    try {
      await monitors[0]!.check(); // 9 days left: the 14-day threshold
      await monitors[1]!.check(); // not leading
      await settle(1);
      expect(received.map((r) => r.thresholdDays)).toEqual([14]);
      leader = 1;
      await monitors[1]!.check(); // the lead moved: already said
      monitors[0]!.stop();
      monitors[0] = start(0); // a restart
      leader = 0;
      await monitors[0].check();
      await settle(2);
      expect(received).toHaveLength(1);
      now = new Date('2026-11-04T00:00:00Z'); // 6 days left: the 7-day threshold, once
      await Promise.all([monitors[0].check(), (leader = 1, monitors[1]!.check())]);
      await settle(3);
      expect(received.map((r) => r.thresholdDays)).toEqual([14, 7]);
    } finally {
      for (const m of monitors) m.stop();
      for (const l of ledgers) await l.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
