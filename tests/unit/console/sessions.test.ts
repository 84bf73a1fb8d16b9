// Console sessions: an id that is not the token, ended by sign-out or by age, kept in the ledger
// so that another handle on it (another replica of the hub) knows them too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessions } from '../../../src/console/sessions.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import type { Ledger } from '../../../src/ledger/store.js';
import type { AdminIdentity } from '../../../src/http/auth.js';

const admin: AdminIdentity = { name: 'ops', roles: ['operator'] };

describe('console sessions', () => {
  const opened: Ledger[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const l of opened.splice(0)) await l.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  /** A ledger, and `another()` handle on the same file (a second replica). */
  const ledger = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-sessions-'));
    dirs.push(dir);
    const open = () => {
      const l = openSqliteLedger(dir, () => new Date());
      opened.push(l);
      return l;
    };
    return { first: open(), another: open };
  };

  it('finds a session until it is closed', async () => {
    const s = createSessions(ledger().first, 60_000, () => 0);
    const id = await s.open(admin);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await s.find(id)).toEqual(admin);
    expect(await s.find(`${id}x`)).toBeNull();
    await s.close(id);
    expect(await s.find(id)).toBeNull();
  });

  it('ends a session ttlMs after sign-in', async () => {
    let now = 1_000;
    const s = createSessions(ledger().first, 60_000, () => now);
    const id = await s.open(admin);
    now += 59_999;
    expect(await s.find(id)).toEqual(admin);
    now += 1;
    expect(await s.find(id)).toBeNull();
  });

  it('gives every sign-in its own id', async () => {
    const s = createSessions(ledger().first, 60_000, () => 0);
    expect(await s.open(admin)).not.toBe(await s.open(admin));
  });

  it('is known to every replica on the ledger, and a sign-out at one ends it at all; only its id\'s hash is kept', async () => {
    const { first, another } = ledger();
    const second = another();
    const a = createSessions(first, 60_000, () => 0);
    const b = createSessions(second, 60_000, () => 0);
    const id = await a.open(admin);
    expect(await b.find(id)).toEqual(admin);
    expect(await second.consoleSession(id, new Date(0).toISOString())).toBeNull(); // the raw id is not a key
    await b.close(id);
    expect(await a.find(id)).toBeNull();
  });
});
