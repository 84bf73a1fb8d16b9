// The PostgreSQL ledger passes the ledger contract on the real server (a database of its own for
// this run, dropped afterwards); replicas starting together migrate its schema once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSchemaOf, openPostgresLedger } from '../../src/ledger/postgres.js';
import type { Ledger } from '../../src/ledger/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { eventually, startTestNetwork } from '../helpers/network.js';
import { sendAcross } from '../helpers/shared-network.js';
import { describeLedgerContract } from '../unit/ledger/contract.js';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(() => db?.drop());

let hubs = 0;
const open = async (hubId: string): Promise<Ledger> => {
  const ledger = await openPostgresLedger(db.url, hubId, () => new Date(), (err) => { throw err; });
  if (!ledger.ok) throw new Error(ledger.error.message);
  return ledger.value;
};

describeLedgerContract('PostgreSQL', {
  async create() {
    const hubId = `000.00.${String(++hubs).padStart(2, '0')}.T99`;
    return {
      ledger: await open(hubId), handle: () => open(hubId),
      remove: () => db.query(async (c) => { await c.query(`DROP SCHEMA ${ledgerSchemaOf(hubId)} CASCADE`); }),
    };
  },
});

describe('the PostgreSQL ledger', () => {
  it('migrates once when several replicas of a hub start together, and keeps hubs apart', async () => {
    const replicas = await Promise.all(Array.from({ length: 5 }, () => open('000.00.77.T99')));
    const other = await open('000.00.78.T99');
    const versions = await db.query((c) => c.query(`SELECT version FROM ${ledgerSchemaOf('000.00.77.T99')}.migrations ORDER BY version`));
    // Each migration once, in order, however many replicas raced to apply it.
    expect(versions.rows.length).toBeGreaterThan(0);
    expect(versions.rows).toEqual(versions.rows.map((_, i) => ({ version: i + 1 })));
    await replicas[0]!.audit('sec', 'agency.add', { code: 'N' });
    expect((await replicas[4]!.auditLog(10)).map((a) => a.action)).toEqual(['agency.add']);
    expect(await other.auditLog(10)).toEqual([]);
    for (const l of [...replicas, other]) await l.close();
  });

  it('fails only the call at fault when calls written together in one statement include one the server refuses', async () => {
    const ledger = await open('000.00.81.T99');
    const delivery = (n: number, subject: string) => ({
      docId: `batch-${n}`, agency: 'B', kind: 'edoc' as const, sender: 'A', originHub: 'H1', bytes: Buffer.from(`<edXML n="${n}"/>`), receivedAt: new Date().toISOString(), subject,
    });
    // PostgreSQL refuses a NUL in text; the other calls of the same batch are stored all the same.
    const outcomes = await Promise.allSettled([0, 1, 2, 3].map((n) => ledger.deliver(delivery(n, n === 2 ? 'bad\u0000subject' : `ok ${n}`), [])));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await ledger.received('B', undefined, 10)).map((r) => r.docId).sort()).toEqual(['batch-0', 'batch-1', 'batch-3']);
    await ledger.close();
  });

  it('answers an acknowledgement that another replica recorded while it waited with the result held', async () => {
    const hubId = '000.00.80.T99';
    const ledger = await open(hubId);
    await ledger.deliver({ docId: 'ack-race', agency: 'B', kind: 'edoc', sender: 'A', originHub: 'H1', bytes: Buffer.from('<edXML/>'), receivedAt: new Date().toISOString() }, []);
    // Another replica holds the row, acknowledging it 'fail', while this one asks 'done'; its
    // one statement waits on the row lock and finds the row acknowledged when it may go on.
    await db.query(async (other) => {
      await other.query('BEGIN');
      await other.query(`UPDATE ${ledgerSchemaOf(hubId)}.mailbox SET acked_at = now()::text, ack_result = 'fail' WHERE doc_id = 'ack-race'`);
      const waiting = ledger.ack('B', 'ack-race', 'done', undefined);
      // Asked on a connection of its own: inside `other`'s transaction the view would stay as first read.
      await eventually(async () => {
        const blocked = await db.query((c) => c.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE mailbox%'`));
        return blocked.rowCount === 1 ? true : undefined;
      }, 'the acknowledgement to wait on the row lock');
      await other.query('COMMIT');
      expect(await waiting).toEqual({ outcome: 'conflict', held: 'fail' });
    });
    await ledger.close();
  });

  it('refuses to open with a coded error, without the password, when the server cannot be reached', async () => {
    const u = new URL(db.url);
    u.port = '1';
    u.password = 'sekret';
    const ledger = await openPostgresLedger(u.toString(), '000.00.79.T99', () => new Date(), (err) => { throw err; });
    expect(ledger).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    if (!ledger.ok) expect(ledger.error.message).not.toContain('sekret');
  });
});

describe('a network whose hubs keep their ledgers in PostgreSQL', () => {
  it('carries a document from commune to province and its acknowledgement back, byte-identical', async () => {
    const n = await startTestNetwork({ configFor: (_hubId, config) => ({ ...config, ledger: { url: db.url } }) });
    try {
      const { commune, department, docId, bytes } = await sendAcross(n, 'Sổ cái PostgreSQL');
      expect((await department.request('GET', `/api/v1/edocs/${docId}`)).bytes.equals(bytes)).toBe(true);
      expect((await department.request('POST', `/api/v1/edocs/${docId}/ack`, { result: 'done' })).status).toBe(200);
      await eventually(async () => {
        const doc = (await commune.request('GET', '/api/v1/edocs/sent')).json.items.find((i: { docId: string }) => i.docId === docId);
        return doc?.recipients[0]?.delivery === 'acked' ? true : undefined;
      }, 'the acknowledgement at the sender');
      // Each hub's rows are in a schema of its own in the one database.
      const schemas = await db.query((c) => c.query("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'lgsp_%'"));
      expect(schemas.rows.map((r: { schema_name: string }) => r.schema_name)).toEqual(expect.arrayContaining(n.hubs.map((h) => ledgerSchemaOf(h.id))));
      const ready = await (await fetch(`${n.hubs[0]!.url}/readyz`)).json() as { ledger: boolean };
      expect(ready.ledger).toBe(true);
    } finally {
      await n.close();
    }
  });
});
