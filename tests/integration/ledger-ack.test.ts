// The acknowledgement step of the SQLite ledger as two hub processes on one database see it:
// two connections race done against fail for the same mailbox entry, and exactly one wins.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-ack-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the ledger\'s acknowledgement', () => {
  it('lets exactly one of two processes\' different acknowledgements stand, and repeats of it pass', async () => {
    const clock = () => new Date('2026-03-01T02:00:00.000Z');
    const [a, b] = [openSqliteLedger(dir, clock), openSqliteLedger(dir, clock)];
    const agency = '000.00.12.H41';
    for (let i = 0; i < 20; i++) {
      const docId = i.toString(16).padStart(32, '0');
      expect(await a.deliver({ docId, agency, kind: 'edoc', sender: '000.07.05.H41', originHub: '000.07.05.H41', bytes: Buffer.from('<edXML/>'), receivedAt: clock().toISOString() }, [])).toBe('stored');
      const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
      const outcomes = await Promise.all([first.ack(agency, docId, 'done', undefined), second.ack(agency, docId, 'fail', 'not ours')]);
      const winners = outcomes.filter((o) => o?.outcome === 'recorded');
      expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
      const loser = outcomes.find((o) => o?.outcome !== 'recorded');
      const held = outcomes[0]!.outcome === 'recorded' ? 'done' : 'fail';
      expect(loser).toEqual({ outcome: 'conflict', held });
      expect(await b.ack(agency, docId, held, undefined)).toMatchObject({ outcome: 'repeated', originHub: '000.07.05.H41' });
      expect((await a.mailboxEntries(docId))[0]).toMatchObject({ agency, ackResult: held });
    }
    expect(await a.ack(agency, 'f'.repeat(32), 'done', undefined)).toBeNull();
    await Promise.all([a.close(), b.close()]);
  });
});
