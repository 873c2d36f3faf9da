import type { Migration } from './migration.js';

const ROLE_CHECK = `CHECK (role IN ('admin', 'developer', 'readonly', 'serviceaccount'))`;

/**
 * Tenants' rate tier, users, API keys and revoked tokens. Times are Unix milliseconds.
 *
 * - Usernames are unique across all tenants, ignoring case, because login takes only a
 *   username and a password (and `Admin` beside `admin` would only mislead).
 * - An API key's id is the first half of the raw key; only an argon2id hash of its secret is kept.
 * - revoked_tokens holds logged-out token ids until the token would have expired anyway.
 */
export const identityMigration: Migration = {
  version: 2,
  name: 'identity',
  sql: `
    ALTER TABLE tenants ADD COLUMN rate_tier TEXT NOT NULL DEFAULT 'professional'
      CHECK (rate_tier IN ('free', 'professional', 'unlimited', 'dev_mode'));

    CREATE TABLE users (
      id                  TEXT PRIMARY KEY,
      tenant_id           TEXT NOT NULL REFERENCES tenants (tenant_id),
      username            TEXT NOT NULL COLLATE NOCASE UNIQUE,
      email               TEXT NOT NULL,
      role                TEXT NOT NULL ${ROLE_CHECK},
      password_hash       TEXT NOT NULL,
      password_changed_at INTEGER NOT NULL,
      created_at          INTEGER NOT NULL
    );
    CREATE INDEX users_by_tenant ON users (tenant_id, role);

    CREATE TABLE api_keys (
      id           TEXT PRIMARY KEY,
      tenant_id    TEXT NOT NULL REFERENCES tenants (tenant_id),
      name         TEXT NOT NULL,
      role         TEXT NOT NULL ${ROLE_CHECK},
      secret_hash  TEXT NOT NULL,
      created_at   INTEGER NOT NULL,
      expires_at   INTEGER,
      revoked_at   INTEGER,
      last_used_at INTEGER,
      created_by   TEXT
    );
    CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

    CREATE TABLE revoked_tokens (
      jti        TEXT PRIMARY KEY,
      expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
  `,
};
