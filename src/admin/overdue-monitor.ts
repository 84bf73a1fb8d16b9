// Watches documents waiting unacknowledged past alerts.unacknowledgedAfter: the webhook (where
// configured) is sent the list when it changes, and once a day (Asia/Ho_Chi_Minh) while it is not
// empty, with each document's agency, subject and waiting time. Checked at start and on an interval.
// What was last sent is remembered in the hub's ledger, so neither a restart nor the lead moving
// to another replica sends the same list again.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { dayOf } from '../stats/calendar.js';
import type { ExchangeReports, OverdueItem } from './exchange-report.js';
import { periodically, webhookSender, type MonitorOptions } from './expiry-monitor.js';

/** The list last sent (its digest) and the Ho Chi Minh City day it was sent on. */
const Sent = z.object({ list: z.string(), day: z.string() });
const MEMORY = 'overdue';

export interface OverdueMonitor { check(): Promise<void>; stop(): void }

export function startOverdueMonitor(opts: MonitorOptions & { overdue: ExchangeReports['overdue']; thresholdMs: number }): OverdueMonitor {
  const sender = webhookSender(opts.log, 'overdue webhook');
  const none = digestOf('');
  const check = async () => {
    if (!opts.leading()) return;
    const now = opts.clock();
    const items = await opts.overdue();
    const list = digestOf(items.map((i) => `${i.agency}/${i.docId}`).sort().join(' '));
    const day = dayOf(now);
    const held = await opts.memory.alertMemory(MEMORY);
    const last = held === null ? null : Sent.parse(JSON.parse(held));
    const changed = last === null ? list !== none : list !== last.list;
    const daily = last !== null && list !== none && day !== last.day;
    if (!changed && !daily) return;
    // Only the replica that moves the memory on sends (two leading at once for a moment too).
    if (!await opts.memory.rememberAlert(MEMORY, JSON.stringify({ list, day }), now.toISOString(), held)) return;
    const alert = { hub: opts.hubId, kind: 'documents.overdue', unacknowledgedAfterSeconds: opts.thresholdMs / 1000, at: now.toISOString(), items: items.map(itemOf) };
    opts.log.warn({ overdue: items.length }, items.length === 0 ? 'no document is overdue any more' : `${items.length} documents delivered and not acknowledged in time`);
    if (opts.webhook !== undefined) sender.send(opts.webhook, alert, { overdue: items.length });
  };
  return periodically(check, opts.intervalMs, opts.log, 'overdue check', sender);
}

function itemOf(i: OverdueItem) {
  return { agency: i.agency, agencyName: i.agencyName, docId: i.docId, subject: i.subject, receivedAt: i.receivedAt, waitingSeconds: i.waitingSeconds };
}

function digestOf(list: string): string {
  return createHash('sha256').update(list).digest('hex');
}
