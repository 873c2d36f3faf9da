import { describe, expect, it } from 'vitest';
import { createAdaptiveLimiter, DEFAULT_ADAPTIVE_CONFIG, type AdaptiveRateLimitConfig } from './adaptive.js';
import type { SystemLoad } from './load-sampler.js';
import type { RateLimitConfig } from './tiers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const IDLE: SystemLoad = { cpu_usage: 0.1, memory_usage: 0.1, event_loop_delay_ms: 1 };
const BASE: RateLimitConfig = { requests_per_minute: 600, burst_size: 1000 };

function harness(config: Partial<AdaptiveRateLimitConfig> = {}, start = 0) {
  let now = start;
  let load = IDLE;
  const limiter = createAdaptiveLimiter({
    now: () => now,
    sampleLoad: () => load,
    config: () => ({ ...DEFAULT_ADAPTIVE_CONFIG, ...config }),
    sampleIntervalMs: 0,
  });
  return {
    limiter,
    advance: (ms: number) => (now += ms),
    setLoad: (next: SystemLoad) => (load = next),
    /** `perMinute` requests in each minute for `minutes` minutes. */
    use(tenant: string, perMinute: number, minutes: number) {
      for (let m = 0; m < minutes; m++) {
        limiter.record(tenant, perMinute);
        now += MINUTE;
      }
    },
  };
}

describe('adaptive rate limits', () => {
  it('leaves a tenant without history at its base limit', () => {
    const { limiter } = harness();
    expect(limiter.limitFor('new', BASE)).toEqual(BASE);
    expect(limiter.stats('new', BASE)).toMatchObject({ current_limit: 600, learned_hours: 0, anomaly: false });
  });

  it('learns the normal rate, then throttles to 3× normal while the tenant runs above it', () => {
    const h = harness();
    h.use('acme', 20, 120); // two hours at 20 a minute
    expect(h.limiter.stats('acme', BASE)).toMatchObject({ normal_rate: 20, anomaly: false, current_limit: 600 });
    h.limiter.record('acme', 61); // this minute: over 3 × 20
    const limit = h.limiter.limitFor('acme', BASE);
    expect(limit.requests_per_minute).toBe(60);
    expect(limit.burst_size).toBe(100); // scaled alike
    expect(h.limiter.stats('acme', BASE)).toMatchObject({ anomaly: true, adjustments: ['anomaly_throttle'] });
    h.advance(2 * MINUTE); // the burst is over
    expect(h.limiter.limitFor('acme', BASE).requests_per_minute).toBe(600);
  });

  it('does not throttle before an hour is learned', () => {
    const h = harness();
    h.use('acme', 1, 30);
    h.limiter.record('acme', 500);
    expect(h.limiter.stats('acme', BASE).anomaly).toBe(false);
  });

  it('never throttles below min_rate_limit', () => {
    const h = harness({ min_rate_limit: 100 });
    h.use('acme', 2, 120);
    h.limiter.record('acme', 50);
    expect(h.limiter.limitFor('acme', BASE).requests_per_minute).toBe(100);
  });

  it('lowers every limit under measured load, more under critical load', () => {
    const h = harness();
    h.setLoad({ cpu_usage: 0.85, memory_usage: 0.2, event_loop_delay_ms: 5 });
    expect(h.limiter.limitFor('acme', BASE).requests_per_minute).toBeCloseTo(420);
    h.setLoad({ cpu_usage: 0.2, memory_usage: 0.2, event_loop_delay_ms: 150 });
    expect(h.limiter.limitFor('acme', BASE).requests_per_minute).toBeCloseTo(294);
    expect(h.limiter.stats('acme', BASE).adjustments).toEqual(['load_reduction']);
    h.setLoad(IDLE);
    expect(h.limiter.limitFor('acme', BASE).requests_per_minute).toBe(600);
  });

  it('raises the limit ahead of the hour a tenant is usually busy, within max_rate_limit', () => {
    const h = harness({ max_rate_limit: 700 });
    // Two days: quiet (1 a minute) but for 09:00-10:00, busy (100 a minute).
    for (let day = 0; day < 2; day++) {
      for (let hour = 0; hour < 24; hour++) h.use('acme', hour === 9 ? 100 : 1, 60);
    }
    // Day three, 08:50: ten minutes before the busy hour.
    h.advance(8 * HOUR + 50 * MINUTE);
    const stats = h.limiter.stats('acme', BASE);
    expect(stats.adjustments).toContain('peak_prediction');
    expect(stats.predicted_rate).toBe(100);
    expect(h.limiter.limitFor('acme', BASE).requests_per_minute).toBe(700);
    // In the busy hour its usual rate is no anomaly.
    h.advance(15 * MINUTE);
    h.limiter.record('acme', 120);
    expect(h.limiter.stats('acme', BASE).anomaly).toBe(false);
    // At 14:00 it is quiet again.
    h.advance(5 * HOUR);
    expect(h.limiter.limitFor('acme', BASE).requests_per_minute).toBe(600);
  });

  it('forgets use older than the learning window', () => {
    const h = harness({ learning_window_hours: 2 });
    h.use('acme', 50, 60);
    h.use('acme', 5, 180);
    expect(h.limiter.stats('acme', BASE).normal_rate).toBe(5);
  });

  it('does nothing when disabled', () => {
    const h = harness({ enabled: false });
    h.setLoad({ cpu_usage: 1, memory_usage: 1, event_loop_delay_ms: 1000 });
    expect(h.limiter.limitFor('acme', BASE)).toEqual(BASE);
    expect(h.limiter.stats('acme', BASE)).toMatchObject({ enabled: false, current_limit: 600, adjustments: [] });
  });
});
