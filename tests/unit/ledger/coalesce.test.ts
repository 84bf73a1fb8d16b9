import { describe, expect, it } from 'vitest';
import { coalesce } from '../../../src/ledger/coalesce.js';

/** A batch writer that records each statement and answers when `open` is called. */
function recorder(fails: (items: readonly number[]) => Error | null = () => null) {
  const statements: number[][] = [];
  const pending: (() => void)[] = [];
  const write = (items: readonly number[]) => new Promise<number[]>((resolve, reject) => {
    statements.push([...items]);
    pending.push(() => {
      const err = fails(items);
      if (err) reject(err);
      else resolve(items.map((i) => i * 10));
    });
  });
  const openAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { statements, write, openAll };
}

describe('coalesced ledger writes', () => {
  it('writes a call at once when idle, and the calls made meanwhile together in the next statement', async () => {
    const r = recorder();
    const call = coalesce(r.write, { max: 100, whole: () => false });
    const first = call(1);
    expect(r.statements).toEqual([[1]]); // no waiting for company
    const later = [call(2), call(3), call(4)];
    await r.openAll();
    expect(await first).toBe(10);
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
    expect(r.statements).toEqual([[1], [2, 3, 4]]);
  });

  it('bounds a statement by calls and by bytes; a call heavier than the bound goes alone', async () => {
    const r = recorder();
    const call = coalesce(r.write, { max: 3, whole: () => false, maxBytes: { bytes: 100, weigh: (i) => i } });
    const all = [call(1), call(2), call(3), call(4), call(5), call(60), call(50), call(500), call(7)];
    await r.openAll();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 600, 500, 5000, 70]);
    expect(r.statements).toEqual([[1], [2, 3, 4], [5, 60], [50], [500], [7]]);
  });

  it('writes a failed statement again call by call, so that only the call at fault fails', async () => {
    const r = recorder((items) => (items.includes(3) ? new Error('bad value 3') : null));
    const call = coalesce(r.write, { max: 100, whole: () => false });
    const all = [call(1), call(2), call(3), call(4)].map((p) => p.then((v) => ({ v }), (e: Error) => ({ e: e.message })));
    await r.openAll();
    expect(await Promise.all(all)).toEqual([{ v: 10 }, { v: 20 }, { e: 'bad value 3' }, { v: 40 }]);
    expect(r.statements).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it('fails every call of a statement at once when the failure concerns them all (the server is away)', async () => {
    const r = recorder(() => new Error('server away'));
    const call = coalesce(r.write, { max: 100, whole: (err) => (err as Error).message === 'server away' });
    const first = call(1).catch((e: Error) => e.message);
    const all = [call(2), call(3)].map((p) => p.catch((e: Error) => e.message));
    await r.openAll();
    expect(await first).toBe('server away');
    expect(await Promise.all(all)).toEqual(['server away', 'server away']);
    expect(r.statements).toEqual([[1], [2, 3]]);
    // The writer is not left stuck: a later call is written.
    const again = call(9).catch((e: Error) => e.message);
    await r.openAll();
    expect(await again).toBe('server away');
  });
});
