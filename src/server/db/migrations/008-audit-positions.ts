import type { Migration } from './migration.js';

/**
 * The audit trail as a rowid table of compact rows (issue 6's bench figure: what auditing costs
 * an append). Every audited request writes one row, and every page it touches is encrypted,
 * MACed, written and synced at its commit, so the row's layout and size are its cost.
 *
 * Migration 006 keyed audit_log by (tenant_id, seq) WITHOUT ROWID. Such a table is an index
 * B-tree, and SQLite fills an index B-tree that only ever grows at its right edge by splitting
 * the last leaf and sharing cells with its neighbours: every group commit rewrote several
 * half-empty pages (10.4 WAL pages per 28 records, measured), each encrypted and MACed by
 * SQLCipher. A rowid table appended at its end takes SQLite's quick path instead (a fresh last
 * page, nothing moved): 5.7 pages for the same records, and about 0.7 KB less WAL per audited
 * request in the HTTP bench.
 *
 * So a record's key is now one integer, its position: `tenant_no * 2^40 + seq`.
 * - audit_tenants numbers each tenant that has a trail (1, 2, …, at most 2^23 - 1, so that the
 *   position fits SQLite's signed 64 bits); a tenant's chain is then one contiguous range of the
 *   rowid B-tree, [tenant_no * 2^40 + 1, tenant_no * 2^40 + 2^40 - 1], read and walked like the
 *   old primary key. The numbers are never reused (append-only), so a deleted tenant's trail
 *   stays its own.
 * - seq stays a column (the API's and verify's sequence number); the CHECK ties it to the
 *   position, so a row cannot claim one place and sit at another.
 * - Arithmetic on positions happens in SQL (`? * 1099511627776 + ?`), never in JavaScript,
 *   whose numbers are exact only to 2^53.
 *
 * And each row is about 115 bytes smaller (about 30%):
 * - id is the UUID's 16 bytes and hash the SHA-256's 32 bytes, as BLOBs instead of hex text.
 * - prev_hash is gone: it was by definition the previous record's hash, the row at pos - 1,
 *   which verify walks anyway and export joins (seq 1 follows the genesis hash).
 * The chain itself is unchanged: hashes are still computed over the hex text of the previous
 * hash and the canonical record (ids as UUID text), so every chain written before verifies as
 * before. Ids or hashes that are not well-formed (only a hand-edited row has them) are copied as
 * they are, as text, and verify reports them as it did.
 */
export const auditPositionsMigration: Migration = {
  version: 8,
  name: 'audit-positions',
  sql: `
    CREATE TABLE audit_tenants (
      tenant_no INTEGER PRIMARY KEY CHECK (tenant_no BETWEEN 1 AND 8388607),
      tenant_id TEXT NOT NULL UNIQUE
    );

    CREATE TABLE audit_log_by_position (
      pos        INTEGER PRIMARY KEY,
      tenant_id  TEXT NOT NULL,
      seq        INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 1099511627775),
      id         BLOB NOT NULL,
      timestamp  INTEGER NOT NULL,
      action     TEXT NOT NULL,
      actor_type TEXT NOT NULL,
      actor_id   TEXT,
      actor_name TEXT,
      actor_role TEXT,
      actor_ip   TEXT,
      outcome    TEXT NOT NULL,
      resource   TEXT,
      request_id TEXT,
      metadata   TEXT NOT NULL,
      hash       BLOB NOT NULL,
      CHECK ((pos & 1099511627775) = seq)
    );

    INSERT INTO audit_tenants (tenant_id) SELECT DISTINCT tenant_id FROM audit_log ORDER BY tenant_id;
    INSERT INTO audit_log_by_position
      SELECT t.tenant_no * 1099511627776 + a.seq, a.tenant_id, a.seq,
             CASE WHEN length(a.id) = 36 AND a.id = lower(a.id)
                       AND substr(a.id, 9, 1) = '-' AND substr(a.id, 14, 1) = '-'
                       AND substr(a.id, 19, 1) = '-' AND substr(a.id, 24, 1) = '-'
                       AND unhex(replace(a.id, '-', '')) IS NOT NULL
                  THEN unhex(replace(a.id, '-', '')) ELSE a.id END,
             a.timestamp, a.action, a.actor_type, a.actor_id, a.actor_name, a.actor_role, a.actor_ip, a.outcome,
             a.resource, a.request_id, a.metadata,
             CASE WHEN length(a.hash) = 64 AND a.hash = lower(a.hash) AND unhex(a.hash) IS NOT NULL
                  THEN unhex(a.hash) ELSE a.hash END
        FROM audit_log a JOIN audit_tenants t USING (tenant_id)
       ORDER BY 1;

    DROP TABLE audit_log;
    ALTER TABLE audit_log_by_position RENAME TO audit_log;

    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
    CREATE TRIGGER audit_tenants_no_update BEFORE UPDATE ON audit_tenants
      BEGIN SELECT RAISE(ABORT, 'audit tenant numbers are append-only'); END;
    CREATE TRIGGER audit_tenants_no_delete BEFORE DELETE ON audit_tenants
      BEGIN SELECT RAISE(ABORT, 'audit tenant numbers are append-only'); END;
  `,
};
