import { can, ROLES, type Role } from '../../identity/index.js';
import type { AuditRecord } from '../audit-types.js';
import type { AnomalyConfig } from '../config.js';
import { guardedPermission, SENSITIVE_PERMISSIONS } from '../sensitive.js';
import { roundScore, type Detection, type Detector, type RecommendedAction } from '../types.js';
import { KeyedWindows } from '../windows.js';

/** Weight of one refusal: probing for the permissions an attacker wants counts half again. */
const ORDINARY = 1;
const SENSITIVE = 1.5;
/** Score per unit of weight: five ordinary 403s in the window are 0.7, the alert. */
const PER_WEIGHT = 0.14;
const SENSITIVE_FOR_REVOKE = 3;

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

function weightOf(record: AuditRecord): { weight: number; sensitive: boolean } | undefined {
  if (record.action === 'cross_tenant_attempt') return { weight: SENSITIVE, sensitive: true };
  if (record.action !== 'permission_denied') return undefined;
  const required = record.metadata['required_permission'];
  const sensitive = typeof required === 'string' && SENSITIVE_PERMISSIONS.has(required);
  return { weight: sensitive ? SENSITIVE : ORDINARY, sensitive };
}

function actionFor(score: number, sensitiveCount: number): RecommendedAction {
  // Only a credential that keeps reaching for admin-grade permissions loses its access; one
  // that keeps hitting ordinary 403s (a misconfigured client) is an alert for a person.
  if (score >= 0.9 && sensitiveCount >= SENSITIVE_FOR_REVOKE) return 'RevokeAccess';
  if (score >= 0.7) return 'Alert';
  return 'Monitor';
}

/**
 * Privilege escalation (seed: unauthorised sensitive operations), two signs:
 * - repeated refusals by one actor: `permission_denied` (weight 1, or 1.5 when the permission
 *   is admin, manage_keys, manage_tenants, decrypt or read_audit) and `cross_tenant_attempt`
 *   (1.5), summed over the window. Score 0.14 a unit from 5 units on (5 ordinary 403s = 0.7,
 *   7 sensitive ones = 1.0); RevokeAccess from 0.9 when 3 or more were sensitive, else Alert.
 * - a guarded admin operation (sensitive.ts: GUARDED) that *succeeded* for a role lacking its
 *   permission: the check was bypassed somewhere. Score 1.0, RevokeAccess.
 */
export function createPrivilegeEscalationDetector(config: AnomalyConfig): Detector {
  const { weight: threshold, windowMs } = config.privilegeEscalation;
  const refusals = new KeyedWindows<{ weight: number; sensitive: boolean; action: string }>(
    windowMs,
    50,
    config.maxSubjects,
  );
  return {
    name: 'privilege_escalation',
    observe(record, at) {
      const { actor } = record;
      if (actor.type === 'system') return [];
      const who = actor.id ?? actor.ip ?? 'unknown';
      const subject = `actor:${actor.type}:${who}`;
      if (record.outcome === 'success') {
        const needed = guardedPermission(record.action);
        if (needed === undefined || !isRole(actor.role)) return [];
        if (can({ role: actor.role, tenantId: record.tenant_id }, needed)) return [];
        return [
          {
            detector: 'privilege_escalation',
            subject,
            score: 1,
            action: 'RevokeAccess',
            evidence: {
              kind: 'unauthorised_success',
              action: record.action,
              role: actor.role,
              required_permission: needed,
            },
          },
        ];
      }
      const weighed = weightOf(record);
      if (!weighed) return [];
      const recent = refusals.add(`${record.tenant_id}\0${subject}`, at, { ...weighed, action: record.action });
      const total = recent.reduce((sum, entry) => sum + entry.value.weight, 0);
      if (total < threshold) return [];
      const sensitiveCount = recent.filter((entry) => entry.value.sensitive).length;
      const score = roundScore(PER_WEIGHT * total);
      const detection: Detection = {
        detector: 'privilege_escalation',
        subject,
        score,
        action: actionFor(score, sensitiveCount),
        evidence: {
          kind: 'repeated_refusals',
          refusals: recent.length,
          sensitive_refusals: sensitiveCount,
          cross_tenant_attempts: recent.filter((entry) => entry.value.action === 'cross_tenant_attempt').length,
          weight: total,
          window_minutes: windowMs / 60_000,
          role: actor.role ?? null,
        },
      };
      return [detection];
    },
  };
}
