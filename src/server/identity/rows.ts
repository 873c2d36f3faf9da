import type { ApiKeyRow, TenantRow, UserRow } from './statements.js';
import type { ApiKeyInfo, Tenant, User } from './types.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function toTenant(row: TenantRow): Tenant {
  return {
    tenant_id: row.tenant_id,
    name: row.name,
    status: row.status,
    rate_tier: row.rate_tier,
    created_at: iso(row.created_at),
  };
}

/** A user as shown: never the password hash. */
export function toUser(row: Pick<UserRow, 'id' | 'username' | 'email' | 'role' | 'tenant_id' | 'created_at'>): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    role: row.role,
    tenant_id: row.tenant_id,
    created_at: iso(row.created_at),
  };
}

/** A key as listed: never its secret or hash. */
export function toApiKeyInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    tenant_id: row.tenant_id,
    created_at: iso(row.created_at),
    expires_at: isoOrNull(row.expires_at),
    revoked: row.revoked_at !== null,
    last_used: isoOrNull(row.last_used_at),
  };
}
