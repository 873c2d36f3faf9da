import { InvalidRequestError, NotFoundError } from '../errors/index.js';
import type { IdentityContext } from './context.js';
import { ForbiddenError, TenantSuspendedError, UnauthorizedError } from './errors.js';
import { checkNewPassword, MAX_PASSWORD_LENGTH } from './password-policy.js';
import { toApiKeyInfo, toUser } from './rows.js';
import type { WriteHook } from './service.js';
import type { ApiKeyInfo, Principal, User } from './types.js';

/** Logins, tokens and passwords. */

const BAD_LOGIN = 'invalid username or password';
/** Longer than any username or password we accept (in UTF-16 units): not worth a lookup. */
const MAX_USERNAME_UNITS = 64;
const MAX_PASSWORD_UNITS = MAX_PASSWORD_LENGTH * 2;
/** Expired revocations are deleted at most this often. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Checks a username and password and issues a token. Unknown user, malformed input and wrong
 * password all cost one argon2 verification and end in the same UnauthorizedError.
 */
export async function login(
  ctx: IdentityContext,
  username: string,
  password: string,
): Promise<{ token: string; user: User }> {
  const { statements } = ctx;
  const usable =
    typeof username === 'string' &&
    username.length <= MAX_USERNAME_UNITS &&
    typeof password === 'string' &&
    password.length <= MAX_PASSWORD_UNITS;
  const row = usable ? statements.userByName.get(username) : undefined;
  const matches = await ctx.hasher.verify(row?.password_hash ?? ctx.hasher.dummyHash, usable ? password : '');
  if (!row || !matches) throw new UnauthorizedError(BAD_LOGIN);
  // The verification yielded: if the password changed (or the user went) meanwhile, this login is void.
  const current = statements.userById.get(row.id);
  if (!current || current.password_hash !== row.password_hash) throw new UnauthorizedError(BAD_LOGIN);
  const tenant = ctx.directory.tenant(current.tenant_id);
  if (!tenant) throw new UnauthorizedError(BAD_LOGIN);
  if (tenant.status !== 'active') throw new TenantSuspendedError(current.tenant_id);

  const issuedMs = ctx.tokenClock.issueAt(current.password_changed_at);
  const { token } = await ctx.tokens.issue(
    { userId: current.id, tenantId: current.tenant_id, role: current.role },
    issuedMs,
  );
  return { token, user: toUser(current) };
}

/**
 * The principal of a JWT. Besides the signature and claims, it checks on every use that the
 * token was not logged out, that its user still exists in the same tenant, that it was issued
 * after the user's last password change, and that the tenant is active. The role is the
 * user's current one, not the claim: a demotion takes effect on the next request.
 */
export async function authenticateToken(ctx: IdentityContext, token: string): Promise<Principal> {
  const claims = await ctx.tokens.verify(token);
  if (ctx.statements.tokenRevoked.get(claims.jti)) throw new UnauthorizedError('the token has been revoked');
  const user = ctx.directory.user(claims.userId);
  if (!user || user.tenant_id !== claims.tenantId) throw new UnauthorizedError('the token is not valid');
  if (claims.issuedMs < user.password_changed_at) {
    throw new UnauthorizedError('the password was changed after this token was issued: log in again');
  }
  const tenant = ctx.directory.tenant(user.tenant_id);
  if (!tenant) throw new UnauthorizedError('the token is not valid');
  if (tenant.status !== 'active') throw new TenantSuspendedError(user.tenant_id);
  return {
    kind: 'user',
    tenantId: user.tenant_id,
    role: user.role,
    subject: user.id,
    name: user.username,
    token: { jti: claims.jti, expiresAt: claims.expiresAt },
  };
}

/**
 * Revokes the principal's token until it would have expired. A principal without a token
 * (an API key, dev mode) has nothing to log out: that is not an error.
 */
export function createLogout(ctx: IdentityContext): (principal: Principal) => void {
  let lastPrune = -Infinity;
  return function logout(principal) {
    if (!principal.token) return;
    const now = ctx.now();
    if (principal.token.expiresAt <= now) return;
    ctx.statements.revokeToken.run(principal.token.jti, principal.token.expiresAt);
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      ctx.statements.pruneRevokedTokens.run(now);
    }
  };
}

/**
 * Sets a new password after checking the current one, and so ends every token issued to the
 * user before now (the one presented included). API keys and dev mode have no password.
 */
export async function changePassword(
  ctx: IdentityContext,
  principal: Principal,
  currentPassword: string,
  newPassword: string,
  within?: WriteHook<void>,
): Promise<void> {
  if (principal.kind !== 'user') throw new ForbiddenError('only a user signed in with a password can change it');
  const row = ctx.statements.userById.get(principal.subject);
  if (!row || row.tenant_id !== principal.tenantId) throw new UnauthorizedError('the token is not valid');
  const password = checkNewPassword(newPassword, row.username, ctx.commonPasswords, 'new_password');
  const current = typeof currentPassword === 'string' && currentPassword.length <= MAX_PASSWORD_UNITS;
  if (!(await ctx.hasher.verify(row.password_hash, current ? currentPassword : ''))) {
    throw new ForbiddenError('the current password is wrong');
  }
  if (password === currentPassword) {
    const problem = 'must differ from the current password';
    throw new InvalidRequestError(`new_password: ${problem}`, [{ path: '/new_password', problem }]);
  }
  const passwordHash = await ctx.hasher.hash(password);
  const latest = ctx.statements.userById.get(row.id);
  if (!latest || latest.password_hash !== row.password_hash) {
    throw new ForbiddenError('the password was changed meanwhile; sign in again');
  }
  ctx.db.transaction(() => {
    ctx.statements.setPassword.run(passwordHash, ctx.tokenClock.changeAt(latest.password_changed_at), row.id);
    within?.();
  })();
  ctx.directory.forgetUser(row.id);
}

/** Who the principal is: its user account, its API key, or dev mode's stand-in user. */
export function me(ctx: IdentityContext, principal: Principal): User | ApiKeyInfo {
  if (principal.kind === 'dev') {
    return {
      id: principal.subject,
      username: principal.name,
      email: '',
      role: principal.role,
      tenant_id: principal.tenantId,
      created_at: new Date(ctx.now()).toISOString(),
    };
  }
  if (principal.kind === 'api_key') {
    const key = ctx.statements.keyById.get(principal.subject);
    if (!key || key.tenant_id !== principal.tenantId) throw new NotFoundError('API key not found');
    return toApiKeyInfo(key);
  }
  const row = ctx.statements.userById.get(principal.subject);
  if (!row || row.tenant_id !== principal.tenantId) throw new NotFoundError('user not found');
  return toUser(row);
}
