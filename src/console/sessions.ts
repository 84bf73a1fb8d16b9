// Console sessions, held by the hub: the cookie carries a random id, never the admin token, and a
// session ends at sign-out or ttlMs after sign-in, whichever comes first. They are kept in the
// hub's ledger, only as SHA-256 hashes of their ids, so every replica of the hub knows them (a
// load balancer needs no sticky sessions) and a restart ends none: a sign-out at one replica ends
// the session at all.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ADMIN_ROLES } from '../config.js';
import type { AdminIdentity } from '../http/auth.js';
import type { Ledger } from '../ledger/store.js';

export interface Sessions {
  /** A new session for the admin: its id, for the cookie. */
  open(admin: AdminIdentity): Promise<string>;
  /** The admin of a live session, or null. */
  find(id: string): Promise<AdminIdentity | null>;
  close(id: string): Promise<void>;
}

/** Only a valid admin token opens a session, so this bound is never reached but by a leak of one. */
const MAX_SESSIONS = 10_000;

const StoredAdmin = z.object({ name: z.string(), roles: z.array(z.enum(ADMIN_ROLES)) });

export function createSessions(
  ledger: Pick<Ledger, 'openConsoleSession' | 'consoleSession' | 'closeConsoleSession'>, ttlMs: number, nowMs: () => number,
): Sessions {
  const key = (id: string) => createHash('sha256').update(id).digest('hex');
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    async open(admin) {
      const now = nowMs();
      const id = randomBytes(32).toString('base64url');
      await ledger.openConsoleSession({ idHash: key(id), admin: JSON.stringify({ name: admin.name, roles: admin.roles }), openedAt: iso(now), endsAt: iso(now + ttlMs) }, MAX_SESSIONS);
      return id;
    },
    async find(id) {
      const stored = await ledger.consoleSession(key(id), iso(nowMs()));
      return stored === null ? null : StoredAdmin.parse(JSON.parse(stored));
    },
    close: (id) => ledger.closeConsoleSession(key(id)),
  };
}
