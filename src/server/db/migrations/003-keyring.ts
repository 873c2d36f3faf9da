import type { Migration } from './migration.js';

/**
 * The per-tenant keyring (DESIGN.md, "Key hierarchy"): named keys, each with numbered versions.
 * Times are Unix milliseconds.
 *
 * - keyring_keys holds metadata only. A destroyed key stays as a tombstone (destroyed_at set) so
 *   its name cannot be reused and its old ciphertexts answer `key_destroyed`, not `not_found`.
 * - keyring_versions.wrapped_key is nonce ‖ AES-256-GCM(KEK, version key) ‖ tag, with associated
 *   data binding tenant, name and version: never the key in clear. Destroy deletes these rows.
 * - encryptions counts the GCM encryptions made under that version, for rotation before 2^32.
 */
export const keyringMigration: Migration = {
  version: 3,
  name: 'keyring',
  sql: `
    CREATE TABLE keyring_keys (
      tenant_id              TEXT NOT NULL REFERENCES tenants (tenant_id),
      name                   TEXT NOT NULL,
      latest_version         INTEGER NOT NULL CHECK (latest_version >= 1),
      min_decryption_version INTEGER NOT NULL DEFAULT 1 CHECK (min_decryption_version >= 1),
      min_encryption_version INTEGER NOT NULL DEFAULT 1 CHECK (min_encryption_version >= 1),
      created_at             INTEGER NOT NULL,
      rotated_at             INTEGER NOT NULL,
      disabled_at            INTEGER,
      destroyed_at           INTEGER,
      PRIMARY KEY (tenant_id, name),
      CHECK (min_decryption_version <= latest_version AND min_encryption_version <= latest_version)
    ) WITHOUT ROWID;

    CREATE TABLE keyring_versions (
      tenant_id   TEXT NOT NULL,
      name        TEXT NOT NULL,
      version     INTEGER NOT NULL CHECK (version >= 1),
      wrapped_key BLOB NOT NULL,
      encryptions INTEGER NOT NULL DEFAULT 0,
      created_at  INTEGER NOT NULL,
      PRIMARY KEY (tenant_id, name, version),
      FOREIGN KEY (tenant_id, name) REFERENCES keyring_keys (tenant_id, name)
    ) WITHOUT ROWID;
  `,
};
