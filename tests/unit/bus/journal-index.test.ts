import { describe, expect, it } from 'vitest';
import { createMessageIndex, type JournalPut } from '../../../src/bus/journal-index.js';

const Q = 'lgsp.000.00.05.H41.ingress';
const puts = (id: string, over: Partial<JournalPut> = {}) => ({ kind: 'puts' as const, items: [put(id, over)] });
const put = (id: string, over: Partial<JournalPut> = {}): JournalPut => ({
  kind: 'put', queue: Q, id, at: `2026-11-29T05:00:0${id.length % 10}Z`, bytes: 100, recipients: ['000.00.12.H41'],
  docId: `doc-${id}`, sender: '000.07.05.H41', ...over,
});

describe('message index', () => {
  it('holds the puts not yet taken, in journal order, per queue', () => {
    const index = createMessageIndex();
    for (const id of ['a', 'b', 'c']) index.apply(puts(id));
    index.apply({ kind: 'puts', items: [put('x', { queue: 'lgsp.000.00.05.H41.deliver' }), put('y', { queue: 'lgsp.000.00.05.H41.deliver' })] });
    index.apply({ kind: 'taken', items: [{ queue: Q, id: 'b' }] });
    expect(index.browse({ queue: Q, limit: 10 }).items.map((m) => m.id)).toEqual(['a', 'c']);
    expect(index.count(Q)).toBe(2);
    expect(index.count('lgsp.000.00.05.H41.deliver')).toBe(2);
  });

  it('a taken mark for one queue leaves the same id in another queue alone', () => {
    const index = createMessageIndex();
    index.apply(puts('a'));
    index.apply(puts('a', { queue: 'lgsp.000.00.05.H41.dead' }));
    index.apply({ kind: 'taken', items: [{ queue: 'lgsp.000.00.05.H41.dead', id: 'a' }] });
    expect(index.count(Q)).toBe(1);
  });

  it('drops a put that arrives after its taken mark (republished after a channel reset)', () => {
    const index = createMessageIndex();
    index.apply({ kind: 'taken', items: [{ queue: Q, id: 'late' }] });
    index.apply(puts('late'));
    index.apply(puts('other'));
    expect(index.browse({ queue: Q, limit: 10 }).items.map((m) => m.id)).toEqual(['other']);
  });

  it('filters by doc id, agency, period and reason', () => {
    const index = createMessageIndex();
    index.apply(puts('a', { at: '2026-11-29T05:00:00Z' }));
    index.apply(puts('b', { at: '2026-11-29T06:00:00Z', sender: '000.07.06.H41', recipients: ['000.00.13.H41'] }));
    index.apply(puts('c', { at: '2026-11-29T07:00:00Z', reasonCode: 'CERT_REVOKED', reason: 'the signer was revoked' }));
    const ids = (f: Parameters<ReturnType<typeof createMessageIndex>['browse']>[0]) => index.browse(f).items.map((m) => m.id);
    expect(ids({ queue: Q, docId: 'doc-b', limit: 10 })).toEqual(['b']);
    expect(ids({ queue: Q, agency: '000.00.13.H41', limit: 10 })).toEqual(['b']);
    expect(ids({ queue: Q, agency: '000.07.05.H41', limit: 10 })).toEqual(['a', 'c']);
    expect(ids({ queue: Q, since: '2026-11-29T05:30:00Z', until: '2026-11-29T06:30:00Z', limit: 10 })).toEqual(['b']);
    expect(ids({ queue: Q, reason: 'cert_revoked', limit: 10 })).toEqual(['c']);
    expect(ids({ queue: Q, reason: 'REVOKED', limit: 10 })).toEqual(['c']);
  });

  it('pages with a cursor: every message once, in order, with the match count', () => {
    const index = createMessageIndex();
    const all = Array.from({ length: 7 }, (_, i) => `m${i}`);
    for (const id of all) index.apply(puts(id));
    const seen: string[] = [];
    let after: number | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = index.browse({ queue: Q, limit: 3, ...(after === undefined ? {} : { after }) });
      expect(page.matched).toBe(7);
      seen.push(...page.items.map((m) => m.id));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(all);
  });
});
