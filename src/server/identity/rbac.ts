import { PERMISSIONS, PLATFORM_TENANT, type Permission, type Principal, type Role } from './types.js';

/** DESIGN.md, "Roles and permissions". `manage_tenants` is further limited to the platform tenant in `can`. */
const PERMISSIONS_BY_ROLE: Record<Role, ReadonlySet<Permission>> = {
  // Admins hold every permission.
  admin: new Set(PERMISSIONS),
  developer: new Set(['read', 'write', 'metrics', 'manage_schemas', 'manage_pipelines']),
  readonly: new Set(['read', 'metrics']),
  serviceaccount: new Set(['read', 'write']),
};

/**
 * Whether the principal holds the permission. Tenant administration belongs to admins of the
 * platform tenant only; an admin of any other tenant administers its own tenant's data alone.
 *
 * @example can({ kind: 'user', tenantId: 'acme', role: 'developer', subject: 'u', name: 'ann' }, 'write') // true
 */
export function can(principal: Pick<Principal, 'role' | 'tenantId'>, permission: Permission): boolean {
  const permissions = PERMISSIONS_BY_ROLE[principal.role] as ReadonlySet<Permission> | undefined;
  if (!permissions?.has(permission)) return false;
  return permission !== 'manage_tenants' || principal.tenantId === PLATFORM_TENANT;
}

/**
 * Whether a holder of role `ceiling` may hand out role `granted` (to an API key): only when
 * every permission of `granted` is one the holder has. That gives admin > developer >
 * readonly and serviceaccount, and keeps readonly (no write) and serviceaccount (no metrics)
 * from granting each other.
 */
export function mayGrant(ceiling: Role, granted: Role): boolean {
  const held = PERMISSIONS_BY_ROLE[ceiling];
  return [...PERMISSIONS_BY_ROLE[granted]].every((permission) => held.has(permission));
}
