import { InvalidRequestError, NotFoundError } from '../errors/index.js';
import { isUniqueViolation, type IdentityContext } from './context.js';
import { ConflictError } from './errors.js';
import { toTenant } from './rows.js';
import type { TenantRow } from './statements.js';
import { PLATFORM_TENANT, type RateTier, type Tenant, type TenantStatus } from './types.js';
import { rateTierOf, tenantIdOf, tenantNameOf } from './validation.js';

/** Tenant records. Only platform admins reach these (the route checks manage_tenants). */

function existing(ctx: IdentityContext, tenantId: string): TenantRow {
  const row = ctx.statements.tenantById.get(tenantId);
  if (!row) throw new NotFoundError(`tenant ${JSON.stringify(tenantId)} does not exist`);
  return row;
}

export function createTenant(
  ctx: IdentityContext,
  input: { tenant_id: string; name: string; rate_tier?: RateTier },
): Tenant {
  const tenantId = tenantIdOf(input.tenant_id);
  const name = tenantNameOf(input.name);
  const rateTier = input.rate_tier === undefined ? 'professional' : rateTierOf(input.rate_tier);
  const createdAt = ctx.now();
  try {
    ctx.statements.insertTenant.run(tenantId, name, 'active', rateTier, createdAt);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError('conflict', `tenant ${JSON.stringify(tenantId)} already exists`, { tenant_id: tenantId });
    }
    throw error;
  }
  ctx.directory.forgetTenant(tenantId);
  return toTenant({ tenant_id: tenantId, name, status: 'active', rate_tier: rateTier, created_at: createdAt });
}

export const listTenants = (ctx: IdentityContext): Tenant[] => ctx.statements.listTenants.all().map(toTenant);

export const getTenant = (ctx: IdentityContext, tenantId: string): Tenant => toTenant(existing(ctx, tenantId));

export function updateTenant(
  ctx: IdentityContext,
  tenantId: string,
  changes: { name?: string; rate_tier?: RateTier },
): Tenant {
  const row = existing(ctx, tenantId);
  const name = changes.name === undefined ? row.name : tenantNameOf(changes.name);
  const rateTier = changes.rate_tier === undefined ? row.rate_tier : rateTierOf(changes.rate_tier);
  ctx.statements.updateTenant.run(name, rateTier, tenantId);
  ctx.directory.forgetTenant(tenantId);
  return toTenant({ ...row, name, rate_tier: rateTier });
}

/** Suspending a tenant refuses its credentials from the next request on; its cached keys are dropped. */
export function setTenantStatus(ctx: IdentityContext, tenantId: string, status: TenantStatus): Tenant {
  if (status !== 'active' && status !== 'suspended') {
    throw new InvalidRequestError('status: must be active or suspended', [
      { path: '/status', problem: 'must be active or suspended' },
    ]);
  }
  const row = existing(ctx, tenantId);
  if (tenantId === PLATFORM_TENANT && status === 'suspended') {
    throw new ConflictError('conflict', 'the platform tenant cannot be suspended', { tenant_id: tenantId });
  }
  ctx.statements.setTenantStatus.run(status, tenantId);
  ctx.directory.forgetTenant(tenantId);
  if (status === 'suspended') ctx.keyCache.dropTenant(tenantId);
  return toTenant({ ...row, status });
}

/**
 * Deletes an empty tenant. Refused for the platform tenant and for a tenant that still holds
 * events, users, KMS keys, or API keys that are neither revoked nor expired (dead keys go with it).
 */
export function deleteTenant(ctx: IdentityContext, tenantId: string): void {
  const { statements } = ctx;
  if (tenantId === PLATFORM_TENANT) {
    throw new ConflictError('conflict', 'the platform tenant cannot be deleted', { tenant_id: tenantId });
  }
  existing(ctx, tenantId);
  const holds = [
    statements.tenantHasEvents.get(tenantId, tenantId) && 'events',
    statements.tenantHasUsers.get(tenantId) && 'users',
    statements.tenantHasLiveKeys.get(tenantId, ctx.now()) && 'API keys',
    statements.tenantHasKmsKeys.get(tenantId) && 'KMS keys',
    // Policies say which fields of future events are secret: dropping them silently would be a surprise.
    statements.tenantHasPolicies.get(tenantId) && 'encryption policies',
  ].filter((what): what is string => typeof what === 'string');
  if (holds.length > 0) {
    throw new ConflictError('tenant_not_empty', `tenant ${JSON.stringify(tenantId)} still holds ${holds.join(', ')}`, {
      tenant_id: tenantId,
      holds: holds.map((what) => what.replace(' ', '_').toLowerCase()),
    });
  }
  ctx.db.transaction(() => {
    statements.deleteTenantTypes.run(tenantId);
    statements.deleteTenantKeys.run(tenantId);
    statements.deleteTenantForgotten.run(tenantId);
    statements.deleteTenantRewrapJob.run(tenantId);
    statements.deleteTenant.run(tenantId);
  })();
  ctx.directory.forgetTenant(tenantId);
  ctx.keyCache.dropTenant(tenantId);
}
