import { describe, expect, it } from 'vitest';
import { can, mayGrant } from './rbac.js';
import { PERMISSIONS, PLATFORM_TENANT, ROLES, type Permission, type Role } from './types.js';

// DESIGN.md, "Roles and permissions", copied by hand so that a change to either shows here.
const TABLE: Record<Role, Permission[]> = {
  admin: [
    'read',
    'write',
    'metrics',
    'manage_schemas',
    'manage_pipelines',
    'decrypt',
    'manage_keys',
    'read_audit',
    'admin',
    'manage_tenants',
  ],
  developer: ['read', 'write', 'metrics', 'manage_schemas', 'manage_pipelines'],
  readonly: ['read', 'metrics'],
  serviceaccount: ['read', 'write'],
};

describe('can', () => {
  it.each(ROLES)('gives %s exactly its row of the table in the platform tenant', (role) => {
    const granted = PERMISSIONS.filter((permission) => can({ role, tenantId: PLATFORM_TENANT }, permission));
    expect(granted).toEqual(TABLE[role]);
  });

  it('keeps manage_tenants to admins of the platform tenant', () => {
    expect(can({ role: 'admin', tenantId: PLATFORM_TENANT }, 'manage_tenants')).toBe(true);
    expect(can({ role: 'admin', tenantId: 'acme' }, 'manage_tenants')).toBe(false);
    expect(can({ role: 'admin', tenantId: 'acme' }, 'admin')).toBe(true);
    expect(can({ role: 'developer', tenantId: PLATFORM_TENANT }, 'manage_tenants')).toBe(false);
  });

  it('refuses an unknown role or permission', () => {
    expect(can({ role: 'root' as Role, tenantId: PLATFORM_TENANT }, 'read')).toBe(false);
    expect(can({ role: 'admin', tenantId: PLATFORM_TENANT }, 'sudo' as Permission)).toBe(false);
  });
});

describe('mayGrant', () => {
  it('lets a role grant only roles whose permissions it holds', () => {
    const grantable = (ceiling: Role) => ROLES.filter((role) => mayGrant(ceiling, role));
    expect(grantable('admin')).toEqual(['admin', 'developer', 'readonly', 'serviceaccount']);
    expect(grantable('developer')).toEqual(['developer', 'readonly', 'serviceaccount']);
    expect(grantable('readonly')).toEqual(['readonly']);
    expect(grantable('serviceaccount')).toEqual(['serviceaccount']);
  });
});
