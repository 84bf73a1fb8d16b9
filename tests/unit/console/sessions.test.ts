// Console sessions: an id that is not the token, ended by sign-out or by age.
import { describe, expect, it } from 'vitest';
import { createSessions } from '../../../src/console/sessions.js';

const admin = { name: 'ops', roles: ['operator'] as const };

describe('console sessions', () => {
  it('finds a session until it is closed', () => {
    const s = createSessions(60_000, () => 0);
    const id = s.open(admin);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.find(id)).toEqual(admin);
    expect(s.find(`${id}x`)).toBeNull();
    s.close(id);
    expect(s.find(id)).toBeNull();
  });

  it('ends a session ttlMs after sign-in', () => {
    let now = 1_000;
    const s = createSessions(60_000, () => now);
    const id = s.open(admin);
    now += 59_999;
    expect(s.find(id)).toEqual(admin);
    now += 1;
    expect(s.find(id)).toBeNull();
  });

  it('gives every sign-in its own id', () => {
    const s = createSessions(60_000, () => 0);
    expect(s.open(admin)).not.toBe(s.open(admin));
  });
});
