// Watches certificate expiry: a log warning (and a webhook call, if configured) each time a
// certificate crosses a threshold, once per certificate and threshold for the hub (remembered in
// its ledger, so neither a restart nor the lead moving to another replica says it again); checked
// at start, after each trust change and on an interval. The webhook is an outside server: each call is timed out
// and retried in the background, so a slow or silent receiver never holds up a trust change.
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/store.js';
import { expiryThreshold, type WatchedCert } from './expiry.js';

/** Where a hub's alerts remember what they said (its ledger, shared by its replicas). */
export type AlertMemory = Pick<Ledger, 'alertMemory' | 'rememberAlert'>;

export interface ExpiryMonitor { check(): Promise<void>; stop(): void }

export interface Webhook {
  url: string;
  /** One call is abandoned after this. */
  timeoutMs: number;
  /** A failed call is tried again this many times, after retryMs, then twice as long each time. */
  retries: number;
  retryMs: number;
}

/** What every alert monitor of a hub runs with. */
export interface MonitorOptions {
  clock: () => Date;
  log: Logger;
  intervalMs: number;
  webhook?: Webhook | undefined;
  hubId: string;
  /** Whether this replica alerts for its hub (one replica does: ledger/leadership.ts). */
  leading: () => boolean;
  memory: AlertMemory;
}

export function startExpiryMonitor(opts: MonitorOptions & { watched: () => Promise<WatchedCert[]> }): ExpiryMonitor {
  const sender = webhookSender(opts.log, 'expiry webhook');
  const check = async () => {
    if (!opts.leading()) return;
    const now = opts.clock();
    for (const cert of await opts.watched()) {
      const threshold = expiryThreshold(cert.notAfter, now);
      if (threshold === null) continue;
      // Only the first to remember it says it (two replicas leading at once for a moment too).
      if (!await opts.memory.rememberAlert(`expiry:${cert.fingerprint}:${threshold}`, 'sent', now.toISOString(), null)) continue;
      const alert = {
        hub: opts.hubId, fingerprint: cert.fingerprint, subject: cert.subject, kind: cert.kind, agency: cert.agency,
        notAfter: cert.notAfter.toISOString(), thresholdDays: threshold,
        daysLeft: Math.floor((cert.notAfter.getTime() - now.getTime()) / 86_400_000),
      };
      opts.log.warn(alert, threshold === 0 ? 'certificate expired' : `certificate expires within ${threshold} days`);
      if (opts.webhook !== undefined) sender.send(opts.webhook, alert, { fingerprint: alert.fingerprint });
    }
  };
  return periodically(check, opts.intervalMs, opts.log, 'expiry check', sender);
}

/**
 * A monitor: `check` now and then every `intervalMs` (a failed round is logged; the next one tries
 * again) until stopped, which also ends the webhook's retries in the background.
 */
export function periodically(check: () => Promise<void>, intervalMs: number, log: Logger, what: string, sender: { stop(): void }): ExpiryMonitor {
  const timer = setInterval(() => {
    check().catch((err: Error) => log.error({ err: err.message }, `${what} failed`));
  }, intervalMs);
  timer.unref();
  return {
    check,
    stop: () => {
      clearInterval(timer);
      sender.stop();
    },
  };
}

/**
 * Sends alerts to a webhook in the background: each call timed out, a failed one retried after
 * retryMs, then twice as long each time, until `retries` run out; stop() abandons them all.
 */
export function webhookSender(log: Logger, what: string): { send(webhook: Webhook, alert: Record<string, unknown>, context: Record<string, unknown>): void; stop(): void } {
  const stopped = new AbortController();
  const retries = new Set<NodeJS.Timeout>();
  const send = (webhook: Webhook, alert: Record<string, unknown>, about: Record<string, unknown>, attempt: number): void => {
    void notify(webhook, alert, stopped.signal).then((failure) => {
      if (failure === null || stopped.signal.aborted) return;
      const context = { ...about, attempt: attempt + 1, err: failure };
      if (attempt >= webhook.retries) return log.error(context, `${what} failed; giving up on this alert`);
      const waitMs = webhook.retryMs * 2 ** attempt;
      log.warn({ ...context, retryInMs: waitMs }, `${what} failed; retrying`);
      const timer = setTimeout(() => { retries.delete(timer); send(webhook, alert, about, attempt + 1); }, waitMs);
      timer.unref();
      retries.add(timer);
    });
  };
  return {
    send: (webhook, alert, context) => send(webhook, alert, context, 0),
    stop: () => {
      stopped.abort();
      for (const t of retries) clearTimeout(t);
    },
  };
}

/** One call: null once the receiver took the alert, else why not. */
async function notify(webhook: Webhook, alert: Record<string, unknown>, stopped: AbortSignal): Promise<string | null> {
  try {
    const res = await fetch(webhook.url, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert),
      signal: AbortSignal.any([stopped, AbortSignal.timeout(webhook.timeoutMs)]),
    });
    await res.body?.cancel();
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? `no answer within ${webhook.timeoutMs} ms` : (err as Error).message;
  }
}
