// Once-per-hub work among replicas (ledger/leadership.ts) on the real PostgreSQL: one holder at a
// time; the lead moves when its holder closes, and when its holder's process is killed (-9).
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryLeadership, type Leadership } from '../../src/ledger/leadership.js';
import { eventually } from '../helpers/network.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const LEADERSHIP = fileURLToPath(new URL('../../dist/src/ledger/leadership.js', import.meta.url));
const RETRY_MS = 200;
const log = pino({ level: 'silent' });
let db: TestDatabase;
const opened: Leadership[] = [];
const lead = async (name: string) => {
  const l = await advisoryLeadership(db.url, name, log, RETRY_MS);
  opened.push(l);
  return l;
};

beforeAll(async () => { db = await createTestDatabase(); });
afterAll(async () => {
  for (const l of opened) await l.close();
  await db?.drop();
});

describe('leadership by advisory lock', () => {
  it('gives the lead to one replica at a time, and to the next within a second of the holder closing', async () => {
    const a = await lead('H1:work');
    const b = await lead('H1:work');
    const other = await lead('H2:work');
    expect(a.leading()).toBe(true);
    expect(b.leading()).toBe(false);
    expect(other.leading()).toBe(true); // another hub's work, another lock
    let gained = 0;
    b.onGain(() => { gained++; });
    await new Promise((r) => setTimeout(r, 3 * RETRY_MS));
    expect(b.leading()).toBe(false);
    const closedAt = Date.now();
    await a.close();
    await eventually(async () => (b.leading() ? true : undefined), 'the lead moves to b', 5000);
    expect(Date.now() - closedAt).toBeLessThan(1000);
    expect(gained).toBe(1);
  });

  it('moves the lead when the process holding it is killed', async () => {
    // A holder in a process of its own, as a replica is.
    const script = `import(${JSON.stringify(LEADERSHIP)}).then(async ({ advisoryLeadership }) => {
      const l = await advisoryLeadership(${JSON.stringify(db.url)}, 'H3:work', { info() {}, warn() {}, debug() {} }, ${RETRY_MS});
      console.log(l.leading() ? 'leading' : 'following');
      setInterval(() => {}, 1000);
    });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
    expect(first).toBe('leading');
    const b = await lead('H3:work');
    expect(b.leading()).toBe(false);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await eventually(async () => (b.leading() ? true : undefined), 'the lead moves after kill -9', 10_000);
    expect(Date.now() - killedAt).toBeLessThan(5000);
  });
});
