import type { AuditRecord } from '../audit-types.js';
import type { AnomalyConfig } from '../config.js';
import { roundScore, type Detection, type Detector } from '../types.js';
import { KeyedWindows } from '../windows.js';

/**
 * Brute force (seed: 5+ failed logins in 15 minutes), counted two ways inside the tenant:
 * - per address: one client guessing. Recommended action Block: the address is what to stop.
 * - per account: guesses at one account, possibly from many addresses, which no address block
 *   stops. Recommended action RequireMFA: the account needs a second factor, not a firewall.
 * A successful login to an account with 5+ recent failures may be the guess that worked: that
 * is a finding too (score 0.9, RequireMFA), the strongest sign of the three.
 *
 * Score: 0.7 at the threshold, +0.05 for each failure beyond it, 1.0 from twice the threshold on.
 */
export function bruteForceScore(failures: number, threshold: number): number {
  return roundScore(0.7 + 0.05 * (failures - threshold));
}

const FAILED_AFTER_SUCCESS_SCORE = 0.9;

function usernameOf(record: AuditRecord): string | undefined {
  const name = record.metadata['username'];
  // Only the name a client typed; folded so that "Admin" and "admin" count together.
  return typeof name === 'string' && name !== '' ? name.slice(0, 128).toLowerCase() : undefined;
}

export function createBruteForceDetector(config: AnomalyConfig): Detector {
  const { failures: threshold, windowMs } = config.bruteForce;
  // Twice the threshold (plus one) is all the score ever needs; more would only cost memory.
  const byAddress = new KeyedWindows<null>(windowMs, threshold * 2 + 1, config.maxSubjects);
  const byAccount = new KeyedWindows<string | null>(windowMs, threshold * 2 + 1, config.maxSubjects);
  const minutes = windowMs / 60_000;

  return {
    name: 'brute_force',
    observe(record, at) {
      if (record.action !== 'login') return [];
      const username = usernameOf(record);
      const accountKey = username === undefined ? undefined : `${record.tenant_id}\0${username}`;
      const address = record.actor.ip;
      if (record.outcome === 'success') {
        if (accountKey === undefined) return [];
        const recent = byAccount.peek(accountKey, at);
        if (recent.length < threshold) return [];
        return [
          {
            detector: 'brute_force',
            subject: `account:${username}`,
            score: FAILED_AFTER_SUCCESS_SCORE,
            action: 'RequireMFA',
            evidence: {
              kind: 'success_after_failures',
              username,
              failed_logins: recent.length,
              window_minutes: minutes,
              threshold,
            },
          },
        ];
      }
      if (record.outcome !== 'failure') return [];
      const detections: Detection[] = [];
      if (address) {
        const recent = byAddress.add(`${record.tenant_id}\0${address}`, at, null);
        if (recent.length >= threshold) {
          detections.push({
            detector: 'brute_force',
            subject: `address:${address}`,
            score: bruteForceScore(recent.length, threshold),
            action: 'Block',
            evidence: {
              kind: 'address',
              address,
              failed_logins: recent.length,
              window_minutes: minutes,
              threshold,
              first_at: new Date(recent[0]!.at).toISOString(),
            },
          });
        }
      }
      if (accountKey !== undefined) {
        const recent = byAccount.add(accountKey, at, address);
        if (recent.length >= threshold) {
          const addresses = new Set(recent.map((entry) => entry.value ?? 'unknown'));
          detections.push({
            detector: 'brute_force',
            subject: `account:${username}`,
            score: bruteForceScore(recent.length, threshold),
            action: 'RequireMFA',
            evidence: {
              kind: 'account',
              username,
              failed_logins: recent.length,
              distinct_addresses: addresses.size,
              window_minutes: minutes,
              threshold,
              first_at: new Date(recent[0]!.at).toISOString(),
            },
          });
        }
      }
      return detections;
    },
  };
}
