import type { AuditRecord } from '../audit-types.js';
import { actorKey, decayFactor, type BaselineStore } from '../baselines.js';
import type { AnomalyConfig } from '../config.js';
import { sensitivePermission } from '../sensitive.js';
import { roundScore, type Detector, type RecommendedAction } from '../types.js';

/** What the detector has learned about one actor. Counts decay with the configured half-life. */
export interface AccessBaseline {
  /** Records seen (not decayed): the minimum history is counted in these. */
  records: number;
  /** Distinct UTC days with activity (not decayed). */
  days: number;
  lastDay: number;
  /** Decayed counts by UTC hour of day, and their sum. */
  hours: number[];
  total: number;
  /** Decayed counts by action, at most MAX_ACTIONS of them. */
  actions: Record<string, number>;
  /** When the counts were last decayed. */
  at: number;
}

const MAX_ACTIONS = 64;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** `new Date(at).getUTCHours()` without the Date: this runs for every audit record. */
export const utcHour = (at: number): number => ((Math.floor(at / HOUR_MS) % 24) + 24) % 24;
/** Components of the score, combined as independent evidence: 1 - Π(1 - s). */
const RARE_HOUR = 0.5;
const NEW_SENSITIVE_ACTION = 0.6;
const NEW_ACTION = 0.3;

export const combine = (parts: readonly number[]): number =>
  roundScore(1 - parts.reduce((rest, part) => rest * (1 - part), 1));

function actionFor(score: number): RecommendedAction {
  // A new sensitive action at an hour the actor never works is the shape of a taken-over
  // account: the owner should prove it is them (RequireMFA).
  if (score >= 0.8) return 'RequireMFA';
  if (score >= 0.7) return 'Alert';
  return 'Monitor';
}

function emptyBaseline(at: number): AccessBaseline {
  return { records: 0, days: 0, lastDay: -1, hours: new Array<number>(24).fill(0), total: 0, actions: {}, at };
}

/** The share of the actor's activity in `hour`, with half of each neighbour (clock drift, DST). */
export function hourShare(baseline: AccessBaseline, hour: number): number {
  if (baseline.total <= 0) return 0;
  const h = baseline.hours;
  const near = h[hour]! + 0.5 * (h[(hour + 23) % 24]! + h[(hour + 1) % 24]!);
  return near / (2 * baseline.total);
}

function learn(baseline: AccessBaseline, record: AuditRecord, at: number, halfLifeMs: number): void {
  const factor = decayFactor(at - baseline.at, halfLifeMs);
  if (factor < 1) {
    for (let i = 0; i < 24; i += 1) baseline.hours[i]! *= factor;
    baseline.total *= factor;
    for (const action of Object.keys(baseline.actions)) baseline.actions[action]! *= factor;
    baseline.at = at;
  }
  baseline.hours[utcHour(at)]! += 1;
  baseline.total += 1;
  const seen = baseline.actions[record.action];
  baseline.actions[record.action] = (seen ?? 0) + 1;
  const names = seen === undefined ? Object.keys(baseline.actions) : [];
  if (names.length > MAX_ACTIONS) {
    // Forget the rarest action: the cap bounds memory, and a rare action is new again anyway.
    const rarest = names.reduce((a, b) => (baseline.actions[a]! <= baseline.actions[b]! ? a : b));
    delete baseline.actions[rarest];
  }
  baseline.records += 1;
  const day = Math.floor(at / DAY_MS);
  if (day !== baseline.lastDay) {
    baseline.days += 1;
    baseline.lastDay = day;
  }
}

/**
 * Unusual access (seed: outside the actor's typical hours or actions). Per actor (user or API
 * key), a decayed histogram of UTC hours and of actions. Nothing is judged until the actor has
 * `minRecords` records over `minDays` days, so a new user or key never alerts. Then:
 * - an hour holding under `rareHourShare` of the actor's activity (neighbours half-counted) adds 0.5;
 * - an action the actor never took adds 0.6 when sensitive (kms, keys, users, tenants, audit), else 0.3.
 * Combined as independent evidence, only the pair "rare hour + new sensitive action" reaches
 * the alert (0.8): an odd hour alone (0.5), or a first logout at midnight (0.65), does not.
 * Every record is learned after it is judged, so a new habit stops being new.
 */
export function createUnusualAccessDetector(config: AnomalyConfig, baselines: BaselineStore<AccessBaseline>): Detector {
  const { minRecords, minDays, rareHourShare, halfLifeMs } = config.unusualAccess;
  return {
    name: 'unusual_access',
    observe(record, at) {
      const { actor } = record;
      if ((actor.type !== 'user' && actor.type !== 'api_key') || actor.id === null) return [];
      const key = actorKey(record.tenant_id, actor.type, actor.id);
      const baseline = baselines.get(key) ?? emptyBaseline(at);
      const established = baseline.records >= minRecords && baseline.days >= minDays;
      const parts: number[] = [];
      const evidence: Record<string, unknown> = {};
      if (established) {
        const hour = utcHour(at);
        const share = hourShare(baseline, hour);
        if (share < rareHourShare) {
          parts.push(RARE_HOUR);
          evidence['hour_utc'] = hour;
          evidence['hour_share'] = Number(share.toFixed(4));
        }
        if ((baseline.actions[record.action] ?? 0) < 0.5) {
          const sensitive = sensitivePermission(record.action) !== undefined;
          parts.push(sensitive ? NEW_SENSITIVE_ACTION : NEW_ACTION);
          evidence['new_action'] = record.action;
          evidence['sensitive'] = sensitive;
        }
      }
      learn(baseline, record, at, halfLifeMs);
      baselines.set(key, baseline);
      if (parts.length === 0) return [];
      const score = combine(parts);
      return [
        {
          detector: 'unusual_access',
          subject: `actor:${actor.type}:${actor.id}`,
          score,
          action: actionFor(score),
          evidence: {
            ...evidence,
            baseline: {
              records: baseline.records,
              days: baseline.days,
              usual_actions: Object.keys(baseline.actions).length,
            },
          },
        },
      ];
    },
  };
}
