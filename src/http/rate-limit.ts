// Per-agency rate limits: a token bucket for each agency, refilled continuously at `perSecond`
// and holding at most `burst` tokens; every call takes one. The buckets are pure (the clock is
// passed in); the fastify hook refuses an over-limit call with 429 RATE_LIMITED and Retry-After
// before its body is read, so nothing is accepted while an agency is limited and a flood costs
// the hub no more than its headers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fail, type Result } from '../errors.js';
import { replyError } from './errors.js';

export interface RateLimit { perSecond: number; burst: number }

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

export interface TokenBuckets { take(key: string): Take }

/** One bucket per key; keys are agency codes, so the map is bounded by the registered agencies. */
export function createTokenBuckets(limit: RateLimit, nowMs: () => number): TokenBuckets {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take(key) {
      const now = nowMs();
      const last = buckets.get(key);
      const tokens = last === undefined ? limit.burst
        : Math.min(limit.burst, last.tokens + Math.max(0, now - last.atMs) * limit.perSecond / 1000);
      if (tokens >= 1) {
        buckets.set(key, { tokens: tokens - 1, atMs: now });
        return { ok: true };
      }
      buckets.set(key, { tokens, atMs: now });
      return { ok: false, retryAfterMs: Math.ceil((1 - tokens) * 1000 / limit.perSecond) };
    },
  };
}

export interface RateLimitDeps {
  buckets: TokenBuckets;
  limit: RateLimit;
  /**
   * The agency making an agency call (its credentials are checked here, so an unknown key is
   * refused before its body is read too), or null for calls outside the limit: admin, health,
   * metrics, so that operators are never locked out.
   */
  caller: (request: FastifyRequest) => Result<string> | null;
  limited: (agency: string) => void;
}

export function rateLimitAgencies(app: FastifyInstance, deps: RateLimitDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    const caller = deps.caller(request);
    if (caller === null) return;
    if (!caller.ok) return replyError(reply, caller.error);
    const agency = caller.value;
    const taken = deps.buckets.take(agency);
    if (taken.ok) return;
    deps.limited(agency);
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    return replyError(reply.header('retry-after', String(seconds)), fail('RATE_LIMITED',
      `agency ${agency} is over its limit of ${deps.limit.perSecond} calls/s (burst ${deps.limit.burst}); retry after ${seconds} s`).error);
  });
}
