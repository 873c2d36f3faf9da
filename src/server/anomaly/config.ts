import type { DetectorName } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The engine's settings. Defaults follow the seed (SECURITY.md, Advanced §1): an alert at a
 * score of 0.7, brute force at 5 failed logins in 15 minutes, exfiltration at 5 times the
 * actor's normal query rate. The rest are this implementation's choices, explained beside each.
 */
export interface AnomalyConfig {
  /** Findings at or above this score are stored, pushed and (with enforcement) acted on. */
  threshold: number;
  /** The seed's enable_*_detection switches. */
  enabled: Record<DetectorName, boolean>;
  /** Block and RevokeAccess act only when this is on (off by default: detection alone changes nothing). */
  enforcement: boolean;
  /** How long an enforcement Block keeps an address out. */
  blockMs: number;
  /** A finding on the same subject is not repeated within this time unless its action escalates. */
  cooldownMs: number;
  bruteForce: { failures: number; windowMs: number };
  /** Minimum history before an actor's habits are judged: new actors never alert. */
  unusualAccess: { minRecords: number; minDays: number; rareHourShare: number; halfLifeMs: number };
  privilegeEscalation: { weight: number; windowMs: number };
  exfiltration: { multiple: number; minActiveHours: number; minRows: number; halfLifeMs: number };
  /** Humans only (actor type `user`): `actions` or more within `windowMs` is faster than a person acts. */
  velocity: { actions: number; windowMs: number };
  /** Actors never judged by velocity: dev mode's stand-in user, which is whatever script runs without credentials. */
  velocityExempt: readonly string[];
  /** Per-detector bounds on tracked subjects; the least recently seen go first. */
  maxSubjects: number;
  /** Learned baselines are written to SQLite this often (and at close). */
  persistEveryMs: number;
}

export const DEFAULT_ANOMALY_CONFIG: AnomalyConfig = {
  threshold: 0.7,
  enabled: {
    brute_force: true,
    unusual_access: true,
    privilege_escalation: true,
    data_exfiltration: true,
    velocity: true,
  },
  enforcement: false,
  blockMs: 15 * MINUTE,
  cooldownMs: 15 * MINUTE,
  bruteForce: { failures: 5, windowMs: 15 * MINUTE },
  // Three active days and 100 actions before an actor is judged; a baseline halves in 14 days.
  unusualAccess: { minRecords: 100, minDays: 3, rareHourShare: 0.005, halfLifeMs: 14 * DAY },
  // Weighted 403s in 15 minutes: five ordinary denials reach the 0.7 alert (see privilege-escalation.ts).
  privilegeEscalation: { weight: 5, windowMs: 15 * MINUTE },
  // 24 active hours of history; and below 1,000 rows an hour nothing is exfiltration, whatever the ratio.
  exfiltration: { multiple: 5, minActiveHours: 24, minRows: 1000, halfLifeMs: 7 * DAY },
  // 30 actions in 10 s: a page of the admin UI fires under ten requests at once, a person a few a second.
  velocity: { actions: 30, windowMs: 10_000 },
  velocityExempt: [],
  maxSubjects: 10_000,
  persistEveryMs: 5 * MINUTE,
};

/** A partial override on top of the defaults (the `enabled` switches merge one by one). */
export type AnomalyConfigInput = Partial<Omit<AnomalyConfig, 'enabled'>> & {
  enabled?: Partial<Record<DetectorName, boolean>>;
};

export function resolveAnomalyConfig(input: AnomalyConfigInput = {}): AnomalyConfig {
  const config: AnomalyConfig = {
    ...DEFAULT_ANOMALY_CONFIG,
    ...input,
    enabled: { ...DEFAULT_ANOMALY_CONFIG.enabled, ...input.enabled },
  };
  if (!(config.threshold > 0 && config.threshold <= 1)) throw new RangeError('the anomaly threshold must be in (0, 1]');
  if (!(config.blockMs >= MINUTE)) throw new RangeError('an anomaly block lasts at least a minute');
  return config;
}
