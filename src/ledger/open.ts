// Opens the ledger a hub's configuration names: PostgreSQL where it gives a URL (shared by the
// hub's replicas), else the embedded SQLite file under dataDir. A ledger that cannot be opened
// is a coded UNAVAILABLE, so that the hub does not start.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { fail, ok, type Result } from '../errors.js';
import type { Config, HubConfig } from '../config.js';
import { advisoryLeadership, soleLeadership, type Leadership } from './leadership.js';
import { openPostgresLedger } from './postgres.js';
import { openSqliteLedger } from './sqlite.js';
import type { Ledger } from './store.js';

export async function openLedger(config: Readonly<Config>, hub: HubConfig, clock: () => Date, log: Logger): Promise<Result<Ledger>> {
  const url = (hub.ledger ?? config.ledger)?.url;
  if (url !== undefined) {
    return openPostgresLedger(url, hub.id, clock, (err) => log.warn({ err: err.message }, 'a pooled ledger connection broke while idle; the next query reconnects'));
  }
  const dir = path.join(config.dataDir, hub.id);
  try {
    return ok(openSqliteLedger(dir, clock));
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return fail('UNAVAILABLE', `the ledger in ${dir} cannot be opened: ${err.message}`);
  }
}

/** Who leads a hub's once-per-hub `work` among its replicas: on PostgreSQL an advisory lock; on SQLite the one process. */
export async function openLeadership(config: Readonly<Config>, hub: HubConfig, work: string, log: Logger): Promise<Leadership> {
  const url = (hub.ledger ?? config.ledger)?.url;
  return url === undefined ? soleLeadership() : advisoryLeadership(url, `${hub.id}:${work}`, log);
}

/**
 * The ledgers of the hubs below this one, for the network-wide statistics (issue 20,
 * docs/statistics.md): read where this process can reach them, a PostgreSQL ledger through its
 * URL, an SQLite one in this dataDir. Each is opened on first use (a hub below may start later)
 * and never created here; null while it cannot be read.
 */
export function subtreeLedgers(config: Readonly<Config>, clock: () => Date, log: Logger): {
  ledgerOf(hubId: string): Promise<Ledger | null>;
  close(): Promise<void>;
} {
  // The promise is kept, so that two reports at once open a ledger once; one not readable is tried again next time.
  const opening = new Map<string, Promise<Ledger | null>>();
  const open = async (hubId: string): Promise<Ledger | null> => {
    const hub = config.hubs.find((h) => h.id === hubId);
    if (hub === undefined) return null;
    const local = (hub.ledger ?? config.ledger)?.url === undefined;
    if (local && !fs.existsSync(path.join(config.dataDir, hub.id, 'ledger.sqlite'))) return null;
    const ledger = await openLedger(config, hub, clock, log);
    if (ledger.ok) return ledger.value;
    log.warn({ hub: hubId, err: ledger.error.message }, 'the ledger of a hub below cannot be read: the network statistics leave it out');
    return null;
  };
  return {
    async ledgerOf(hubId) {
      const pending = opening.get(hubId) ?? open(hubId);
      opening.set(hubId, pending);
      const ledger = await pending;
      if (ledger === null) opening.delete(hubId);
      return ledger;
    },
    async close() {
      for (const pending of opening.values()) await (await pending)?.close();
      opening.clear();
    },
  };
}
