// Work that must run once per hub, not once per replica (CRL fetching, expiry alerts, later the
// national directory refresh): one replica at a time leads it. With a PostgreSQL ledger the
// leader is whichever replica holds a session advisory lock named after the hub and the work, on
// a connection of its own: when that replica dies its connection closes, the server releases
// the lock, and another replica takes it at its next try (every `retryMs`). A leader that loses
// its connection (or cannot reach the server) stops leading at once. With the embedded SQLite
// ledger there is one process per hub, which always leads.
import pg from 'pg';
import type { Logger } from 'pino';

export interface Leadership {
  /** Whether this replica leads the work now. */
  leading(): boolean;
  /** Called each time this replica becomes the leader from now on (e.g. to run the work at once). */
  onGain(run: () => void): void;
  /** Gives the lead up (closing the connection releases the lock). */
  close(): Promise<void>;
}

export const LEADERSHIP_RETRY_MS = 2_000;

/** The one process of a hub on an embedded ledger: it always leads. */
export function soleLeadership(): Leadership {
  return { leading: () => true, onGain: () => {}, close: async () => {} };
}

/**
 * Leads `name` (e.g. `000.00.00.H41:crl`) among the replicas sharing the PostgreSQL database at
 * `url`. Resolves after the first try, so a replica alone takes the lead before it starts its work.
 */
export async function advisoryLeadership(url: string, name: string, log: Logger, retryMs = LEADERSHIP_RETRY_MS): Promise<Leadership> {
  let client: pg.Client | null = null;
  let leader = false;
  let closed = false;
  const gained: (() => void)[] = [];
  let trying = false;

  const drop = (why: string) => {
    if (leader) log.warn({ lead: name, why }, 'lost the lead; another replica takes it over');
    leader = false;
    const c = client;
    client = null;
    c?.end().catch((err: Error) => log.debug({ err: err.message }, 'leadership connection already closed'));
  };
  const attempt = async () => {
    if (trying) return; // the last try still waits on the server
    trying = true;
    try {
      if (client === null) {
        const c = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: retryMs });
        c.on('error', (err) => drop(err.message));
        await c.connect();
        client = c;
      }
      if (leader) {
        // Still connected means still holding the lock; a query that fails means it may be lost.
        await client.query('SELECT 1');
        return;
      }
      const row = (await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS held', [`lgsp-lead:${name}`])).rows[0] as { held?: unknown } | undefined;
      if (row?.held === true && !closed) {
        leader = true;
        log.info({ lead: name }, 'took the lead');
        for (const run of gained) run();
      }
    } catch (err) {
      drop((err as Error).message);
    } finally {
      trying = false;
    }
  };
  await attempt();
  const timer = setInterval(() => { void attempt(); }, retryMs);
  timer.unref();
  return {
    leading: () => leader,
    onGain: (run) => { gained.push(run); },
    async close() {
      closed = true;
      clearInterval(timer);
      leader = false;
      const c = client;
      client = null;
      await c?.end();
    },
  };
}
