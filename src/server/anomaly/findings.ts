import type { AuditActor } from './audit-types.js';
import { ANOMALY_COLUMNS, type AnomalyRow, type AnomalyStatements } from './statements.js';
import type { Anomaly, DetectorName, EnforcementOutcome, RecommendedAction } from './types.js';

/** Filters of GET /api/v1/security/anomalies; times are Unix milliseconds. */
export interface AnomalyFilter {
  detector?: DetectorName;
  minScore?: number;
  since?: number;
  until?: number;
  status?: 'open' | 'resolved';
}

export interface AnomalyPage {
  anomalies: Anomaly[];
  total: number;
  has_more: boolean;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toAnomaly(row: AnomalyRow): Anomaly {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    detector: row.detector as DetectorName,
    score: row.score,
    recommended_action: row.recommended_action as RecommendedAction,
    actor: JSON.parse(row.actor) as AuditActor,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    record_id: row.record_id,
    created_at: new Date(row.created_at).toISOString(),
    status: row.resolved_at === null ? 'open' : 'resolved',
    resolved_at: iso(row.resolved_at),
    resolved_by: row.resolved_by,
    enforcement: row.enforcement === null ? null : (JSON.parse(row.enforcement) as EnforcementOutcome),
  };
}

/** Lists a tenant's findings, newest first. Every query is scoped to the one tenant. */
export function listAnomalies(
  statements: AnomalyStatements,
  tenantId: string,
  filter: AnomalyFilter,
  page: { limit: number; offset: number },
): AnomalyPage {
  const where = ['tenant_id = ?'];
  const params: (string | number)[] = [tenantId];
  const add = (condition: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(condition);
    params.push(value);
  };
  add('detector = ?', filter.detector);
  add('score >= ?', filter.minScore);
  add('created_at >= ?', filter.since);
  add('created_at < ?', filter.until);
  if (filter.status === 'open') where.push('resolved_at IS NULL');
  if (filter.status === 'resolved') where.push('resolved_at IS NOT NULL');
  const clause = where.join(' AND ');
  const { db } = statements;
  const total = db
    .prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM anomalies WHERE ${clause}`)
    .get(...params)!.n;
  const rows = db
    .prepare<unknown[], AnomalyRow>(
      `SELECT ${ANOMALY_COLUMNS} FROM anomalies WHERE ${clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
    )
    .all(...params, page.limit, page.offset);
  return { anomalies: rows.map(toAnomaly), total, has_more: page.offset + rows.length < total };
}
