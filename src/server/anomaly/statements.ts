import type { SqliteDatabase } from '../db/index.js';

export interface AnomalyRow {
  id: string;
  tenant_id: string;
  detector: string;
  score: number;
  recommended_action: string;
  actor: string;
  evidence: string;
  record_id: string | null;
  enforcement: string | null;
  created_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

export interface ActionRow {
  id: string;
  tenant_id: string;
  anomaly_id: string;
  kind: 'block_ip' | 'revoke_api_key' | 'revoke_sessions';
  target: string;
  created_at: number;
  expires_at: number | null;
  reversed_at: number | null;
  reversed_by: string | null;
}

const ANOMALY =
  'id, tenant_id, detector, score, recommended_action, actor, evidence, record_id, enforcement, created_at, resolved_at, resolved_by, resolution_note';
const ACTION = 'id, tenant_id, anomaly_id, kind, target, created_at, expires_at, reversed_at, reversed_by';

/** Every statement of the anomaly module, prepared once per database (the list query is built per filter). */
export function prepareAnomalyStatements(db: SqliteDatabase) {
  return {
    db,
    insertAnomaly: db.prepare<[string, string, string, number, string, string, string, string | null, number]>(
      `INSERT INTO anomalies (id, tenant_id, detector, score, recommended_action, actor, evidence, record_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setEnforcement: db.prepare<[string, string]>('UPDATE anomalies SET enforcement = ? WHERE id = ?'),
    anomalyById: db.prepare<[string, string], AnomalyRow>(
      `SELECT ${ANOMALY} FROM anomalies WHERE id = ? AND tenant_id = ?`,
    ),
    resolve: db.prepare<[number, string, string | null, string, string]>(
      `UPDATE anomalies SET resolved_at = ?, resolved_by = ?, resolution_note = ?
       WHERE id = ? AND tenant_id = ? AND resolved_at IS NULL`,
    ),

    insertAction: db.prepare<[string, string, string, string, string, number, number | null]>(
      `INSERT INTO anomaly_actions (id, tenant_id, anomaly_id, kind, target, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    actionById: db.prepare<[string, string], ActionRow>(
      `SELECT ${ACTION} FROM anomaly_actions WHERE id = ? AND tenant_id = ?`,
    ),
    actionsOfTenant: db.prepare<[string, number, number], ActionRow>(
      `SELECT ${ACTION} FROM anomaly_actions WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
    ),
    countActions: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM anomaly_actions WHERE tenant_id = ?'),
    liveBlocks: db.prepare<[number], ActionRow>(
      `SELECT ${ACTION} FROM anomaly_actions WHERE kind = 'block_ip' AND reversed_at IS NULL AND expires_at > ?`,
    ),
    reverseAction: db.prepare<[number, string, string, string]>(
      'UPDATE anomaly_actions SET reversed_at = ?, reversed_by = ? WHERE id = ? AND tenant_id = ? AND reversed_at IS NULL',
    ),

    baseline: db.prepare<[string, string, string], { state: string }>(
      'SELECT state FROM anomaly_baselines WHERE tenant_id = ? AND detector = ? AND actor = ?',
    ),
    putBaseline: db.prepare<[string, string, string, string, number]>(
      `INSERT INTO anomaly_baselines (tenant_id, detector, actor, state, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, detector, actor) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    ),
  };
}

export type AnomalyStatements = ReturnType<typeof prepareAnomalyStatements>;
export const ANOMALY_COLUMNS = ANOMALY;
