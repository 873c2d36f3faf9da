import type { Migration } from './migration.js';

/**
 * The audit trail (issue 6). Times are Unix milliseconds.
 *
 * - audit_log: (migration 008 moved it to a rowid table keyed by position; the columns are the same)
 *   one row a record, hash-chained per tenant (hash = SHA-256 over the previous hash
 *   and the record's canonical encoding, see src/server/audit/chain.ts). No foreign key to
 *   tenants: deleting a tenant must not delete what it did. No secondary index: each one is
 *   another B-tree insert (and its pages written) on every request, measured at about 8% of a
 *   single append's server CPU for an index by action. Filters by action, actor or time walk the
 *   tenant's rows newest first (the primary key), which a page of results usually ends early.
 * - audit_checkpoints: the tenant's head (seq, hash) signed with the Ed25519 key of
 *   audit_signing_keys, whose private half is stored only wrapped (AES-256-GCM under the
 *   master key's 'allsource/audit' derivation).
 * - The triggers make all three append-only: the database refuses UPDATE and DELETE, whatever
 *   the code does. Someone holding the key can drop them; verify then finds the change.
 */
export const auditMigration: Migration = {
  version: 6,
  name: 'audit',
  sql: `
    CREATE TABLE audit_log (
      tenant_id  TEXT NOT NULL,
      seq        INTEGER NOT NULL CHECK (seq >= 1),
      id         TEXT NOT NULL,
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
      prev_hash  TEXT NOT NULL,
      hash       TEXT NOT NULL,
      PRIMARY KEY (tenant_id, seq)
    ) WITHOUT ROWID;

    CREATE TABLE audit_checkpoints (
      tenant_id  TEXT NOT NULL,
      seq        INTEGER NOT NULL,
      head_hash  TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      key_id     TEXT NOT NULL,
      signature  TEXT NOT NULL,
      PRIMARY KEY (tenant_id, seq)
    ) WITHOUT ROWID;

    CREATE TABLE audit_signing_keys (
      key_id          TEXT PRIMARY KEY,
      public_key      TEXT NOT NULL,
      wrapped_private BLOB NOT NULL,
      created_at      INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
    CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    CREATE TRIGGER audit_signing_keys_no_update BEFORE UPDATE ON audit_signing_keys
      BEGIN SELECT RAISE(ABORT, 'audit signing keys are append-only'); END;
    CREATE TRIGGER audit_signing_keys_no_delete BEFORE DELETE ON audit_signing_keys
      BEGIN SELECT RAISE(ABORT, 'audit signing keys are append-only'); END;
  `,
};
