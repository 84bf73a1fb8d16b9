// A trust change read from the broker: what no hub can read is a coded error (the hub
// dead-letters it), never a throw that would return it to its queue forever.
import { describe, expect, it } from 'vitest';
import { readTrustChange } from '../../../src/admin/trust-changes.js';

const change = { kind: 'ca.remove', fingerprint: 'ab'.repeat(32), actor: 'admin', at: '2026-01-02T03:04:05.000Z', origin: '000.00.00.H41' };

describe('readTrustChange', () => {
  it('reads a change', () => {
    expect(readTrustChange(Buffer.from(JSON.stringify(change)))).toEqual({ ok: true, value: change });
  });

  it('refuses a body that is not JSON, and one that is not a change, with POLICY_VIOLATION', () => {
    for (const body of ['{"kind": "ca.add", ', JSON.stringify({ ...change, kind: 'ca.steal' }), JSON.stringify({ ...change, at: 'yesterday' })]) {
      const read = readTrustChange(Buffer.from(body));
      expect(read.ok, body).toBe(false);
      if (!read.ok) expect(read.error).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringMatching(/^unreadable trust change: /) });
    }
  });
});
