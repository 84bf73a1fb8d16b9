import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from '../../../src/http/rate-limit.js';

function fakeClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}
const takeMany = (take: () => { ok: boolean }, n: number) => Array.from({ length: n }, take).filter((t) => t.ok).length;

describe('token buckets', () => {
  it('lets a burst through, then refuses with the wait for the next token', () => {
    const clock = fakeClock();
    const buckets = createTokenBuckets({ perSecond: 4, burst: 3 }, clock.now);
    expect(takeMany(() => buckets.take('A'), 3)).toBe(3);
    expect(buckets.take('A')).toEqual({ ok: false, retryAfterMs: 250 });
    clock.advance(100);
    expect(buckets.take('A')).toEqual({ ok: false, retryAfterMs: 150 });
    clock.advance(150);
    expect(buckets.take('A')).toEqual({ ok: true });
    expect(buckets.take('A').ok).toBe(false);
  });

  it('refills at perSecond and never above burst', () => {
    const clock = fakeClock();
    const buckets = createTokenBuckets({ perSecond: 10, burst: 5 }, clock.now);
    expect(takeMany(() => buckets.take('A'), 5)).toBe(5);
    clock.advance(300); // three tokens back
    expect(takeMany(() => buckets.take('A'), 10)).toBe(3);
    clock.advance(60_000); // a long pause refills to burst, not to 600
    expect(takeMany(() => buckets.take('A'), 100)).toBe(5);
  });

  it('keeps one bucket per agency', () => {
    const clock = fakeClock();
    const buckets = createTokenBuckets({ perSecond: 1, burst: 2 }, clock.now);
    expect(takeMany(() => buckets.take('A'), 5)).toBe(2);
    expect(takeMany(() => buckets.take('B'), 5)).toBe(2);
  });

  it('does not refill when the clock goes backwards', () => {
    const clock = fakeClock();
    const buckets = createTokenBuckets({ perSecond: 1, burst: 1 }, clock.now);
    expect(buckets.take('A').ok).toBe(true);
    clock.advance(-5_000);
    expect(buckets.take('A').ok).toBe(false);
  });

  it('admits perSecond calls a second over a long run', () => {
    const clock = fakeClock();
    const buckets = createTokenBuckets({ perSecond: 20, burst: 10 }, clock.now);
    let admitted = 0;
    for (let ms = 0; ms < 10_000; ms += 5) { // a caller trying 200 calls/s for 10 s
      if (buckets.take('A').ok) admitted++;
      clock.advance(5);
    }
    expect(admitted).toBeGreaterThanOrEqual(200);
    expect(admitted).toBeLessThanOrEqual(20 * 10 + 10);
  });
});
