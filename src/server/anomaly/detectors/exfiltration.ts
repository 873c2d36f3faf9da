import type { AuditRecord } from '../audit-types.js';
import { actorKey, decayFactor, type BaselineStore } from '../baselines.js';
import type { AnomalyConfig } from '../config.js';
import { roundScore, type Detector, type RecommendedAction } from '../types.js';

/** One actor's read volume: the learned hourly rate, and the last hour minute by minute. */
export interface ReadBaseline {
  /** Decayed sums over the closed hours in which the actor read: their ratio is the normal rate. */
  volume: number;
  hours: number;
  /** Closed active hours seen (not decayed): the minimum baseline is counted in these. */
  activeHours: number;
  /** The hour (ms since epoch / 3,600,000) being accumulated, and its volume so far. */
  hour: number;
  hourVolume: number;
  /** Rows read in each of the last 60 minutes (ring by minute of the hour), and the newest minute written. */
  minutes: number[];
  minute: number;
  /** When the sums were last decayed. */
  at: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** From 5× (the seed's multiple) to 20× the score rises from 0.7 to 1.0, on a log scale. */
const FULL_SCORE_MULTIPLE = 4;

/** Rows a read record returned: its `count`, else one (a single event or entity state). */
export function rowsRead(record: AuditRecord): number | undefined {
  const action = record.action;
  const isRead = action === 'query_events' || action.startsWith('read_') || action.startsWith('export_');
  if (!isRead || record.outcome === 'failure') return undefined;
  const count = record.metadata['count'];
  return typeof count === 'number' && Number.isFinite(count) && count >= 0 ? count : 1;
}

export function exfiltrationScore(ratio: number, multiple: number): number {
  return roundScore(0.7 + (0.3 * Math.log(ratio / multiple)) / Math.log(FULL_SCORE_MULTIPLE));
}

function emptyBaseline(at: number): ReadBaseline {
  return {
    volume: 0,
    hours: 0,
    activeHours: 0,
    hour: Math.floor(at / HOUR_MS),
    hourVolume: 0,
    minutes: new Array<number>(60).fill(0),
    minute: Math.floor(at / MINUTE_MS),
    at,
  };
}

/** Rows in the 60 minutes ending at `minute`, after clearing the minutes that passed unseen. */
function advance(baseline: ReadBaseline, minute: number): void {
  const gap = Math.min(60, minute - baseline.minute);
  for (let step = 1; step <= gap; step += 1) baseline.minutes[(baseline.minute + step) % 60] = 0;
  if (minute > baseline.minute) baseline.minute = minute;
}

/**
 * Data exfiltration (seed: query volume at 5× the actor's normal rate). Per actor, the rows
 * its reads returned (query_events' count, 1 for a single event or state): the sliding last
 * 60 minutes against its normal rate, the decayed mean over the closed hours in which it read.
 * Judged only once the actor has `minActiveHours` such hours, and never below `minRows` in the
 * hour: five times a trickle is still a trickle. An hour that closes adds at most 5× the mean
 * to the baseline, so an attack does not teach the detector that attacks are normal.
 * Score 0.7 at 5×, 1.0 at 20×; RevokeAccess from 0.9 (about 12.6×), else Alert.
 */
export function createExfiltrationDetector(config: AnomalyConfig, baselines: BaselineStore<ReadBaseline>): Detector {
  const { multiple, minActiveHours, minRows, halfLifeMs } = config.exfiltration;
  return {
    name: 'data_exfiltration',
    observe(record, at) {
      const { actor } = record;
      if ((actor.type !== 'user' && actor.type !== 'api_key') || actor.id === null) return [];
      const rows = rowsRead(record);
      if (rows === undefined) return [];
      const key = actorKey(record.tenant_id, actor.type, actor.id);
      const baseline = baselines.get(key) ?? emptyBaseline(at);
      const hour = Math.floor(at / HOUR_MS);
      if (hour > baseline.hour) {
        if (baseline.hourVolume > 0) {
          const factor = decayFactor(at - baseline.at, halfLifeMs);
          const mean = baseline.hours > 0 ? baseline.volume / baseline.hours : Infinity;
          baseline.volume = baseline.volume * factor + Math.min(baseline.hourVolume, multiple * mean);
          baseline.hours = baseline.hours * factor + 1;
          baseline.activeHours += 1;
          baseline.at = at;
        }
        baseline.hour = hour;
        baseline.hourVolume = 0;
      }
      const minute = Math.floor(at / MINUTE_MS);
      advance(baseline, minute);
      baseline.minutes[minute % 60]! += rows;
      baseline.hourVolume += rows;
      baselines.set(key, baseline);

      if (baseline.activeHours < minActiveHours || baseline.hours <= 0) return [];
      const lastHour = baseline.minutes.reduce((sum, value) => sum + value, 0);
      const normal = baseline.volume / baseline.hours;
      if (lastHour < minRows || lastHour < multiple * normal) return [];
      const ratio = lastHour / Math.max(normal, 1);
      const score = exfiltrationScore(ratio, multiple);
      const action: RecommendedAction = score >= 0.9 ? 'RevokeAccess' : 'Alert';
      return [
        {
          detector: 'data_exfiltration',
          subject: `actor:${actor.type}:${actor.id}`,
          score,
          action,
          evidence: {
            rows_last_hour: lastHour,
            normal_rows_per_hour: Math.round(normal),
            ratio: Number(ratio.toFixed(1)),
            multiple,
            baseline_hours: baseline.activeHours,
          },
        },
      ];
    },
  };
}
