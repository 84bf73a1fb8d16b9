// The live directory of one hub: the ledger's changes applied to its registry and sign-in keys,
// the closed key's grace period, and what waits here carried on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRegistry } from '../../../src/agency/registry.js';
import { agencyDirectory } from '../../../src/admin/agency-directory.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import type { Ledger } from '../../../src/ledger/store.js';

const P = '000.00.00.H53', C = '000.07.00.H53', A = '000.08.00.H53', B = '000.09.00.H53';
const DAY = 86_400_000;
const dirs: string[] = [];
const ledgers: Ledger[] = [];
afterEach(async () => {
  for (const l of ledgers.splice(0)) await l.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the agency directory of a hub', () => {
  it('follows closures and moves, keeps a closed key for its grace period only, and carries on what waits', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-directory-'));
    dirs.push(dir);
    let now = new Date('2026-01-01T00:00:00Z');
    const ledger = openSqliteLedger(dir, () => now);
    ledgers.push(ledger);
    const registry = buildRegistry({ hubs: [{ id: P }, { id: C, parentId: P }], agencies: [{ code: A, name: 'a', hubId: C }, { code: B, name: 'b', hubId: C }] });
    const carried: string[] = [];
    const directory = agencyDirectory({
      hubId: C, registry, ledger, clock: () => now, closedKeyGraceMs: 30 * DAY, carryOn: async (agency) => { carried.push(agency); }, onCarryError: (err) => { throw err; },
      configured: [{ code: A, apiKeyHash: 'a'.repeat(64) }, { code: B, apiKeyHash: 'b'.repeat(64) }],
    });
    expect([...directory.keys.values()].sort()).toEqual([A, B]);
    await ledger.deliver({ docId: '1'.repeat(32), agency: A, kind: 'edoc', sender: P, originHub: P, bytes: Buffer.from('x'), receivedAt: now.toISOString() }, []);

    await ledger.putDirectoryEntries([{ code: A, successor: B, from: now.toISOString(), hubId: null }]);
    await directory.reload();
    expect(registry.agencies.get(A)!.successor).toEqual({ code: B, from: now.toISOString() });
    await directory.carried();
    expect(carried).toEqual([A]);
    expect(directory.keys.get('a'.repeat(64))).toBe(A); // its grace period
    now = new Date(now.getTime() + 31 * DAY);
    await directory.reload();
    expect(directory.keys.has('a'.repeat(64))).toBe(false);

    await ledger.putDirectoryEntries([{ code: B, successor: null, from: null, hubId: P }]);
    await directory.reload();
    expect(registry.agencies.get(B)!.hubId).toBe(P);
    expect(directory.keys.size).toBe(0);
    expect(directory.agencyKeys.get('b'.repeat(64))).toBe(B);
  });
});
