import type { AuditActor, AuditRecord } from '../audit-types.js';

/** Test support: audit records with a pinned clock. Not part of the module's public API. */

export const T0 = Date.parse('2026-03-02T00:00:00.000Z'); // a Monday, 00:00 UTC
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

let seq = 0;

export const user = (id: string, role = 'developer', ip = '10.0.0.5'): AuditActor => ({
  type: 'user',
  id,
  name: id,
  role,
  ip,
});
export const apiKey = (id: string, role = 'serviceaccount', ip = '10.0.1.9'): AuditActor => ({
  type: 'api_key',
  id,
  name: id,
  role,
  ip,
});
export const anonymous = (ip: string): AuditActor => ({ type: 'anonymous', id: null, ip });

export function record(
  at: number,
  actor: AuditActor,
  action: string,
  more: Partial<Omit<AuditRecord, 'actor' | 'action' | 'timestamp'>> = {},
): AuditRecord {
  seq += 1;
  return {
    id: `rec-${seq}`,
    seq,
    tenant_id: 'acme',
    timestamp: new Date(at).toISOString(),
    action,
    actor,
    outcome: 'success',
    resource: null,
    request_id: null,
    metadata: {},
    ...more,
  };
}

export const failedLogin = (at: number, ip: string, username: string): AuditRecord =>
  record(at, anonymous(ip), 'login', { outcome: 'failure', metadata: { username } });

export const denied = (at: number, actor: AuditActor, permission: string): AuditRecord =>
  record(at, actor, 'permission_denied', { outcome: 'failure', metadata: { required_permission: permission } });

export const query = (at: number, actor: AuditActor, count: number): AuditRecord =>
  record(at, actor, 'query_events', { metadata: { count } });
