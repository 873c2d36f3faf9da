import { describe, expect, it } from 'vitest';
import { createKeyedRateLimiter } from './token-bucket.js';
import { TIER_LIMITS } from './tiers.js';

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('keyed token buckets', () => {
  const free = TIER_LIMITS.free; // 60 a minute, burst 100

  it('allows the burst, then refuses with Retry-After, then refills at the rate', () => {
    const time = clock();
    const limiter = createKeyedRateLimiter({ now: time.now, maxKeys: 10 });
    for (let i = 0; i < 100; i++) expect(limiter.take('t', free).allowed).toBe(true);
    const refused = limiter.take('t', free);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1, limit: 100 });
    time.advance(1_000); // one token a second
    expect(limiter.take('t', free).allowed).toBe(true);
    expect(limiter.take('t', free).allowed).toBe(false);
  });

  it('keeps buckets apart by key', () => {
    const limiter = createKeyedRateLimiter({ now: clock().now, maxKeys: 10 });
    for (let i = 0; i < 100; i++) limiter.take('a', free);
    expect(limiter.take('a', free).allowed).toBe(false);
    expect(limiter.take('b', free).allowed).toBe(true);
  });

  it('charges the cost, caps it at the capacity, and refuses without taking anything', () => {
    const time = clock();
    const limiter = createKeyedRateLimiter({ now: time.now, maxKeys: 10 });
    expect(limiter.take('t', free, 30)).toMatchObject({ allowed: true, remaining: 70, cost: 30 });
    expect(limiter.take('t', free, 80)).toMatchObject({ allowed: false, remaining: 70, retryAfterSeconds: 10 });
    expect(limiter.take('t', free, 10_000)).toMatchObject({ allowed: false, cost: 100, retryAfterSeconds: 30 });
    time.advance(30_000);
    expect(limiter.take('t', free, 10_000)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('reports the seconds until full, and never holds more than the burst', () => {
    const time = clock();
    const limiter = createKeyedRateLimiter({ now: time.now, maxKeys: 10 });
    expect(limiter.take('t', free, 60).resetSeconds).toBe(60);
    time.advance(10 * 60_000);
    expect(limiter.peek('t', free)).toMatchObject({ remaining: 100, resetSeconds: 0 });
  });

  it('survives a clock that steps back', () => {
    const time = clock(10_000);
    const limiter = createKeyedRateLimiter({ now: time.now, maxKeys: 10 });
    limiter.take('t', free, 100);
    time.advance(-5_000);
    expect(limiter.take('t', free).allowed).toBe(false);
  });

  it('keeps at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = createKeyedRateLimiter({ now: clock().now, maxKeys: 2 });
    limiter.take('a', free, 100);
    limiter.take('b', free, 100);
    limiter.take('a', free, 1); // a is now the most recent
    limiter.take('c', free, 1); // b goes
    expect(limiter.size).toBe(2);
    expect(limiter.peek('a', free).remaining).toBe(0);
    expect(limiter.peek('b', free).remaining).toBe(100);
  });
});
