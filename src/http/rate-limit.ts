// Per-agency rate limits: a token bucket for each agency, refilled continuously at `perSecond`
// and holding at most `burst` tokens; every call takes one. The buckets are pure (the clock is
// passed in); the fastify hook refuses an over-limit call with 429 RATE_LIMITED and Retry-After
// before its body is read, so nothing is accepted while an agency is limited and a flood costs
// the hub no more than its headers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fail, type HubError, type Result } from '../errors.js';
import { replyError } from './errors.js';

export interface RateLimit { perSecond: number; burst: number }

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

export interface TokenBuckets { take(key: string): Take }

/**
 * Where the buckets are kept: in this process (createTokenBuckets), or shared by a hub's
 * replicas (http/shared-state.ts). A store that cannot answer lets the call through (the limit
 * protects the hub; refusing every agency while Redis is away would be an outage of its own).
 */
export interface BucketStore { take(key: string): Promise<Take> }

/** The buckets of one process: each replica of a hub then limits on its own (docs/replicas.md). */
export function inProcessBuckets(limit: RateLimit, nowMs: () => number): BucketStore {
  const buckets = createTokenBuckets(limit, nowMs);
  return { take: async (key) => buckets.take(key) };
}

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

/** What an over-limit call is answered: the error and its Retry-After in seconds. */
export interface Limited { error: HubError; retryAfterSeconds: number }

export interface AgencyLimiter {
  /** Takes one call from the agency's bucket: null when allowed, else the refusal (counted). */
  check(agency: string): Promise<Limited | null>;
}

export function createAgencyLimiter(limit: RateLimit, buckets: BucketStore, limited: (agency: string) => void): AgencyLimiter {
  return {
    async check(agency) {
      const taken = await buckets.take(agency);
      if (taken.ok) return null;
      limited(agency);
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      return {
        retryAfterSeconds: seconds,
        error: fail('RATE_LIMITED', `agency ${agency} is over its limit of ${limit.perSecond} calls/s (burst ${limit.burst}); retry after ${seconds} s`).error,
      };
    },
  };
}

export interface RateLimitDeps {
  limiter: AgencyLimiter;
  /**
   * The agency making an agency call (its credentials are checked here, so an unknown key is
   * refused before its body is read too), or null for calls outside the limit: admin, health,
   * metrics, so that operators are never locked out. (/vxp calls are limited in their handler,
   * once their HMAC has named the agency: sdk-dialect.ts.)
   */
  caller: (request: FastifyRequest) => Result<string> | null;
}

export function rateLimitAgencies(app: FastifyInstance, deps: RateLimitDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    const caller = deps.caller(request);
    if (caller === null) return;
    if (!caller.ok) return replyError(reply, caller.error);
    const limited = await deps.limiter.check(caller.value);
    if (limited !== null) return replyError(reply.header('retry-after', String(limited.retryAfterSeconds)), limited.error);
  });
}
