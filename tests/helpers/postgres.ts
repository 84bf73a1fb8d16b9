// A PostgreSQL database of a test's own on the real server (LGSP_TEST_POSTGRES_URL, by default
// the local one with trust auth), dropped when the test is done.
import pg from 'pg';

const SERVER = process.env.LGSP_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  /** Runs `run` on a connection to this database. */
  query<T>(run: (c: pg.Client) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

async function withClient<T>(connectionString: string, run: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString });
  await c.connect();
  try {
    return await run(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `lgsp_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  await withClient(SERVER, (c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(SERVER);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    url,
    query: (run) => withClient(url, run),
    drop: async () => { await withClient(SERVER, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)); },
  };
}
