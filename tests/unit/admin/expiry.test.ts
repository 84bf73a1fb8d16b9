import { describe, expect, it } from 'vitest';
import { expiryThreshold, secondsToExpiry } from '../../../src/admin/expiry.js';

const now = new Date('2026-11-22T00:00:00Z');
const inDays = (d: number) => new Date(now.getTime() + d * 86_400_000);

describe('certificate expiry thresholds', () => {
  it('names the tightest of 60/30/14/7/1 days, 0 once expired, nothing beyond 60 days', () => {
    expect([90, 60, 45, 30, 20, 14, 8, 7, 2, 1, 0.5].map((d) => expiryThreshold(inDays(d), now))).toEqual([null, 60, 60, 30, 30, 14, 14, 7, 7, 1, 1]);
    expect(expiryThreshold(inDays(-1), now)).toBe(0);
  });

  it('counts seconds to expiry, negative once expired', () => {
    expect(secondsToExpiry(inDays(1), now)).toBe(86_400);
    expect(secondsToExpiry(inDays(-1), now)).toBe(-86_400);
  });
});
