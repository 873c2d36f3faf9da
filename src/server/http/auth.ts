import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { can, type IdentityService, type Permission, type Principal } from '../identity/index.js';
import { recordRefusal } from './audit.js';
import { sendError } from './errors.js';
import { locals } from './locals.js';
import type { AuthenticationHooks } from './protection/locals.js';

/** Who acts in dev mode when a request carries no credential. */
export const DEV_PRINCIPAL: Principal = Object.freeze({
  kind: 'dev',
  tenantId: 'dev-tenant',
  role: 'admin',
  subject: 'dev-user',
  name: 'dev-user',
});

/**
 * The credential of a request, from `Authorization: Bearer <t>`, a raw `Authorization: <t>`,
 * or `X-API-Key: <key>` (DESIGN.md, "Credentials"). Undefined when there is none.
 */
export function credentialOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization?.trim();
  if (authorization) {
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization);
    return (bearer ? bearer[1]! : authorization).trim();
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}

/** The principal of a request or upgrade: from its credential, else dev mode's, else none. */
export async function principalOf(
  headers: IncomingHttpHeaders,
  identity: IdentityService,
  devMode: boolean,
): Promise<Principal | undefined> {
  const credential = credentialOf(headers);
  if (credential !== undefined) return identity.authenticate(credential);
  return devMode ? DEV_PRINCIPAL : undefined;
}

/**
 * For long-lived streams: does the credential that opened it still authenticate (and keep its
 * tenant)? False once it is revoked, logged out, expired, or its tenant is suspended or deleted.
 */
export async function stillAuthorized(
  headers: IncomingHttpHeaders,
  identity: IdentityService,
  devMode: boolean,
): Promise<boolean> {
  try {
    return (await principalOf(headers, identity, devMode)) !== undefined;
  } catch {
    return false;
  }
}

function unauthorized(res: Parameters<RequestHandler>[1], message: string): void {
  res.setHeader('WWW-Authenticate', 'Bearer realm="allsource"');
  sendError(res, 401, 'unauthorized', message);
}

/**
 * Authentication: sets the principal and its tenant on the request, or answers 401. The
 * tenant comes from the credential alone; nothing in the request can choose another one.
 */
export function authenticate(identity: IdentityService, devMode: boolean): RequestHandler {
  return async function authenticateRequest(req, res, next) {
    const principal = await principalOf(req.headers, identity, devMode);
    if (!principal) {
      unauthorized(res, 'a credential is required: Authorization: Bearer <token or API key>, or X-API-Key');
      return;
    }
    locals(res).principal = principal;
    locals(res).tenantId = principal.tenantId;
    // The protection steps that need the tenant (its IP rules, its rate limit), if configured.
    const after = (req.app.locals as AuthenticationHooks).afterAuthentication;
    if (after) return after(req, res, next);
    next();
  };
}

/**
 * The 403 of authorization, recorded first as `permission_denied` (if that record cannot be
 * written, the request fails with 503 instead).
 */
export function denyPermission(
  req: Parameters<RequestHandler>[0],
  res: Parameters<RequestHandler>[1],
  next: Parameters<RequestHandler>[2],
  permission: Permission,
): void {
  const { principal } = locals(res);
  if (!recordRefusal(req, res, 'permission_denied', { required_permission: permission }, next)) return;
  sendError(res, 403, 'forbidden', `this needs the ${permission} permission, which role ${principal.role} lacks`, {
    required_permission: permission,
  });
}

/** Authorization: the one permission a route needs (DESIGN.md, "Roles and permissions"). */
export function requirePermission(permission: Permission): RequestHandler {
  return function authorize(req, res, next) {
    if (!can(locals(res).principal, permission)) {
      denyPermission(req, res, next, permission);
      return;
    }
    next();
  };
}

function tenantIdOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)['tenant_id']
    : undefined;
}

/**
 * Tenant isolation: a `tenant_id` in the query, the body or any event of a batch that is not
 * the credential's tenant is refused with 403, never used and never silently ignored.
 */
export const rejectForeignTenant: RequestHandler = function rejectForeignTenant(req, res, next) {
  const { tenantId } = locals(res);
  const events = (req.body as { events?: unknown } | null | undefined)?.events;
  const named = [
    req.query['tenant_id'],
    tenantIdOf(req.body),
    ...(Array.isArray(events) ? events.map(tenantIdOf) : []),
  ];
  const foreign = named.find((value) => value !== undefined && value !== tenantId);
  if (foreign !== undefined) {
    const namedTenant = typeof foreign === 'string' ? foreign.slice(0, 64) : typeof foreign;
    if (!recordRefusal(req, res, 'cross_tenant_attempt', { named_tenant: namedTenant }, next)) return;
    sendError(res, 403, 'forbidden', 'tenant_id does not match the tenant of your credential');
    return;
  }
  next();
};
