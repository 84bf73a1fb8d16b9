// The HTTP edge's state shared by a hub's replicas (`sharedState.redisUrl`): the per-agency
// token buckets and the /vxp replay guard, in Redis, so that a limit or a replay holds whichever
// replica a call reaches. Each bucket is read and updated by one Lua script (atomic in Redis, so
// two replicas never both spend the last token); a request is first used when SET NX creates its
// key. Without it each replica keeps its own (docs/replicas.md).
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { fail, ok, type Result } from '../errors.js';
import { redactUrl } from '../config.js';
import type { BucketStore, RateLimit, Take } from './rate-limit.js';
import type { ReplayGuard } from './sdk-auth.js';

export interface SharedEdgeState { buckets: BucketStore; replay: ReplayGuard; close(): Promise<void> }

// KEYS[1] the bucket; ARGV now (ms), refill per second, burst, time to keep an idle bucket (ms).
// The same arithmetic as createTokenBuckets (rate-limit.ts).
const TAKE = `
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = burst
if held[1] then tokens = math.min(burst, tonumber(held[1]) + math.max(0, now - tonumber(held[2])) * rate / 1000) end
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if allowed == 1 then return {1, 0} end
return {0, math.ceil((1 - tokens) * 1000 / rate)}
`;

/** Connects to Redis (a coded UNAVAILABLE when it does not answer, so the hub does not start half-shared). */
export async function openSharedEdgeState(url: string, hubId: string, limit: RateLimit, nowMs: () => number, log: Logger): Promise<Result<SharedEdgeState>> {
  // Calls fail fast while Redis is away instead of queueing behind a reconnect.
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 1_000 });
  redis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis connection error'));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    return fail('UNAVAILABLE', `no Redis at ${redactUrl(url)} (sharedState.redisUrl): ${(err as Error).message}`);
  }
  redis.defineCommand('lgspTake', { numberOfKeys: 1, lua: TAKE });
  const take = (redis as unknown as { lgspTake(key: string, ...args: number[]): Promise<[number, number]> }).lgspTake.bind(redis);
  // An idle bucket is full again after burst / perSecond seconds: kept that long, then dropped.
  const idleMs = Math.ceil(limit.burst / limit.perSecond * 1000) + 1000;
  let failing = false;
  return ok({
    buckets: {
      async take(agency): Promise<Take> {
        try {
          const [allowed, retryAfterMs] = await take(`lgsp:${hubId}:rate:${agency}`, nowMs(), limit.perSecond, limit.burst, idleMs);
          if (failing) log.info('the shared rate limit store answers again');
          failing = false;
          return allowed === 1 ? { ok: true } : { ok: false, retryAfterMs };
        } catch (err) {
          if (!failing) log.warn({ err: (err as Error).message }, 'the shared rate limit store is unreachable: calls pass unlimited until it answers');
          failing = true;
          return { ok: true };
        }
      },
    },
    replay: {
      async firstUse(key, untilMs) {
        const set = await redis.set(`lgsp:${hubId}:replay:${key}`, '1', 'PX', Math.max(1, untilMs - nowMs()), 'NX');
        return set === 'OK';
      },
    },
    close: async () => { await redis.quit(); },
  });
}
