import type { RateLimitConfig } from './tiers.js';

/** The outcome of one check, with what the RateLimit-* headers and Retry-After report. */
export interface RateDecision {
  allowed: boolean;
  /** The bucket's capacity (burst_size). */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until this request's cost would fit; 0 when allowed. */
  retryAfterSeconds: number;
  /** What the request cost, after capping at the bucket's capacity. */
  cost: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface KeyedRateLimiter {
  /** Takes `cost` tokens from `key`'s bucket if it holds them; otherwise takes nothing. */
  take(key: string, config: RateLimitConfig, cost?: number): RateDecision;
  /** The state of `key`'s bucket without taking anything. */
  peek(key: string, config: RateLimitConfig): RateDecision;
  /** Forgets a bucket (e.g. when its limit changes), so it starts full. */
  reset(key: string): void;
  readonly size: number;
}

export interface KeyedRateLimiterOptions {
  /** Milliseconds, monotonic is best; injectable so tests step time by hand. */
  now: () => number;
  /**
   * At most this many buckets are kept: beyond it the least recently used goes. A forgotten
   * bucket restarts full, which only ever favours the client, and the bound keeps a flood of
   * addresses from growing the map without end.
   */
  maxKeys: number;
}

/**
 * Token buckets by key (seed: "Token Bucket: allows bursts while maintaining average rate").
 * A bucket holds up to burst_size tokens and gains requests_per_minute of them a minute,
 * continuously. Each request takes its cost; a cost above the capacity is capped to it, so an
 * expensive request waits for a full bucket instead of never fitting.
 */
export function createKeyedRateLimiter(options: KeyedRateLimiterOptions): KeyedRateLimiter {
  if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) throw new RangeError('maxKeys must be at least 1');
  const buckets = new Map<string, Bucket>();

  function refreshed(key: string, config: RateLimitConfig, now: number): Bucket {
    const perMs = config.requests_per_minute / 60_000;
    const bucket = buckets.get(key);
    if (!bucket) return { tokens: config.burst_size, updatedAt: now };
    buckets.delete(key); // re-inserted by the caller: Map order is then least recently used first
    const elapsed = Math.max(0, now - bucket.updatedAt);
    return { tokens: Math.min(config.burst_size, bucket.tokens + elapsed * perMs), updatedAt: now };
  }

  function store(key: string, bucket: Bucket): void {
    buckets.set(key, bucket);
    if (buckets.size > options.maxKeys) buckets.delete(buckets.keys().next().value as string);
  }

  function decision(bucket: Bucket, config: RateLimitConfig, allowed: boolean, cost: number): RateDecision {
    const perSecond = config.requests_per_minute / 60;
    const missing = Math.max(0, cost - bucket.tokens);
    return {
      allowed,
      limit: config.burst_size,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((config.burst_size - bucket.tokens) / perSecond),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(missing / perSecond)),
      cost,
    };
  }

  return {
    take(key, config, requested = 1) {
      const cost = Math.min(Math.max(1, Math.ceil(requested)), config.burst_size);
      const bucket = refreshed(key, config, options.now());
      const allowed = bucket.tokens >= cost;
      if (allowed) bucket.tokens -= cost;
      store(key, bucket);
      return decision(bucket, config, allowed, cost);
    },
    peek(key, config) {
      const bucket = refreshed(key, config, options.now());
      store(key, bucket);
      return decision(bucket, config, bucket.tokens >= 1, 1);
    },
    reset(key) {
      buckets.delete(key);
    },
    get size() {
      return buckets.size;
    },
  };
}
