// The PostgreSQL ledger passes the ledger contract on the real server (a database of its own for
// this run, dropped afterwards); replicas starting together migrate its schema once.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSchemaOf, openPostgresLedger } from '../../src/ledger/postgres.js';
import type { Ledger } from '../../src/ledger/store.js';
import { describeLedgerContract } from '../unit/ledger/contract.js';

const SERVER = process.env.LGSP_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = `lgsp_test_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
const url = (() => {
  const u = new URL(SERVER);
  u.pathname = `/${database}`;
  return u.toString();
})();

/** Runs `run` on the server's maintenance database, or on this run's database with `inRunDb`. */
const admin = async <T>(run: (c: pg.Client) => Promise<T>, inRunDb = false): Promise<T> => {
  const c = new pg.Client({ connectionString: inRunDb ? url : SERVER });
  await c.connect();
  try {
    return await run(c);
  } finally {
    await c.end();
  }
};
beforeAll(() => admin((c) => c.query(`CREATE DATABASE ${database}`)));
afterAll(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));

let hubs = 0;
const open = async (hubId: string): Promise<Ledger> => {
  const ledger = await openPostgresLedger(url, hubId, () => new Date(), (err) => { throw err; });
  if (!ledger.ok) throw new Error(ledger.error.message);
  return ledger.value;
};

describeLedgerContract('PostgreSQL', {
  async create() {
    const hubId = `000.00.${String(++hubs).padStart(2, '0')}.T99`;
    return {
      ledger: await open(hubId), handle: () => open(hubId),
      remove: () => admin(async (c) => { await c.query(`DROP SCHEMA ${ledgerSchemaOf(hubId)} CASCADE`); }, true),
    };
  },
});

describe('the PostgreSQL ledger', () => {
  it('migrates once when several replicas of a hub start together, and keeps hubs apart', async () => {
    const replicas = await Promise.all(Array.from({ length: 5 }, () => open('000.00.77.T99')));
    const other = await open('000.00.78.T99');
    const versions = await admin((c) => c.query(`SELECT version FROM ${ledgerSchemaOf('000.00.77.T99')}.migrations`), true);
    expect(versions.rows).toEqual([{ version: 1 }]);
    await replicas[0]!.audit('sec', 'agency.add', { code: 'N' });
    expect((await replicas[4]!.auditLog(10)).map((a) => a.action)).toEqual(['agency.add']);
    expect(await other.auditLog(10)).toEqual([]);
    for (const l of [...replicas, other]) await l.close();
  });

  it('refuses to open with a coded error, without the password, when the server cannot be reached', async () => {
    const u = new URL(url);
    u.port = '1';
    u.password = 'sekret';
    const ledger = await openPostgresLedger(u.toString(), '000.00.79.T99', () => new Date(), (err) => { throw err; });
    expect(ledger).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    if (!ledger.ok) expect(ledger.error.message).not.toContain('sekret');
  });
});
