import type { Permission } from '../identity/index.js';

/**
 * Audit actions that need more than reading and writing events (DESIGN.md, "Roles and
 * permissions"). A first-ever sensitive action is stronger evidence of a taken-over account than
 * a first-ever ordinary one. Patterns, not a closed list: the audit module names its actions,
 * this only classifies them, and a wrong guess here costs at most a Monitor-level score.
 */
const SENSITIVE: ReadonlyArray<[RegExp, Permission]> = [
  [/^kms_decrypt/, 'decrypt'],
  [/^kms_/, 'manage_keys'],
  [/^(encryption_polic|forget_subject|rewrap)/, 'manage_keys'],
  [/(^|_)tenants?($|_)/, 'manage_tenants'],
  [/^(query|export|verify)_audit|^read_audit/, 'read_audit'],
  [
    /^(change_permissions|api_key_(created|revoked)|register|(create|delete|modify)_user|security_|ip_rule|rate_limit)/,
    'admin',
  ],
];

export function sensitivePermission(action: string): Permission | undefined {
  if (action === 'cross_tenant_attempt') return undefined;
  return SENSITIVE.find(([pattern]) => pattern.test(action))?.[1];
}

/**
 * Administrative operations that only a route guarded by one permission performs, so a
 * success by a role without it means the guard was bypassed. Deliberately narrow: KMS
 * encrypt/decrypt also run inside ingestion (field encryption) for writers, and "API key
 * used" is every key's every request; neither belongs here.
 */
const GUARDED: ReadonlyMap<string, Permission> = new Map<string, Permission>([
  ['change_permissions', 'admin'],
  ['api_key_created', 'admin'],
  ['api_key_revoked', 'admin'],
  ['create_user', 'admin'],
  ['delete_user', 'admin'],
  ['create_tenant', 'manage_tenants'],
  ['modify_tenant', 'manage_tenants'],
  ['delete_tenant', 'manage_tenants'],
  ['kms_create_key', 'manage_keys'],
  ['kms_rotate_key', 'manage_keys'],
  ['kms_delete_key', 'manage_keys'],
  ['kms_destroy_key', 'manage_keys'],
]);

export function guardedPermission(action: string): Permission | undefined {
  return GUARDED.get(action);
}

/** Permissions whose denial is worth more than an ordinary 403: the ones an attacker is after. */
export const SENSITIVE_PERMISSIONS: ReadonlySet<string> = new Set([
  'admin',
  'manage_keys',
  'manage_tenants',
  'decrypt',
  'read_audit',
]);
