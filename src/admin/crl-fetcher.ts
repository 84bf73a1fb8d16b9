// Fetches CRLs from their sources on a schedule. A new CRL goes into this hub's trust store (every
// hub fetches for itself). A failed fetch is logged; once the CRL held is past its nextUpdate the
// warning is loud (error level, and /readyz reports it) until a fresh one arrives.
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/store.js';
import { loadCrl } from '../trust/crl.js';
import type { TrustState } from './trust-state.js';

export interface CrlFetcher { fetchAll(): Promise<void>; stop(): void }

export function startCrlFetcher(opts: {
  sources: readonly { url: string; intervalMs: number }[];
  ledger: Ledger;
  trust: TrustState;
  clock: () => Date;
  log: Logger;
}): CrlFetcher {
  const fetchOne = async (url: string) => {
    let data: Buffer;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      data = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      const stale = opts.trust.staleCrls(opts.clock());
      const log = stale.length > 0 ? opts.log.error.bind(opts.log) : opts.log.warn.bind(opts.log);
      log({ url, err: (err as Error).message, stale }, stale.length > 0 ? 'CRL source unreachable and a CRL is past its nextUpdate' : 'CRL source unreachable');
      return;
    }
    const pem = data.toString('latin1').includes('-----BEGIN');
    const crl = await loadCrl(pem ? data.toString('utf8') : data, opts.trust.anchors());
    if (!crl.ok) {
      opts.log.error({ url, err: crl.error.message }, 'fetched CRL refused');
      return;
    }
    const der = pem ? Buffer.from(data.toString('utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64') : data;
    const kept = await opts.ledger.putCrl({
      issuerFingerprint: crl.value.issuerFingerprint, der, thisUpdate: crl.value.thisUpdate.toISOString(),
      importedAt: opts.clock().toISOString(), importedBy: `fetch ${url}`,
    });
    if (kept) {
      await opts.trust.reload();
      await opts.ledger.audit('crl-fetcher', 'crl.import', { url, issuer: crl.value.issuer, revoked: crl.value.serials.size });
      opts.log.info({ url, revoked: crl.value.serials.size }, 'CRL updated');
    }
  };
  const timers = opts.sources.map((s) => {
    const t = setInterval(() => { void fetchOne(s.url); }, s.intervalMs);
    t.unref();
    return t;
  });
  return {
    fetchAll: async () => { for (const s of opts.sources) await fetchOne(s.url); },
    stop: () => timers.forEach(clearInterval),
  };
}
