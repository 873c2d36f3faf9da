import { NotFoundError } from '../errors/index.js';
import { formatApiKey, newApiKeyParts, parseApiKey, type ParsedApiKey } from './api-key-format.js';
import type { VerifiedKey } from './api-key-cache.js';
import { uuidTextOf } from './ids.js';
import { activeTenant, type IdentityContext } from './context.js';
import { ForbiddenError, TenantSuspendedError, UnauthorizedError } from './errors.js';
import { mayGrant } from './rbac.js';
import { toApiKeyInfo } from './rows.js';
import type { CreatedApiKey, WriteHook } from './service.js';
import type { ApiKeyInfo, Principal, Role } from './types.js';
import { apiKeyNameOf, expiresInDaysOf, roleOf } from './validation.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** last_used_at is written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60 * 1000;
const INVALID_KEY = 'the API key is not valid';

/** Who made a key, for the record: the kind of principal and its id. */
const creatorOf = (principal: Principal): string => `${principal.kind}:${principal.subject}`;

/**
 * Makes a key for the principal's tenant. Its role defaults to the principal's, and may not
 * carry a permission the principal lacks (ForbiddenError). The raw key is in the answer only.
 */
export async function createApiKey(
  ctx: IdentityContext,
  principal: Principal,
  input: { name: string; role?: Role; expires_in_days?: number },
  within?: WriteHook<CreatedApiKey>,
): Promise<CreatedApiKey> {
  const name = apiKeyNameOf(input.name);
  const role = input.role === undefined ? principal.role : roleOf(input.role);
  if (!mayGrant(principal.role, role)) {
    throw new ForbiddenError(`a ${principal.role} cannot create a key with role ${role}`, { role });
  }
  const days = input.expires_in_days == null ? undefined : expiresInDaysOf(input.expires_in_days);
  activeTenant(ctx, principal.tenantId);
  const { keyId, secret } = newApiKeyParts(ctx.randomBytes);
  const secretHash = await ctx.hasher.hash(secret);
  const key = formatApiKey(keyId, secret);
  const id = uuidTextOf(keyId);
  const createdAt = ctx.now();
  const expiresAt = days === undefined ? null : createdAt + days * DAY_MS;
  activeTenant(ctx, principal.tenantId);
  const created: CreatedApiKey = {
    id,
    name,
    role,
    tenant_id: principal.tenantId,
    key,
    expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
  };
  ctx.db.transaction(() => {
    ctx.statements.insertKey.run(
      id,
      principal.tenantId,
      name,
      role,
      secretHash,
      createdAt,
      expiresAt,
      creatorOf(principal),
    );
    within?.(created);
  })();
  return created;
}

export const listApiKeys = (ctx: IdentityContext, tenantId: string): ApiKeyInfo[] =>
  ctx.statements.keysOfTenant.all(tenantId).map(toApiKeyInfo);

/** Revokes a key of the tenant (a key of another tenant is "not found"); it stops working at once. */
export function revokeApiKey(ctx: IdentityContext, tenantId: string, keyId: string): void {
  const row = typeof keyId === 'string' ? ctx.statements.keyById.get(keyId) : undefined;
  if (!row || row.tenant_id !== tenantId) throw new NotFoundError('API key not found');
  ctx.statements.revokeKey.run(ctx.now(), row.id);
  ctx.keyCache.dropKey(row.id);
}

/**
 * The principal of a raw API key. A key verified within the cache's lifetime costs one HMAC;
 * otherwise one lookup by key id and one argon2 verification, against a dummy hash when the id
 * is unknown, so an unknown id and a wrong secret cost the same. Concurrent first uses of one
 * key share a single verification.
 */
export function createApiKeyAuthenticator(ctx: IdentityContext): (rawKey: string) => Promise<Principal> {
  const inFlight = new Map<string, Promise<VerifiedKey>>();
  const lastWritten = new Map<string, number>();

  async function verify(parsed: ParsedApiKey, slot: string): Promise<VerifiedKey> {
    const row = ctx.statements.keyById.get(parsed.id);
    const matches = await ctx.hasher.verify(row?.secret_hash ?? ctx.hasher.dummyHash, parsed.secret);
    if (!row || !matches) throw new UnauthorizedError(INVALID_KEY);
    // Read again: the key may have been revoked while argon2 ran.
    const current = ctx.statements.keyById.get(parsed.id);
    if (!current || current.revoked_at !== null) throw new UnauthorizedError('the API key has been revoked');
    const key: VerifiedKey = {
      keyId: current.id,
      tenantId: current.tenant_id,
      role: current.role,
      name: current.name,
      expiresAt: current.expires_at,
      lastUsedAt: current.last_used_at,
    };
    ctx.keyCache.remember(slot, key);
    return key;
  }

  function verifyOnce(parsed: ParsedApiKey, slot: string): Promise<VerifiedKey> {
    let pending = inFlight.get(slot);
    if (!pending) {
      pending = verify(parsed, slot).finally(() => inFlight.delete(slot));
      inFlight.set(slot, pending);
    }
    return pending;
  }

  /** Writes last_used_at when the stored value is a minute old or more. */
  function touch(key: VerifiedKey, now: number): void {
    const last = lastWritten.get(key.keyId) ?? key.lastUsedAt;
    if (last !== null && now - last < LAST_USED_RESOLUTION_MS) return;
    ctx.statements.touchKey.run(now, key.keyId);
    // Insertion order makes the first entry the oldest write: drop it past 10,000 keys.
    lastWritten.delete(key.keyId);
    lastWritten.set(key.keyId, now);
    if (lastWritten.size > 10_000) lastWritten.delete(lastWritten.keys().next().value as string);
  }

  return async function authenticateApiKey(rawKey) {
    const parsed = parseApiKey(rawKey);
    if (!parsed) throw new UnauthorizedError(INVALID_KEY);
    const slot = ctx.keyCache.slotOf(rawKey);
    const key = ctx.keyCache.get(slot) ?? (await verifyOnce(parsed, slot));
    const now = ctx.now();
    if (key.expiresAt !== null && key.expiresAt <= now) {
      ctx.keyCache.dropKey(key.keyId);
      throw new UnauthorizedError('the API key has expired');
    }
    const tenant = ctx.directory.tenant(key.tenantId);
    if (!tenant) throw new UnauthorizedError(INVALID_KEY);
    if (tenant.status !== 'active') throw new TenantSuspendedError(key.tenantId);
    touch(key, now);
    return { kind: 'api_key', tenantId: key.tenantId, role: key.role, subject: key.keyId, name: key.name };
  };
}
