import type { SqliteDatabase } from '../../db/index.js';

export interface KeyRow {
  tenant_id: string;
  name: string;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  created_at: number;
  rotated_at: number;
  disabled_at: number | null;
  destroyed_at: number | null;
}

export interface VersionRow {
  wrapped_key: Buffer;
  encryptions: number;
}

const KEY =
  'tenant_id, name, latest_version, min_decryption_version, min_encryption_version, created_at, rotated_at, disabled_at, destroyed_at';

/** Every statement of the keyring, prepared once per database. */
export function prepareKeyringStatements(db: SqliteDatabase) {
  return {
    tenantExists: db.prepare<[string], { found: 1 }>('SELECT 1 AS found FROM tenants WHERE tenant_id = ?'),
    keyByName: db.prepare<[string, string], KeyRow>(`SELECT ${KEY} FROM keyring_keys WHERE tenant_id = ? AND name = ?`),
    keysOfTenant: db.prepare<[string], KeyRow>(`SELECT ${KEY} FROM keyring_keys WHERE tenant_id = ? ORDER BY name`),
    insertKey: db.prepare<[string, string, number, number]>(
      `INSERT INTO keyring_keys (tenant_id, name, latest_version, created_at, rotated_at) VALUES (?, ?, 1, ?, ?)`,
    ),
    setLatestVersion: db.prepare<[number, number, string, string]>(
      'UPDATE keyring_keys SET latest_version = ?, rotated_at = ? WHERE tenant_id = ? AND name = ?',
    ),
    setMinVersions: db.prepare<[number, number, string, string]>(
      `UPDATE keyring_keys SET min_decryption_version = ?, min_encryption_version = ?
       WHERE tenant_id = ? AND name = ?`,
    ),
    setDisabled: db.prepare<[number | null, string, string]>(
      'UPDATE keyring_keys SET disabled_at = ? WHERE tenant_id = ? AND name = ?',
    ),
    setDestroyed: db.prepare<[number, string, string]>(
      'UPDATE keyring_keys SET destroyed_at = ? WHERE tenant_id = ? AND name = ?',
    ),
    insertVersion: db.prepare<[string, string, number, Buffer, number]>(
      `INSERT INTO keyring_versions (tenant_id, name, version, wrapped_key, encryptions, created_at)
       VALUES (?, ?, ?, ?, 0, ?)`,
    ),
    versionKey: db.prepare<[string, string, number], VersionRow>(
      'SELECT wrapped_key, encryptions FROM keyring_versions WHERE tenant_id = ? AND name = ? AND version = ?',
    ),
    /**
     * Reserves one GCM encryption under a version: the count goes up in the same statement that
     * checks it is below the limit, so no version is ever used more than `limit` times.
     */
    countEncryption: db.prepare<[string, string, number, number], { encryptions: number; wrapped_key: Buffer }>(
      `UPDATE keyring_versions SET encryptions = encryptions + 1
       WHERE tenant_id = ? AND name = ? AND version = ? AND encryptions < ?
       RETURNING encryptions, wrapped_key`,
    ),
    /** Destroy: overwrite the wrapped material in place, then delete the rows. */
    blankVersions: db.prepare<[string, string]>(
      `UPDATE keyring_versions SET wrapped_key = zeroblob(length(wrapped_key)) WHERE tenant_id = ? AND name = ?`,
    ),
    deleteVersions: db.prepare<[string, string]>('DELETE FROM keyring_versions WHERE tenant_id = ? AND name = ?'),
  };
}

export type KeyringStatements = ReturnType<typeof prepareKeyringStatements>;
