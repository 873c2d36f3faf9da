import type { SqliteDatabase } from '../db/index.js';
import type { RateTier, Role, TenantStatus } from './types.js';

export interface TenantRow {
  tenant_id: string;
  name: string;
  status: TenantStatus;
  rate_tier: RateTier;
  created_at: number;
}

export interface UserRow {
  id: string;
  tenant_id: string;
  username: string;
  email: string;
  role: Role;
  password_hash: string;
  password_changed_at: number;
  created_at: number;
}

export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  created_by: string | null;
}

const TENANT = 'tenant_id, name, status, rate_tier, created_at';
const USER = 'id, tenant_id, username, email, role, password_hash, password_changed_at, created_at';
const KEY = 'id, tenant_id, name, role, secret_hash, created_at, expires_at, revoked_at, last_used_at, created_by';

/** Every statement of the identity module, prepared once per database. */
export function prepareIdentityStatements(db: SqliteDatabase) {
  const exists = (sql: string) => db.prepare<[string], { found: 1 }>(sql);
  return {
    tenantById: db.prepare<[string], TenantRow>(`SELECT ${TENANT} FROM tenants WHERE tenant_id = ?`),
    listTenants: db.prepare<[], TenantRow>(`SELECT ${TENANT} FROM tenants ORDER BY tenant_id`),
    insertTenant: db.prepare<[string, string, string, RateTier, number]>(
      'INSERT INTO tenants (tenant_id, name, status, rate_tier, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    updateTenant: db.prepare<[string, RateTier, string]>(
      'UPDATE tenants SET name = ?, rate_tier = ? WHERE tenant_id = ?',
    ),
    setTenantStatus: db.prepare<[TenantStatus, string]>('UPDATE tenants SET status = ? WHERE tenant_id = ?'),
    deleteTenant: db.prepare<[string]>('DELETE FROM tenants WHERE tenant_id = ?'),
    tenantHasEvents: db.prepare<[string, string], { found: 1 }>(
      `SELECT 1 AS found WHERE EXISTS (SELECT 1 FROM events WHERE tenant_id = ?)
         OR EXISTS (SELECT 1 FROM streams WHERE tenant_id = ?)`,
    ),
    tenantHasUsers: exists('SELECT 1 AS found FROM users WHERE tenant_id = ? LIMIT 1'),
    // Keyring keys (even destroyed ones) keep their tenant: deleting it would orphan ciphertexts silently.
    tenantHasKmsKeys: exists('SELECT 1 AS found FROM keyring_keys WHERE tenant_id = ? LIMIT 1'),
    tenantHasLiveKeys: db.prepare<[string, number], { found: 1 }>(
      `SELECT 1 AS found FROM api_keys
       WHERE tenant_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) LIMIT 1`,
    ),
    deleteTenantTypes: db.prepare<[string]>('DELETE FROM event_types WHERE tenant_id = ?'),
    deleteTenantKeys: db.prepare<[string]>('DELETE FROM api_keys WHERE tenant_id = ?'),
    tenantHasPolicies: exists('SELECT 1 AS found FROM encryption_policies WHERE tenant_id = ? LIMIT 1'),
    // State a tenant may hold without any data: it goes with it.
    deleteTenantForgotten: db.prepare<[string]>('DELETE FROM forgotten_subjects WHERE tenant_id = ?'),
    deleteTenantRewrapJob: db.prepare<[string]>('DELETE FROM rewrap_jobs WHERE tenant_id = ?'),

    anyUser: db.prepare<[], { found: 1 }>('SELECT 1 AS found FROM users LIMIT 1'),
    anyApiKey: db.prepare<[], { found: 1 }>('SELECT 1 AS found FROM api_keys LIMIT 1'),
    userById: db.prepare<[string], UserRow>(`SELECT ${USER} FROM users WHERE id = ?`),
    userByName: db.prepare<[string], UserRow>(`SELECT ${USER} FROM users WHERE username = ?`),
    usersOfTenant: db.prepare<[string], UserRow>(
      `SELECT ${USER} FROM users WHERE tenant_id = ? ORDER BY created_at, id`,
    ),
    adminCount: db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM users WHERE tenant_id = ? AND role = 'admin'`,
    ),
    insertUser: db.prepare<[string, string, string, string, Role, string, number, number]>(
      `INSERT INTO users (${USER}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setUserRole: db.prepare<[Role, string]>('UPDATE users SET role = ? WHERE id = ?'),
    setPassword: db.prepare<[string, number, string]>(
      'UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?',
    ),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE id = ?'),

    keyById: db.prepare<[string], ApiKeyRow>(`SELECT ${KEY} FROM api_keys WHERE id = ?`),
    keysOfTenant: db.prepare<[string], ApiKeyRow>(
      `SELECT ${KEY} FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id`,
    ),
    insertKey: db.prepare<[string, string, string, Role, string, number, number | null, string | null]>(
      `INSERT INTO api_keys (id, tenant_id, name, role, secret_hash, created_at, expires_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    revokeKey: db.prepare<[number, string]>('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    touchKey: db.prepare<[number, string]>('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),

    revokeToken: db.prepare<[string, number]>('INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)'),
    tokenRevoked: exists('SELECT 1 AS found FROM revoked_tokens WHERE jti = ?'),
    pruneRevokedTokens: db.prepare<[number]>('DELETE FROM revoked_tokens WHERE expires_at <= ?'),
  };
}

export type IdentityStatements = ReturnType<typeof prepareIdentityStatements>;
