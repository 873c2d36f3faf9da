/** The seed's RateLimitConfig: a token bucket refilled at requests_per_minute, holding burst_size. */
export interface RateLimitConfig {
  requests_per_minute: number;
  burst_size: number;
}

export const RATE_TIERS = ['free', 'professional', 'unlimited', 'dev_mode'] as const;
export type RateTierName = (typeof RATE_TIERS)[number];

/** The seed's predefined tiers (SECURITY.md, "Predefined Tiers"); professional is every tenant's default. */
export const TIER_LIMITS: Readonly<Record<RateTierName, Readonly<RateLimitConfig>>> = Object.freeze({
  free: Object.freeze({ requests_per_minute: 60, burst_size: 100 }),
  professional: Object.freeze({ requests_per_minute: 600, burst_size: 1_000 }),
  unlimited: Object.freeze({ requests_per_minute: 10_000, burst_size: 20_000 }),
  dev_mode: Object.freeze({ requests_per_minute: 100_000, burst_size: 200_000 }),
});

export const DEFAULT_TIER: RateTierName = 'professional';

/** Bounds for an override: at least one request a minute, at most ten times the largest tier. */
export const MAX_REQUESTS_PER_MINUTE = 1_000_000;
export const MAX_BURST_SIZE = 2_000_000;

export function isRateTier(value: unknown): value is RateTierName {
  return typeof value === 'string' && (RATE_TIERS as readonly string[]).includes(value);
}
