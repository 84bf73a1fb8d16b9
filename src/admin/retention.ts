// Retention (issue 20): at start and on an interval, removes the bytes of packages acknowledged
// longer ago than retention.packagesAfterAck and the dead letters older than
// retention.deadLettersAfter, and audits what it removed. Idempotent, so replicas may both run it.
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/store.js';

export interface RetentionSweeper { sweep(): Promise<{ packages: number; deadLetters: number }>; stop(): void }

export function startRetention(opts: {
  ledger: Ledger; clock: () => Date; log: Logger;
  packagesAfterAckMs: number; deadLettersAfterMs: number; intervalMs: number;
}): RetentionSweeper {
  const sweep = async () => {
    const now = opts.clock().getTime();
    const ackedBefore = new Date(now - opts.packagesAfterAckMs).toISOString();
    const deadBefore = new Date(now - opts.deadLettersAfterMs).toISOString();
    const removed = { packages: await opts.ledger.removePackageBytes(ackedBefore), deadLetters: await opts.ledger.removeDeadLetters(deadBefore) };
    if (removed.packages + removed.deadLetters > 0) {
      opts.log.info({ ...removed, ackedBefore, deadBefore }, 'retention removed old package bytes and dead letters');
      await opts.ledger.audit('retention', 'retention.sweep', { ...removed, ackedBefore, deadBefore });
    }
    return removed;
  };
  const timer = setInterval(() => {
    sweep().catch((err: Error) => opts.log.error({ err: err.message }, 'retention sweep failed'));
  }, opts.intervalMs);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
