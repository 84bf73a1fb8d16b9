// Watches documents waiting unacknowledged past alerts.unacknowledgedAfter: the webhook (where
// configured) is sent the list when it changes, and once a day (Asia/Ho_Chi_Minh) while it is not
// empty, with each document's agency, subject and waiting time. Checked at start and on an interval.
import type { Logger } from 'pino';
import { dayOf } from '../stats/calendar.js';
import type { ExchangeReports, OverdueItem } from './exchange-report.js';
import { periodically, webhookSender, type Webhook } from './expiry-monitor.js';

export interface OverdueMonitor { check(): Promise<void>; stop(): void }

export function startOverdueMonitor(opts: {
  overdue: ExchangeReports['overdue'];
  clock: () => Date;
  log: Logger;
  intervalMs: number;
  thresholdMs: number;
  webhook?: Webhook | undefined;
  hubId: string;
  /** Whether this replica alerts for its hub (one replica does: ledger/leadership.ts). */
  leading: () => boolean;
}): OverdueMonitor {
  const sender = webhookSender(opts.log, 'overdue webhook');
  let last: { list: string; day: string } | null = null;
  const check = async () => {
    if (!opts.leading()) return;
    const now = opts.clock();
    const items = await opts.overdue();
    const list = items.map((i) => `${i.agency}/${i.docId}`).sort().join(' ');
    const day = dayOf(now);
    const changed = last === null ? list !== '' : list !== last.list;
    const daily = last !== null && list !== '' && day !== last.day;
    if (!changed && !daily) return;
    last = { list, day };
    const alert = { hub: opts.hubId, kind: 'documents.overdue', unacknowledgedAfterSeconds: opts.thresholdMs / 1000, at: now.toISOString(), items: items.map(itemOf) };
    opts.log.warn({ overdue: items.length }, items.length === 0 ? 'no document is overdue any more' : `${items.length} documents delivered and not acknowledged in time`);
    if (opts.webhook !== undefined) sender.send(opts.webhook, alert, { overdue: items.length });
  };
  return periodically(check, opts.intervalMs, opts.log, 'overdue check', sender);
}

function itemOf(i: OverdueItem) {
  return { agency: i.agency, agencyName: i.agencyName, docId: i.docId, subject: i.subject, receivedAt: i.receivedAt, waitingSeconds: i.waitingSeconds };
}
