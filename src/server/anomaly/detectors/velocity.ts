import type { AnomalyConfig } from '../config.js';
import { roundScore, type Detector, type RecommendedAction } from '../types.js';
import { KeyedWindows } from '../windows.js';

/** From the limit to three times it the score rises from 0.7 to 1.0. */
export function velocityScore(actions: number, limit: number): number {
  return roundScore(0.7 + (0.3 * (actions - limit)) / (2 * limit));
}

/**
 * Velocity (seed: impossibly fast actions). Judges people only, actors of type `user`: `actions`
 * or more audited actions within `windowMs` (30 in 10 s by default) is a script driving a
 * person's token, not a person. The admin UI fires under ten requests for a page, in bursts.
 *
 * API keys are not judged here: they are machines, and a CI job or service ingesting hundreds
 * of requests a second is their normal use. Their speed is bounded by the rate limiter (per
 * tenant, adaptive), and abnormal *volume* for a key is the exfiltration detector's job, judged
 * against that key's own history. A fixed "human speed" bar for keys would either alert on
 * every busy service or be too high to mean anything.
 *
 * Action: Alert, or RequireMFA from 0.9: the owner should show they are there. Never
 * RevokeAccess: a fast client on a person's token is more often their own script than an
 * attacker's, and it is not worth cutting them off without a person looking.
 */
export function createVelocityDetector(config: AnomalyConfig): Detector {
  const { actions: limit, windowMs } = config.velocity;
  const exempt = new Set(config.velocityExempt);
  // Three times the limit saturates the score: keeping more would only cost memory.
  const windows = new KeyedWindows<null>(windowMs, limit * 3, config.maxSubjects);
  return {
    name: 'velocity',
    observe(record, at) {
      const { actor } = record;
      if (actor.type !== 'user' || actor.id === null || exempt.has(actor.id)) return [];
      const recent = windows.add(`${record.tenant_id}\0${actor.id}`, at, null);
      if (recent.length < limit) return [];
      const score = velocityScore(recent.length, limit);
      const action: RecommendedAction = score >= 0.9 ? 'RequireMFA' : 'Alert';
      const spanMs = Math.max(1, recent.at(-1)!.at - recent[0]!.at);
      return [
        {
          detector: 'velocity',
          subject: `actor:user:${actor.id}`,
          score,
          action,
          evidence: {
            actions: recent.length,
            window_seconds: windowMs / 1000,
            limit,
            actions_per_second: Number(((recent.length * 1000) / spanMs).toFixed(1)),
          },
        },
      ];
    },
  };
}
