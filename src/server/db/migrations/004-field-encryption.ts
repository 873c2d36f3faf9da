import type { Migration } from './migration.js';

/**
 * Field-level encryption and crypto-shredding (DESIGN.md, "Key hierarchy": subject keys).
 * Times are Unix milliseconds.
 *
 * - events.sealed holds the sealer's record of the payload values of that event that are ciphertext:
 *   their JSON pointers and one AES-GCM ciphertext (fields/sealed-record.ts; JSON text at first, a
 *   BLOB since, and TEXT affinity stores BLOBs as they are). It is NULL for every event written without a policy, so reads of ordinary events
 *   cost nothing, and a client cannot make a plaintext string look like a ciphertext.
 * - encryption_policies: per tenant and event type, the pointers to encrypt at ingest.
 * - subject_keys: one data key per tenant and entity ("subject") and generation, stored only wrapped
 *   by the tenant's keyring key `allsource.fields` (`as:v<N>:…`, N in key_version). Forgetting a
 *   subject deletes its rows (with secure_delete); forgotten_subjects remembers the last generation
 *   so its old ciphertexts read as shredded and a later event starts a new generation.
 * - rewrap_jobs: one per tenant, so that a rewrap resumes after a restart.
 */
export const fieldEncryptionMigration: Migration = {
  version: 4,
  name: 'field encryption',
  sql: `
    ALTER TABLE events ADD COLUMN sealed TEXT;

    CREATE TABLE encryption_policies (
      tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
      event_type  TEXT NOT NULL,
      fields      TEXT NOT NULL,
      updated_at  INTEGER NOT NULL,
      PRIMARY KEY (tenant_id, event_type)
    ) WITHOUT ROWID;

    CREATE TABLE subject_keys (
      tenant_id    TEXT NOT NULL REFERENCES tenants (tenant_id),
      entity_id    TEXT NOT NULL,
      generation   INTEGER NOT NULL CHECK (generation >= 1),
      wrapped_key  TEXT NOT NULL,
      key_version  INTEGER NOT NULL,
      created_at   INTEGER NOT NULL,
      PRIMARY KEY (tenant_id, entity_id, generation)
    ) WITHOUT ROWID;
    CREATE INDEX subject_keys_by_version ON subject_keys (tenant_id, key_version);

    CREATE TABLE forgotten_subjects (
      tenant_id        TEXT NOT NULL REFERENCES tenants (tenant_id),
      entity_id        TEXT NOT NULL,
      last_generation  INTEGER NOT NULL,
      forgotten_at     INTEGER NOT NULL,
      PRIMARY KEY (tenant_id, entity_id)
    ) WITHOUT ROWID;

    CREATE TABLE rewrap_jobs (
      tenant_id       TEXT PRIMARY KEY REFERENCES tenants (tenant_id),
      target_version  INTEGER NOT NULL,
      total           INTEGER NOT NULL,
      done            INTEGER NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
      error           TEXT,
      started_at      INTEGER NOT NULL,
      finished_at     INTEGER
    ) WITHOUT ROWID;
  `,
};
