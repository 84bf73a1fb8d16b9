// The subjects a trust change sets, its version, and a plan narrowed to the subjects it still
// holds: what last-writer-wins per subject (admin/trust-versions.ts) is built on.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TrustChange, TrustChangeBody } from '../../../src/admin/trust-changes.js';
import { narrowedTo, subjectsOf, versionOf } from '../../../src/admin/trust-versions.js';

const fp = 'ab'.repeat(32);
const meta = { actor: 'admin', at: '2026-11-01T08:00:00.000Z', origin: '000.00.00.H41' };
const hash = '0'.repeat(64);

describe('subjectsOf', () => {
  const cases: [TrustChangeBody, string[]][] = [
    [{ kind: 'ca.add', fingerprint: fp, pem: 'PEM' }, [`ca:${fp}`]],
    [{ kind: 'ca.remove', fingerprint: fp }, [`ca:${fp}`]],
    [{
      kind: 'cert.add', record: {
        fingerprint: fp, agency: '000.07.05.H41', pem: 'PEM', subject: 'CN=x', notBefore: meta.at, notAfter: meta.at, state: 'active', addedAt: meta.at, addedBy: 'a',
      },
    }, [`cert:${fp}`]],
    [{ kind: 'cert.retire', fingerprint: fp, retireAt: meta.at }, [`cert:${fp}`]],
    [{ kind: 'cert.revoke', fingerprint: fp, at: meta.at }, [`cert:${fp}`]],
    [{ kind: 'agency.add', code: '000.09.05.H41', name: 'N', parent: null, hubId: '000.00.05.H41', apiKeyHash: hash }, ['agency:000.09.05.H41']],
    [{ kind: 'agency.successor', code: '000.07.05.H41', successor: '000.08.05.H41', from: null }, ['agency:000.07.05.H41:successor']],
    [{ kind: 'agency.move', code: '000.07.05.H41', hubId: '000.00.00.H41' }, ['agency:000.07.05.H41:hub']],
    [{ kind: 'hub.retire', hubId: '000.00.05.H41', into: '000.00.00.H41' }, ['hub:000.00.05.H41']],
    [{ kind: 'hub.cert.add', hubId: '000.00.05.H41', fingerprint: fp, pem: 'PEM' }, [`hubcert:000.00.05.H41:${fp}`]],
    // Nothing a replay could undo: the ledger keeps the newest CRL by its own thisUpdate; a confirmation
    // is a lasting fact; the notices to a hub's replicas make them re-read the ledger.
    [{ kind: 'crl.import', issuerFingerprint: fp, der: 'AA==', thisUpdate: meta.at }, []],
    [{ kind: 'hub.cert.trusted', hubId: '000.00.05.H41', fingerprint: fp, by: '000.00.00.H41' }, []],
    [{ kind: 'hub.key.activate', hubId: '000.00.05.H41', fingerprint: fp }, []],
    [{ kind: 'hub.lane', hubId: '000.00.05.H41', queue: 'lgsp.000.00.05.H41.ingress', paused: true }, []],
  ];
  it.each(cases)('%o', (change, subjects) => {
    expect(subjectsOf(change)).toEqual(subjects);
  });

  it('gives a plan each agency it registers, and the successor and hub of each agency it changes, once', () => {
    expect(subjectsOf({
      kind: 'agency.plan',
      add: [{ code: 'N', name: 'N', parent: null, hubId: 'H', apiKeyHash: hash }],
      changes: [
        { code: 'A', successor: 'N', from: meta.at, hubId: null }, { code: 'B', successor: null, from: null, hubId: 'H' },
        { code: 'C', successor: 'N', from: null, hubId: 'H' }, { code: 'A', successor: 'N', from: meta.at, hubId: null },
      ],
    })).toEqual(['agency:N', 'agency:A:successor', 'agency:B:hub', 'agency:C:successor', 'agency:C:hub']);
  });
});

describe('versionOf', () => {
  it('is the time the change was made, in UTC as toISOString writes it, and the SHA-256 of its signed bytes', () => {
    const body = Buffer.from('{"kind":"ca.remove"}');
    expect(versionOf({ at: '2026-11-01T15:00:00+07:00' }, body)).toEqual({
      at: '2026-11-01T08:00:00.000Z', digest: createHash('sha256').update(body).digest('hex'),
    });
    // So that times order as text whatever offset they were written with.
    expect(versionOf({ at: '2026-11-01T08:30:00+07:00' }, body).at < versionOf({ at: '2026-11-01T08:00:00Z' }, body).at).toBe(true);
  });
});

describe('narrowedTo', () => {
  const plan: TrustChange = {
    kind: 'agency.plan', ...meta,
    add: [{ code: 'N', name: 'N', parent: null, hubId: 'H', apiKeyHash: hash }, { code: 'M', name: 'M', parent: null, hubId: 'H', apiKeyHash: hash }],
    changes: [{ code: 'A', successor: 'N', from: meta.at, hubId: 'H2' }, { code: 'B', successor: null, from: null, hubId: 'H' }],
  };

  it('keeps of a plan only the parts whose subjects it holds', () => {
    expect(narrowedTo(plan, new Set(subjectsOf(plan)))).toEqual(plan);
    expect(narrowedTo(plan, new Set(['agency:M', 'agency:A:hub']))).toEqual({
      ...plan, add: [plan.add[1]], changes: [{ code: 'A', successor: null, from: null, hubId: 'H2' }],
    });
    expect(narrowedTo(plan, new Set(['agency:A:successor', 'agency:B:hub']))).toEqual({
      ...plan, add: [], changes: [{ code: 'A', successor: 'N', from: meta.at, hubId: null }, plan.changes[1]],
    });
  });

  it('leaves a change of one subject as it is', () => {
    const removal: TrustChange = { kind: 'ca.remove', fingerprint: fp, ...meta };
    expect(narrowedTo(removal, new Set())).toBe(removal);
  });
});
