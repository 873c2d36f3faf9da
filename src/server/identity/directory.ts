import { createBoundedCache } from '../cache/index.js';
import type { IdentityStatements, TenantRow, UserRow } from './statements.js';

/** What authenticating a token needs to know about its user: no password hash is kept in memory. */
export type UserState = Pick<UserRow, 'id' | 'tenant_id' | 'username' | 'role' | 'password_changed_at'>;

/**
 * Cached reads of tenant and user state for the per-request path. This process is the only
 * writer of the database, and every change goes through the identity service, which calls
 * `forget*` right after writing: so a cached entry is never stale.
 */
export interface Directory {
  tenant(tenantId: string): TenantRow | undefined;
  user(userId: string): UserState | undefined;
  forgetTenant(tenantId: string): void;
  forgetUser(userId: string): void;
}

export function createDirectory(statements: IdentityStatements, maxUsers = 10_000): Directory {
  const tenants = createBoundedCache<string, TenantRow>(1_000);
  const users = createBoundedCache<string, UserState>(maxUsers);
  return {
    tenant(tenantId) {
      let row = tenants.get(tenantId);
      if (!row) {
        row = statements.tenantById.get(tenantId);
        if (row) tenants.set(tenantId, row);
      }
      return row;
    },
    user(userId) {
      let state = users.get(userId);
      if (!state) {
        const row = statements.userById.get(userId);
        if (!row) return undefined;
        state = {
          id: row.id,
          tenant_id: row.tenant_id,
          username: row.username,
          role: row.role,
          password_changed_at: row.password_changed_at,
        };
        users.set(userId, state);
      }
      return state;
    },
    forgetTenant: (tenantId) => tenants.delete(tenantId),
    forgetUser: (userId) => users.delete(userId),
  };
}
