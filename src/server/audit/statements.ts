import type { SqliteDatabase } from '../db/index.js';

export interface AuditRow {
  tenant_id: string;
  seq: number;
  id: string;
  timestamp: number;
  action: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  actor_role: string | null;
  actor_ip: string | null;
  outcome: string;
  resource: string | null;
  request_id: string | null;
  metadata: string;
  prev_hash: string;
  hash: string;
}

export interface CheckpointRow {
  tenant_id: string;
  seq: number;
  head_hash: string;
  created_at: number;
  key_id: string;
  signature: string;
}

export interface SigningKeyRow {
  key_id: string;
  public_key: string;
  wrapped_private: Buffer;
  created_at: number;
}

/** The statements of the hot path and of the checkpointer, prepared once. */
export function prepareAuditStatements(db: SqliteDatabase) {
  return {
    head: db.prepare<[string], { seq: number; hash: string; timestamp: number }>(
      'SELECT seq, hash, timestamp FROM audit_log WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1',
    ),
    insert: db.prepare<
      [
        string,
        number,
        string,
        number,
        string,
        string,
        string | null,
        string | null,
        string | null,
        string | null,
        string,
        string | null,
        string | null,
        string,
        string,
        string,
      ]
    >(
      `INSERT INTO audit_log (tenant_id, seq, id, timestamp, action, actor_type, actor_id, actor_name, actor_role,
         actor_ip, outcome, resource, request_id, metadata, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** The chain in order, a page at a time (keyset: never OFFSET from the start). */
    chainPage: db.prepare<[string, number, number], AuditRow>(
      'SELECT * FROM audit_log WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    heads: db.prepare<[], { tenant_id: string; seq: number; hash: string }>(
      `SELECT a.tenant_id, a.seq, a.hash FROM audit_log a
         JOIN (SELECT tenant_id, max(seq) AS seq FROM audit_log GROUP BY tenant_id) m USING (tenant_id, seq)`,
    ),
    lastCheckpoints: db.prepare<[], { tenant_id: string; seq: number }>(
      'SELECT tenant_id, max(seq) AS seq FROM audit_checkpoints GROUP BY tenant_id',
    ),
    insertCheckpoint: db.prepare<[string, number, string, number, string, string]>(
      `INSERT OR IGNORE INTO audit_checkpoints (tenant_id, seq, head_hash, created_at, key_id, signature)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    checkpointsOf: db.prepare<[string], CheckpointRow>(
      'SELECT * FROM audit_checkpoints WHERE tenant_id = ? ORDER BY seq',
    ),
    checkpointPage: db.prepare<[string, number, number], CheckpointRow>(
      'SELECT * FROM audit_checkpoints WHERE tenant_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?',
    ),
    countCheckpoints: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM audit_checkpoints WHERE tenant_id = ?',
    ),
    signingKeys: db.prepare<[], SigningKeyRow>('SELECT * FROM audit_signing_keys ORDER BY created_at'),
    insertSigningKey: db.prepare<[string, string, Buffer, number]>(
      'INSERT INTO audit_signing_keys (key_id, public_key, wrapped_private, created_at) VALUES (?, ?, ?, ?)',
    ),
  };
}

export type AuditStatements = ReturnType<typeof prepareAuditStatements>;
