import { InvalidRequestError, NotFoundError } from '../errors/index.js';
import { activeTenant, isUniqueViolation, type IdentityContext } from './context.js';
import { ConflictError, ForbiddenError, UnauthorizedError } from './errors.js';
import { newUuidV4 } from './ids.js';
import { checkNewPassword } from './password-policy.js';
import { can } from './rbac.js';
import { toUser } from './rows.js';
import type { RegisterInput, WriteHook } from './service.js';
import type { UserRow } from './statements.js';
import { PLATFORM_TENANT, type Principal, type Role, type User } from './types.js';
import { emailOf, roleOf, tenantIdOf, usernameOf } from './validation.js';

export const hasUsers = (ctx: IdentityContext): boolean => ctx.statements.anyUser.get() !== undefined;
export const hasApiKeys = (ctx: IdentityContext): boolean => ctx.statements.anyApiKey.get() !== undefined;

/** First-run setup lasts while there is no account and no API key (revoked ones count). */
export const inFirstRun = (ctx: IdentityContext): boolean => !hasUsers(ctx) && !hasApiKeys(ctx);

/** Where a new account goes and with which role, from who asks (see IdentityService.register). */
function placement(ctx: IdentityContext, actor: Principal | undefined, input: RegisterInput): [string, Role] {
  if (!actor) {
    if (!inFirstRun(ctx)) throw new UnauthorizedError('registering a user needs the credential of an admin');
    // First-run setup: the only account that can be made without a credential is the platform's admin.
    if (input.tenant_id !== undefined && input.tenant_id !== PLATFORM_TENANT) {
      throw new InvalidRequestError('tenant_id: the first account belongs to the platform tenant', [
        { path: '/tenant_id', problem: `must be ${PLATFORM_TENANT} (or left out) for the first account` },
      ]);
    }
    if (input.role !== undefined && input.role !== 'admin') {
      throw new InvalidRequestError('role: the first account is an admin', [
        { path: '/role', problem: 'must be admin (or left out) for the first account' },
      ]);
    }
    return [PLATFORM_TENANT, 'admin'];
  }
  if (!can(actor, 'admin')) throw new ForbiddenError('registering users needs the admin permission');
  const tenantId = input.tenant_id === undefined ? actor.tenantId : tenantIdOf(input.tenant_id);
  if (tenantId !== actor.tenantId && !can(actor, 'manage_tenants')) {
    throw new ForbiddenError('only an admin of the platform tenant may create users in another tenant');
  }
  return [tenantId, input.role === undefined ? 'developer' : roleOf(input.role)];
}

/**
 * Creates an account. `actor` undefined is first-run setup, allowed only while no user and no API key exists.
 * Throws InvalidRequestError (fields, password policy), ForbiddenError, UnauthorizedError,
 * NotFoundError or TenantSuspendedError (the tenant), ConflictError `conflict` (username taken).
 */
export async function register(
  ctx: IdentityContext,
  actor: Principal | undefined,
  input: RegisterInput,
  within?: WriteHook<User>,
): Promise<User> {
  const { statements } = ctx;
  const [tenantId, role] = placement(ctx, actor, input);
  const username = usernameOf(input.username);
  const email = emailOf(input.email);
  activeTenant(ctx, tenantId);
  const password = checkNewPassword(input.password, username, ctx.commonPasswords);
  const taken = () => new ConflictError('conflict', `username ${JSON.stringify(username)} is taken`);
  if (statements.userByName.get(username)) throw taken();

  const passwordHash = await ctx.hasher.hash(password);
  const row: UserRow = {
    id: newUuidV4(ctx.randomBytes),
    tenant_id: tenantId,
    username,
    email,
    role,
    password_hash: passwordHash,
    password_changed_at: ctx.now(),
    created_at: ctx.now(),
  };
  // Hashing yielded the event loop: check again what may have changed meanwhile, then write.
  ctx.db.transaction(() => {
    if (!actor && !inFirstRun(ctx)) throw new UnauthorizedError('registering a user needs the credential of an admin');
    activeTenant(ctx, tenantId);
    try {
      statements.insertUser.run(
        row.id,
        row.tenant_id,
        row.username,
        row.email,
        row.role,
        row.password_hash,
        row.password_changed_at,
        row.created_at,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
    within?.(toUser(row));
  })();
  return toUser(row);
}

export const listUsers = (ctx: IdentityContext, tenantId: string): User[] =>
  ctx.statements.usersOfTenant.all(tenantId).map(toUser);

/** The user, if it belongs to the tenant. A user of another tenant is "not found", never "forbidden". */
export function userInTenant(ctx: IdentityContext, tenantId: string, userId: string): UserRow {
  const row = typeof userId === 'string' ? ctx.statements.userById.get(userId) : undefined;
  if (!row || row.tenant_id !== tenantId) throw new NotFoundError('user not found');
  return row;
}

/** The platform tenant always keeps an admin account: otherwise nobody could administer tenants. */
function keepLastPlatformAdmin(ctx: IdentityContext, row: UserRow): void {
  if (row.tenant_id === PLATFORM_TENANT && row.role === 'admin') {
    const { n } = ctx.statements.adminCount.get(PLATFORM_TENANT)!;
    if (n <= 1) throw new ConflictError('conflict', 'this is the last admin of the platform tenant');
  }
}

export function setRole(ctx: IdentityContext, tenantId: string, userId: string, role: Role): User {
  const newRole = roleOf(role);
  const row = userInTenant(ctx, tenantId, userId);
  if (newRole !== 'admin') keepLastPlatformAdmin(ctx, row);
  ctx.statements.setUserRole.run(newRole, row.id);
  ctx.directory.forgetUser(row.id);
  return toUser({ ...row, role: newRole });
}

/** Deletes the account; its tokens stop working on their next use. Its API keys stay (they belong to the tenant). */
export function deleteUser(ctx: IdentityContext, tenantId: string, userId: string): void {
  const row = userInTenant(ctx, tenantId, userId);
  keepLastPlatformAdmin(ctx, row);
  ctx.statements.deleteUser.run(row.id);
  ctx.directory.forgetUser(row.id);
}
