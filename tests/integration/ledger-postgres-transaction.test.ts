// A PostgreSQL ledger transaction whose connection the server ends between two statements (a
// restart, an administrator's terminate): the transaction fails like any ledger call in an
// outage, and the hub process lives on. A checked-out pooled connection has no error listener of
// the pool's, so without one of the transaction's own the server's goodbye was an unhandled
// 'error' event that ended the replica (found by the chaos suite's HA run, tests/chaos/ha.test.ts).
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { transaction } from '../../src/ledger/postgres.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {}); // idle connections are not what this test is about
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

it('fails, and does not crash the process, when the server ends its connection between two statements', async () => {
  const result = transaction(pool, async (c) => {
    const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await db.query((other) => other.query('SELECT pg_terminate_backend($1)', [pid]));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the goodbye arrives while no statement runs
    return c.query('SELECT 1');
  });
  await expect(result).rejects.toThrow();
  // The pool goes on with a fresh connection.
  expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
});
