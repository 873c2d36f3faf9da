import type { SqliteDatabase } from '../db/index.js';

/**
 * A record's position (migration 008): `tenant_no * SPAN + seq`, so that a tenant's chain is one
 * range of the rowid B-tree. SQL does the arithmetic; positions pass 2^53.
 */
export const SPAN = 1_099_511_627_776; // 2^40
/** The largest seq a tenant's range holds. */
export const LAST_SEQ = SPAN - 1;

/** The record's columns, without its position (which JavaScript could not hold exactly). */
export const RECORD_COLUMNS =
  'tenant_id, seq, id, timestamp, action, actor_type, actor_id, actor_name, actor_role, actor_ip, outcome, ' +
  'resource, request_id, metadata, hash';

/**
 * As stored (migration 008): id and hash are BLOBs of 16 and 32 bytes. A row edited by hand may
 * hold text there instead; rows.ts reads both.
 */
export interface AuditRow {
  tenant_id: string;
  seq: number;
  id: Buffer | string;
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
  hash: Buffer | string;
}

/** A row with the hash of the record before it (null for a tenant's first record). */
export interface ChainedRow extends AuditRow {
  prev_hash: Buffer | string | null;
}

/** The previous record's hash, for a SELECT over audit_log: the row one position before. */
export const PREV_HASH_COLUMN = '(SELECT p.hash FROM audit_log p WHERE p.pos = audit_log.pos - 1) AS prev_hash';

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
    tenantNumber: db.prepare<[string], { tenant_no: number }>(
      'SELECT tenant_no FROM audit_tenants WHERE tenant_id = ?',
    ),
    /** The next number: rows are never deleted, so max + 1 is never a number used before. */
    numberTenant: db.prepare<[string]>('INSERT INTO audit_tenants (tenant_id) VALUES (?)'),
    tenants: db.prepare<[], { tenant_id: string; tenant_no: number }>(
      'SELECT tenant_id, tenant_no FROM audit_tenants ORDER BY tenant_no',
    ),
    /** Parameters: the tenant's number twice. */
    head: db.prepare<[number, number], { seq: number; hash: Buffer | string; timestamp: number }>(
      `SELECT seq, hash, timestamp FROM audit_log
        WHERE pos BETWEEN ? * ${SPAN} AND ? * ${SPAN} + ${LAST_SEQ} ORDER BY pos DESC LIMIT 1`,
    ),
    /**
     * Whether the record a head kept in memory names is still there: it may have been rolled back
     * with its transaction. A rowid lookup, a fifth of the head query's cost. Parameters: tenant
     * number, seq, hash.
     */
    holds: db
      .prepare<[number, number, Uint8Array], number>(`SELECT 1 FROM audit_log WHERE pos = ? * ${SPAN} + ? AND hash = ?`)
      .pluck(),
    /**
     * Parameters: the tenant's number and seq (the position), then the columns from tenant_id on.
     * (A plain VALUES insert: the same insert as INSERT … SELECT … WHERE EXISTS, with the check
     * folded in, took more than twice as long.)
     */
    insert: db.prepare<
      [
        number,
        number,
        string,
        number,
        Uint8Array,
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
        Uint8Array,
      ]
    >(
      `INSERT INTO audit_log (pos, ${RECORD_COLUMNS})
       VALUES (? * ${SPAN} + ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** The chain in order, a page at a time (keyset: never OFFSET from the start). Parameters: number, seq after, number, limit. */
    chainPage: db.prepare<[number, number, number, number], AuditRow>(
      `SELECT ${RECORD_COLUMNS} FROM audit_log WHERE pos > ? * ${SPAN} + ? AND pos <= ? * ${SPAN} + ${LAST_SEQ} ORDER BY pos LIMIT ?`,
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
