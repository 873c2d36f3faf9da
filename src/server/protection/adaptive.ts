import { loadScore, type SystemLoad } from './load-sampler.js';
import type { RateLimitConfig } from './tiers.js';

/** The seed's AdaptiveRateLimitConfig (SECURITY.md, Advanced §4); rates are requests per minute. */
export interface AdaptiveRateLimitConfig {
  enabled: boolean;
  /** Reductions never take a limit below this (nor below nothing: a limit under it is left alone). */
  min_rate_limit: number;
  /** Raises never take a limit above this (a base limit above it is never lowered by a raise). */
  max_rate_limit: number;
  learning_window_hours: number;
  /** How far one adjustment moves the limit: 0.3 lowers it to 70% or raises it to 130%. */
  adjustment_factor: number;
  enable_anomaly_throttling: boolean;
  enable_load_based_adjustment: boolean;
  enable_pattern_prediction: boolean;
}

/** The seed's example configuration. */
export const DEFAULT_ADAPTIVE_CONFIG: Readonly<AdaptiveRateLimitConfig> = Object.freeze({
  enabled: true,
  min_rate_limit: 10,
  max_rate_limit: 10_000,
  learning_window_hours: 24 * 7,
  adjustment_factor: 0.3,
  enable_anomaly_throttling: true,
  enable_load_based_adjustment: true,
  enable_pattern_prediction: true,
});

/** Seed: "3x normal rate triggers reduction". */
export const ANOMALY_MULTIPLE = 3;
/** An hour whose usual rate is this many times the normal one counts as a busy hour. */
export const BUSY_HOUR_MULTIPLE = 1.5;
/** Busy hours are anticipated this long before they start. */
export const PREDICTION_LEAD_MS = 15 * 60_000;
export const HIGH_LOAD = 0.8;
export const CRITICAL_LOAD = 0.95;

export type Adjustment = 'anomaly_throttle' | 'load_reduction' | 'peak_prediction';

/** Per-tenant figures for the API (seed: get_tenant_stats). */
export interface AdaptiveStats {
  enabled: boolean;
  base_limit: number;
  current_limit: number;
  /** Requests per minute over the tenant's active hours in the learning window. */
  normal_rate: number;
  /** Requests per minute this minute or the last, whichever is higher. */
  recent_rate: number;
  /** The usual rate of the coming hour of the day, per minute. */
  predicted_rate: number;
  /** recent_rate over current_limit. */
  utilization: number;
  anomaly: boolean;
  adjustments: Adjustment[];
  /** Complete hours of history in the window: anomaly throttling waits for at least one. */
  learned_hours: number;
  system_load: SystemLoad;
}

export interface AdaptiveRateLimiter {
  /** Counts `cost` tokens of use by the tenant. */
  record(tenantId: string, cost: number): void;
  /** The tenant's limit after adaptation, its burst scaled alike. */
  limitFor(tenantId: string, base: RateLimitConfig): RateLimitConfig;
  stats(tenantId: string, base: RateLimitConfig): AdaptiveStats;
  /** The latest measured load. */
  systemLoad(): SystemLoad;
}

