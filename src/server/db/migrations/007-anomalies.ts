import type { Migration } from './migration.js';

/**
 * Anomaly detection (issue 6, item 5). Times are Unix milliseconds.
 *
 * - anomalies: the findings at or above the alert threshold. actor and evidence are JSON
 *   (counts, windows, baselines; never a secret). No foreign key to tenants: a failed login's
 *   tenant may be one the audit log names without it existing, and a finding must still be kept.
 * - anomaly_actions: what enforcement did (a temporary IP block, a revoked key or sessions),
 *   so that it can be listed and reversed. An IP block is active while reversed_at is null
 *   and expires_at is in the future.
 * - anomaly_baselines: the learned per-actor state of the learning detectors, one JSON document
 *   per (tenant, detector, actor), written periodically so that a restart keeps what was learned.
 */
export const anomaliesMigration: Migration = {
  version: 7,
  name: 'anomalies',
  sql: `
    CREATE TABLE anomalies (
      id                 TEXT PRIMARY KEY,
      tenant_id          TEXT NOT NULL,
      detector           TEXT NOT NULL CHECK (detector IN
                           ('brute_force', 'unusual_access', 'privilege_escalation', 'data_exfiltration', 'velocity')),
      score              REAL NOT NULL CHECK (score >= 0 AND score <= 1),
      recommended_action TEXT NOT NULL CHECK (recommended_action IN
                           ('Monitor', 'Alert', 'RequireMFA', 'Block', 'RevokeAccess')),
      actor              TEXT NOT NULL,
      evidence           TEXT NOT NULL,
      record_id          TEXT,
      enforcement        TEXT,
      created_at         INTEGER NOT NULL,
      resolved_at        INTEGER,
      resolved_by        TEXT,
      resolution_note    TEXT
    ) WITHOUT ROWID;
    CREATE INDEX anomalies_by_tenant_time ON anomalies (tenant_id, created_at);

    CREATE TABLE anomaly_actions (
      id          TEXT PRIMARY KEY,
      tenant_id   TEXT NOT NULL,
      anomaly_id  TEXT NOT NULL REFERENCES anomalies (id) ON DELETE CASCADE,
      kind        TEXT NOT NULL CHECK (kind IN ('block_ip', 'revoke_api_key', 'revoke_sessions')),
      target      TEXT NOT NULL,
      created_at  INTEGER NOT NULL,
      expires_at  INTEGER,
      reversed_at INTEGER,
      reversed_by TEXT
    ) WITHOUT ROWID;
    CREATE INDEX anomaly_actions_by_tenant ON anomaly_actions (tenant_id, created_at);
    CREATE INDEX anomaly_actions_live_blocks ON anomaly_actions (expires_at) WHERE kind = 'block_ip' AND reversed_at IS NULL;

    CREATE TABLE anomaly_baselines (
      tenant_id  TEXT NOT NULL,
      detector   TEXT NOT NULL,
      actor      TEXT NOT NULL,
      state      TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (tenant_id, detector, actor)
    ) WITHOUT ROWID;
  `,
};
