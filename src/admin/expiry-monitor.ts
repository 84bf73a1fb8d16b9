// Watches certificate expiry: a log warning (and a webhook call, if configured) each time a
// certificate crosses a threshold, once per certificate and threshold; checked at start, after
// each trust change and on an interval.
import type { Logger } from 'pino';
import { expiryThreshold, type WatchedCert } from './expiry.js';

export interface ExpiryMonitor { check(): Promise<void>; stop(): void }

export function startExpiryMonitor(opts: {
  watched: () => Promise<WatchedCert[]>;
  clock: () => Date;
  log: Logger;
  intervalMs: number;
  webhookUrl?: string | undefined;
  hubId: string;
}): ExpiryMonitor {
  const alerted = new Set<string>();
  const check = async () => {
    const now = opts.clock();
    for (const cert of await opts.watched()) {
      const threshold = expiryThreshold(cert.notAfter, now);
      const key = `${cert.fingerprint}:${threshold}`;
      if (threshold === null || alerted.has(key)) continue;
      alerted.add(key);
      const alert = {
        hub: opts.hubId, fingerprint: cert.fingerprint, subject: cert.subject, kind: cert.kind, agency: cert.agency,
        notAfter: cert.notAfter.toISOString(), thresholdDays: threshold,
        daysLeft: Math.floor((cert.notAfter.getTime() - now.getTime()) / 86_400_000),
      };
      opts.log.warn(alert, threshold === 0 ? 'certificate expired' : `certificate expires within ${threshold} days`);
      if (opts.webhookUrl !== undefined) await notify(opts.webhookUrl, alert, opts.log);
    }
  };
  const timer = setInterval(() => {
    check().catch((err: Error) => opts.log.error({ err: err.message }, 'expiry check failed'));
  }, opts.intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}

async function notify(url: string, alert: Record<string, unknown>, log: Logger): Promise<void> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
    if (!res.ok) log.error({ status: res.status }, 'expiry webhook refused the alert');
  } catch (err) {
    log.error({ err: (err as Error).message }, 'expiry webhook unreachable');
  }
}
