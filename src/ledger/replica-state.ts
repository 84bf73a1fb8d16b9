// What a hub's replicas share besides its documents (issue 18), the same SQL for SQLite and
// PostgreSQL: console sessions (kept only as SHA-256 hashes of their ids), the hub's secrets that
// every replica must hold alike (the console's CSRF key), and the lanes an operator paused.
import { z } from 'zod';
import type { SqlPort } from './exchange-stats.js';
import type { Ledger } from './store.js';

/** The tables, the same in both SQL dialects (PostgreSQL appends them as one migration). */
export const REPLICA_STATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS console_sessions (
  id_hash TEXT PRIMARY KEY, admin TEXT NOT NULL, opened_at TEXT NOT NULL, ends_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS console_sessions_ends ON console_sessions (ends_at);
CREATE TABLE IF NOT EXISTS hub_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paused_lanes (queue TEXT PRIMARY KEY, paused_at TEXT NOT NULL, paused_by TEXT NOT NULL);
`;

/**
 * What the hub's alerts last said (issue 18): whichever replica leads after a move, or after a
 * restart, goes on from there instead of saying it again. PostgreSQL appends it as a migration.
 */
export const ALERT_MEMORY_SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_memory (name TEXT PRIMARY KEY, value TEXT NOT NULL, at TEXT NOT NULL);
`;

const AdminRow = z.object({ admin: z.string() });
const ValueRow = z.object({ value: z.string() });
const QueueRow = z.object({ queue: z.string() });

export function replicaState(db: SqlPort): Pick<Ledger,
  'openConsoleSession' | 'consoleSession' | 'closeConsoleSession' | 'hubSecret' | 'pausedLanes' | 'setLanePaused' | 'alertMemory' | 'rememberAlert'> {
  return {
    // One transaction: the expired go, the new one comes in, and only the newest `max` stay.
    openConsoleSession: (s, max) => db.batch([
      { sql: 'DELETE FROM console_sessions WHERE ends_at <= ?', args: [s.openedAt] },
      { sql: 'INSERT INTO console_sessions (id_hash, admin, opened_at, ends_at) VALUES (?, ?, ?, ?)', args: [s.idHash, s.admin, s.openedAt, s.endsAt] },
      {
        sql: `DELETE FROM console_sessions WHERE id_hash NOT IN (
          SELECT id_hash FROM (SELECT id_hash FROM console_sessions ORDER BY opened_at DESC, id_hash DESC LIMIT ?) newest)`,
        args: [max],
      },
    ]),
    consoleSession: async (idHash, now) => {
      const row = (await db.all('SELECT admin FROM console_sessions WHERE id_hash = ? AND ends_at > ?', [idHash, now]))[0];
      return row === undefined ? null : AdminRow.parse(row).admin;
    },
    closeConsoleSession: async (idHash) => { await db.run('DELETE FROM console_sessions WHERE id_hash = ?', [idHash]); },
    // The first replica to ask keeps its candidate; every other replica reads that one back.
    hubSecret: async (name, candidate, at) => {
      await db.run('INSERT INTO hub_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [name, candidate, at]);
      return ValueRow.parse((await db.all('SELECT value FROM hub_secrets WHERE name = ?', [name]))[0]).value;
    },
    alertMemory: async (name) => {
      const row = (await db.all('SELECT value FROM alert_memory WHERE name = ?', [name]))[0];
      return row === undefined ? null : ValueRow.parse(row).value;
    },
    // Compare and set: of two replicas that both think they lead, only one moves the memory on.
    rememberAlert: async (name, value, at, previous) => (previous === null
      ? db.run('INSERT INTO alert_memory (name, value, at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [name, value, at])
      : db.run('UPDATE alert_memory SET value = ?, at = ? WHERE name = ? AND value = ?', [value, at, name, previous])).then((n) => n > 0),
    pausedLanes: async () => (await db.all('SELECT queue FROM paused_lanes ORDER BY queue', [])).map((r) => QueueRow.parse(r).queue),
    setLanePaused: async (queue, paused, at, by) => (paused
      ? db.run('INSERT INTO paused_lanes (queue, paused_at, paused_by) VALUES (?, ?, ?) ON CONFLICT (queue) DO NOTHING', [queue, at, by])
      : db.run('DELETE FROM paused_lanes WHERE queue = ?', [queue])).then((n) => n > 0),
  };
}
