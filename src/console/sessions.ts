// Console sessions, held by the hub: the cookie carries a random id, never the admin token, and a
// session ends at sign-out or ttlMs after sign-in, whichever comes first. Ids are kept only as
// SHA-256 hashes; a restart ends every session.
import { createHash, randomBytes } from 'node:crypto';
import type { AdminIdentity } from '../http/auth.js';

export interface Sessions {
  /** A new session for the admin: its id, for the cookie. */
  open(admin: AdminIdentity): string;
  /** The admin of a live session, or null. */
  find(id: string): AdminIdentity | null;
  close(id: string): void;
}

/** Only a valid admin token opens a session, so this bound is never reached but by a leak of one. */
const MAX_SESSIONS = 10_000;

export function createSessions(ttlMs: number, nowMs: () => number): Sessions {
  const live = new Map<string, { admin: AdminIdentity; endsAt: number }>(); // in order of opening
  const key = (id: string) => createHash('sha256').update(id).digest('hex');
  return {
    open(admin) {
      const now = nowMs();
      for (const [k, s] of live) if (s.endsAt <= now || live.size >= MAX_SESSIONS) live.delete(k);
      const id = randomBytes(32).toString('base64url');
      live.set(key(id), { admin, endsAt: now + ttlMs });
      return id;
    },
    find(id) {
      const s = live.get(key(id));
      if (s === undefined) return null;
      if (s.endsAt > nowMs()) return s.admin;
      live.delete(key(id));
      return null;
    },
    close(id) { live.delete(key(id)); },
  };
}