export interface AdaptiveDependencies {
  now: () => number;
  /** Measures the machine; called at most once per `sampleIntervalMs`. */
  sampleLoad: () => SystemLoad;
  config: () => AdaptiveRateLimitConfig;
  sampleIntervalMs?: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const IDLE_LOAD: SystemLoad = Object.freeze({ cpu_usage: 0, memory_usage: 0, event_loop_delay_ms: 0 });

interface Usage {
  minute: number;
  minuteCount: number;
  lastMinuteCount: number;
  /** Counts by absolute hour number (ms / HOUR), pruned to the learning window. */
  hours: Map<number, number>;
  firstHour: number;
}

interface Judgement {
  factor: number;
  adjustments: Adjustment[];
  anomaly: boolean;
  normal: number;
  /** The rate that counts as usual right now: the normal one, or a busy hour's. */
  baseline: number;
  predicted: number;
  learnedHours: number;
}

/**
 * Learns each tenant's normal use and moves its limit: down to 3× normal while it runs at
 * more than that (once an hour is learned), down under measured load, up ahead of the hours
 * it is usually busy, and never past the configured bounds. Pure but for the injected clock
 * and load sampler; nothing here runs on a timer (work happens on the requests themselves).
 */
export function createAdaptiveLimiter(deps: AdaptiveDependencies): AdaptiveRateLimiter {
  const interval = deps.sampleIntervalMs ?? 5_000;
  const usage = new Map<string, Usage>();
  let load: SystemLoad = IDLE_LOAD;
  let sampledAt = Number.NEGATIVE_INFINITY;

  function currentLoad(now: number): SystemLoad {
    if (now - sampledAt >= interval) {
      load = deps.sampleLoad();
      sampledAt = now;
    }
    return load;
  }

  function usageOf(tenantId: string, now: number): Usage {
    const minute = Math.floor(now / MINUTE);
    let entry = usage.get(tenantId);
    if (!entry) {
      entry = { minute, minuteCount: 0, lastMinuteCount: 0, hours: new Map(), firstHour: Math.floor(now / HOUR) };
      usage.set(tenantId, entry);
    } else if (entry.minute !== minute) {
      entry.lastMinuteCount = minute === entry.minute + 1 ? entry.minuteCount : 0;
      entry.minuteCount = 0;
      entry.minute = minute;
    }
    return entry;
  }

  interface History {
    key: string;
    config: AdaptiveRateLimitConfig;
    normal: number;
    predicted: number;
    learnedHours: number;
  }
  const histories = new Map<string, History>();

  /** Normal and predicted rates change only when an hour completes: computed once per hour and kept. */
  function history(tenantId: string, entry: Usage | undefined, config: AdaptiveRateLimitConfig, now: number): History {
    const hour = Math.floor(now / HOUR);
    const comingHourOfDay = Math.floor((now + PREDICTION_LEAD_MS) / HOUR) % 24;
    const key = `${hour}:${comingHourOfDay}`;
    const cached = histories.get(tenantId);
    if (cached && cached.key === key && cached.config === config) return cached;
    const windowStart = Math.max(hour - config.learning_window_hours, entry?.firstHour ?? hour);
    let activeHours = 0;
    let activeCount = 0;
    let sameHourCount = 0;
    let sameHours = 0;
    for (let h = windowStart; h < hour; h++) {
      const count = entry?.hours.get(h) ?? 0;
      if (count > 0) {
        activeHours++;
        activeCount += count;
      }
      if (h % 24 === comingHourOfDay) {
        sameHours++;
        sameHourCount += count;
      }
    }
    const computed: History = {
      key,
      config,
      normal: activeHours > 0 ? activeCount / (activeHours * 60) : 0,
      predicted: sameHours > 0 ? sameHourCount / (sameHours * 60) : 0,
      learnedHours: hour - windowStart,
    };
    if (entry) histories.set(tenantId, computed);
    return computed;
  }

  function judge(tenantId: string, entry: Usage | undefined, config: AdaptiveRateLimitConfig, now: number): Judgement {
    const { normal, predicted, learnedHours } = history(tenantId, entry, config, now);
    const recent = entry ? Math.max(entry.minuteCount, entry.lastMinuteCount) : 0;
    const adjustments: Adjustment[] = [];
    let factor = 1;
    const step = config.adjustment_factor;
    const busyAhead = config.enable_pattern_prediction && predicted > normal * BUSY_HOUR_MULTIPLE && predicted > 0;
    if (busyAhead) {
      factor *= 1 + step;
      adjustments.push('peak_prediction');
    }
    if (config.enable_load_based_adjustment) {
      const score = loadScore(currentLoad(now));
      if (score >= HIGH_LOAD) {
        factor *= score >= CRITICAL_LOAD ? (1 - step) ** 2 : 1 - step;
        adjustments.push('load_reduction');
      }
    }
    // The usual rate of a busy hour is normal for that hour: it is no anomaly.
    const baseline = busyAhead ? Math.max(normal, predicted) : normal;
    const anomaly =
      config.enable_anomaly_throttling && learnedHours >= 1 && baseline > 0 && recent > ANOMALY_MULTIPLE * baseline;
    if (anomaly) adjustments.push('anomaly_throttle');
    return { factor, adjustments, anomaly, normal, baseline, predicted, learnedHours };
  }

  function adapted(base: RateLimitConfig, judgement: Judgement, config: AdaptiveRateLimitConfig): number {
    let limit = base.requests_per_minute * judgement.factor;
    if (judgement.anomaly) limit = Math.min(limit, ANOMALY_MULTIPLE * judgement.baseline);
    if (limit < base.requests_per_minute)
      return Math.max(limit, Math.min(config.min_rate_limit, base.requests_per_minute));
    if (limit > base.requests_per_minute)
      return Math.min(limit, Math.max(config.max_rate_limit, base.requests_per_minute));
    return limit;
  }

  function scaled(base: RateLimitConfig, perMinute: number): RateLimitConfig {
    if (perMinute === base.requests_per_minute) return base;
    const ratio = perMinute / base.requests_per_minute;
    return { requests_per_minute: perMinute, burst_size: Math.max(1, Math.round(base.burst_size * ratio)) };
  }

  return {
    record(tenantId, cost) {
      const now = deps.now();
      const entry = usageOf(tenantId, now);
      entry.minuteCount += cost;
      const hour = Math.floor(now / HOUR);
      entry.hours.set(hour, (entry.hours.get(hour) ?? 0) + cost);
      if (entry.hours.size > deps.config().learning_window_hours + 1) {
        const oldest = hour - deps.config().learning_window_hours;
        for (const h of entry.hours.keys()) if (h < oldest) entry.hours.delete(h);
      }
    },
    limitFor(tenantId, base) {
      const config = deps.config();
      if (!config.enabled) return base;
      const now = deps.now();
      const entry = usage.has(tenantId) ? usageOf(tenantId, now) : undefined;
      return scaled(base, adapted(base, judge(tenantId, entry, config, now), config));
    },
    stats(tenantId, base) {
      const config = deps.config();
      const now = deps.now();
      const entry = usage.has(tenantId) ? usageOf(tenantId, now) : undefined;
      const judgement = judge(tenantId, entry, config, now);
      const current = config.enabled ? adapted(base, judgement, config) : base.requests_per_minute;
      const recent = entry ? Math.max(entry.minuteCount, entry.lastMinuteCount) : 0;
      return {
        enabled: config.enabled,
        base_limit: base.requests_per_minute,
        current_limit: Math.round(current * 100) / 100,
        normal_rate: Math.round(judgement.normal * 100) / 100,
        recent_rate: recent,
        predicted_rate: Math.round(judgement.predicted * 100) / 100,
        utilization: current > 0 ? Math.round((recent / current) * 1000) / 1000 : 0,
        anomaly: config.enabled && judgement.anomaly,
        adjustments: config.enabled ? judgement.adjustments : [],
        learned_hours: judgement.learnedHours,
        system_load: currentLoad(now),
      };
    },
    systemLoad: () => currentLoad(deps.now()),
  };
}
