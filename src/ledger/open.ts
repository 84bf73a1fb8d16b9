// Opens the ledger a hub's configuration names: PostgreSQL where it gives a URL (shared by the
// hub's replicas), else the embedded SQLite file under dataDir. A ledger that cannot be opened
// is a coded UNAVAILABLE, so that the hub does not start.
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
