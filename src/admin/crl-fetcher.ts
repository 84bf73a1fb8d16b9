// Fetches CRLs from their sources on a schedule. A new CRL goes into this hub's trust store (every
// hub fetches for itself). A failed fetch is logged; once the CRL held is past its nextUpdate the
// warning is loud (error level, and /readyz reports it) until a fresh one arrives. A source is
// an outside server: what it sends is bounded in size and time, and its redirects in where.
import type { Logger } from 'pino';
import type { CrlRecord, Ledger } from '../ledger/store.js';
import { loadCrl } from '../trust/crl.js';
import { derOf } from '../trust/x509.js';
import type { TrustState } from './trust-state.js';
import { fail, ok, type Result } from '../errors.js';

const FETCH_TIMEOUT_MS = 15_000;

export interface CrlFetcher { fetchAll(): Promise<void>; stop(): void }

const MAX_REDIRECTS = 3;

/**
 * Downloads one CRL: at most `maxBytes` (a longer body is cut off as it streams in, never held
 * whole), within `timeoutMs`, following a redirect only to the same scheme, host and port, so a
 * source (or whoever answers for it) cannot send the hub to another server or from https to http.
 */
export async function downloadCrl(url: string, limits: { maxBytes: number; timeoutMs: number }): Promise<Result<Buffer>> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let at = new URL(url);
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetch(at, { signal, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
        await res.body?.cancel();
        const next = new URL(res.headers.get('location')!, at);
        if (next.origin !== at.origin) return fail('FORBIDDEN', `${at.href} redirects to ${next.origin}: a CRL is only followed within its own scheme, host and port`);
        if (hop === MAX_REDIRECTS) return fail('UNAVAILABLE', `${url}: more than ${MAX_REDIRECTS} redirects`);
        at = next;
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        return fail('UNAVAILABLE', `${at.href} answered HTTP ${res.status}`);
      }
      const tooLarge = () => fail('PAYLOAD_TOO_LARGE', `${at.href}: the CRL is over ${limits.maxBytes} bytes (http.crlMaxBytes)`);
      if (Number(res.headers.get('content-length') ?? 0) > limits.maxBytes) {
        await res.body?.cancel();
        return tooLarge();
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const reader = res.body?.getReader();
      for (let read = await reader?.read(); read !== undefined && !read.done; read = await reader!.read()) {
        size += read.value.byteLength;
        if (size > limits.maxBytes) {
          await reader!.cancel();
          return tooLarge();
        }
        chunks.push(Buffer.from(read.value));
      }
      return ok(Buffer.concat(chunks));
    }
  } catch (err) {
    return fail('UNAVAILABLE', `${at.href} unreachable: ${(err as Error).message}`);
  }
}

export function startCrlFetcher(opts: {
  sources: readonly { url: string; intervalMs: number }[];
  ledger: Ledger;
  trust: TrustState;
  clock: () => Date;
  log: Logger;
  maxBytes: number;
  /** Whether this replica fetches for its hub (one replica does: ledger/leadership.ts). */
  leading: () => boolean;
  /** Tells the hub's other replicas (and the network) of a CRL this one fetched and kept. */
  kept: (crl: CrlRecord) => Promise<void>;
}): CrlFetcher {
  const fetchOne = async (url: string) => {
    if (!opts.leading()) return;
    const downloaded = await downloadCrl(url, { maxBytes: opts.maxBytes, timeoutMs: FETCH_TIMEOUT_MS });
    if (!downloaded.ok) {
      const stale = opts.trust.staleCrls(opts.clock());
      const log = stale.length > 0 ? opts.log.error.bind(opts.log) : opts.log.warn.bind(opts.log);
      log({ url, code: downloaded.error.code, err: downloaded.error.message, stale }, stale.length > 0 ? 'CRL source failed and a CRL is past its nextUpdate' : 'CRL source failed');
      return;
    }
    const der = derOf(downloaded.value);
    const crl = await loadCrl(der, opts.trust.anchors());
    if (!crl.ok) {
      opts.log.error({ url, err: crl.error.message }, 'fetched CRL refused');
      return;
    }
    const record = {
      issuerFingerprint: crl.value.issuerFingerprint, der, thisUpdate: crl.value.thisUpdate.toISOString(),
      importedAt: opts.clock().toISOString(), importedBy: `fetch ${url}`,
    };
    if (await opts.ledger.putCrl(record)) {
      await opts.trust.reload();
      await opts.kept(record);
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
