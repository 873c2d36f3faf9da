/**
 * The identity layer's public contract (DESIGN.md, "Identity" and "Roles and permissions").
 * Domain only: no Express. The HTTP layer turns a request's credential into a Principal with
 * `authenticate`, checks one Permission per route with `can`, and scopes every call to the
 * principal's tenant.
 */

export const ROLES = ['admin', 'developer', 'readonly', 'serviceaccount'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
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
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The platform tenant: exists from the first start; its admins administer tenant records. */
export const PLATFORM_TENANT = 'default';

export type TenantStatus = 'active' | 'suspended';
export type RateTier = 'free' | 'professional' | 'unlimited' | 'dev_mode';

export interface Tenant {
  tenant_id: string;
  name: string;
  status: TenantStatus;
  rate_tier: RateTier;
  created_at: string;
}

export interface User {
  id: string;
  username: string;
  email: string;
  role: Role;
  tenant_id: string;
  created_at: string;
}

/** An API key as listed: never its secret. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  tenant_id: string;
  created_at: string;
  expires_at: string | null;
  revoked: boolean;
  last_used: string | null;
}

/** Who is acting. Everything a request may do is decided from this alone. */
export interface Principal {
  kind: 'user' | 'api_key' | 'dev';
  tenantId: string;
  role: Role;
  /** The user id (users and dev mode) or the API key id. */
  subject: string;
  /** For display and audit: the username or the key's name. */
  name: string;
  /** The JWT id and expiry when authenticated by token (what logout revokes). */
  token?: { jti: string; expiresAt: number };
}
