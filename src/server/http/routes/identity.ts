import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { ROLES, type CreatedApiKey, type IdentityService, type User } from '../../identity/index.js';
import { InvalidRequestError } from '../../errors/index.js';
import { authenticate, credentialOf, rejectForeignTenant, requirePermission } from '../auth.js';
import { audited, auditedAsync, auditedWrite, noteAudit, recordNow } from '../audit.js';
import { parseBody } from '../body-schema.js';
import { locals } from '../locals.js';

export interface IdentityRoutesDependencies {
  identity: IdentityService;
  devMode: boolean;
  /** The JSON body parser, run after authentication so that strangers cannot make us parse. */
  body: RequestHandler[];
}

const text = (max: number) => z.string().min(1).max(max);
const loginSchema = z.object({ username: text(256), password: text(1024) });
const registerSchema = z.object({
  username: text(256),
  email: text(320),
  password: text(1024),
  role: z.enum(ROLES).optional(),
  tenant_id: text(64).optional(),
});
const passwordSchema = z.object({ current_password: text(1024), new_password: text(1024) });
const apiKeySchema = z.object({
  name: text(100),
  role: z.enum(ROLES).optional(),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});
const roleSchema = z.object({ role: z.enum(ROLES) });

/** /api/v1/auth/*: login is public; everything else names the permission it needs. */
export function identityRoutes({ identity, devMode, body }: IdentityRoutesDependencies): Router {
  const router = Router();
  // A tenant_id naming another tenant is refused here as on every data route (register names one itself).
  const signedIn = [authenticate(identity, devMode), ...body, rejectForeignTenant];
  const admin = [...signedIn, requirePermission('admin')];

  // A failed login is recorded (by auditFailures) in the platform tenant, anonymously, with the
  // username tried; a successful one in the user's tenant, as the user. Never the password.
  router.post('/auth/login', audited('login', { anonymous: true }), ...body, async (req, res) => {
    const { username, password } = parseBody(loginSchema, req.body);
    noteAudit(res, { username });
    const result = await identity.login(username, password);
    const { user } = result;
    recordNow(
      req,
      res,
      { resource: user.id },
      {
        kind: 'user',
        tenantId: user.tenant_id,
        role: user.role,
        subject: user.id,
        name: user.username,
      },
    );
    res.json(result);
  });

  router.post('/auth/logout', audited('logout'), ...signedIn, (req, res) => {
    const { principal } = locals(res);
    if (!principal.token) {
      throw new InvalidRequestError('logout ends a token; an API key is revoked with DELETE /api/v1/auth/api-keys/:id');
    }
    auditedWrite(req, res, () => identity.logout(principal));
    res.json({ logged_out: true });
  });

  router.get('/auth/me', audited('read_profile'), ...signedIn, (req, res) => {
    const me = identity.me(locals(res).principal);
    recordNow(req, res);
    res.json(me);
  });

  // Admin-only, except first-run setup: with no users and no keys at all, the first account may register itself.
  const authenticateUnlessSetup = authenticate(identity, devMode);
  const registerAccess: RequestHandler = (req, res, next) => {
    if (!identity.hasUsers() && !identity.hasApiKeys() && credentialOf(req.headers) === undefined) return next();
    // Returned, not voided: a bad credential rejects, and Express must turn that into the 401.
    return authenticateUnlessSetup(req, res, (error?: unknown) =>
      error ? next(error) : requirePermission('admin')(req, res, next),
    );
  };
  // First-run setup registers without a credential: that one is recorded anonymously in the platform tenant.
  router.post(
    '/auth/register',
    audited('create_user', { anonymous: true }),
    registerAccess,
    ...body,
    async (req, res) => {
      const input = parseBody(registerSchema, req.body);
      noteAudit(res, { username: input.username, ...(input.role === undefined ? {} : { role: input.role }) });
      const actor = res.locals['principal'] as Parameters<IdentityService['register']>[0];
      const user = await auditedAsync<User>(
        req,
        res,
        (within) => identity.register(actor, input, within),
        (created) => ({ resource: created.id, metadata: { role: created.role, tenant_id: created.tenant_id } }),
      );
      res.status(201).json(user);
    },
  );

  router.put('/auth/password', audited('password_change'), ...signedIn, async (req, res) => {
    const { principal } = locals(res);
    if (principal.kind !== 'user') throw new InvalidRequestError('only a signed-in user has a password to change');
    const { current_password, new_password } = parseBody(passwordSchema, req.body);
    await auditedAsync(
      req,
      res,
      (within) => identity.changePassword(principal, current_password, new_password, within),
      () => ({
        resource: principal.subject,
      }),
    );
    res.json({ changed: true });
  });

  // The record names the key by id, name and role: never the key itself.
  router.post('/auth/api-keys', audited('api_key_created'), ...admin, async (req, res) => {
    const input = parseBody(apiKeySchema, req.body);
    const created = await auditedAsync<CreatedApiKey>(
      req,
      res,
      (within) => identity.createApiKey(locals(res).principal, input, within),
      (key) => ({ resource: key.id, metadata: { name: key.name, role: key.role, expires_at: key.expires_at } }),
    );
    res.status(201).json(created);
  });
  router.get('/auth/api-keys', audited('list_api_keys'), ...admin, (req, res) => {
    const keys = identity.listApiKeys(locals(res).tenantId);
    recordNow(req, res, { metadata: { count: keys.length } });
    res.json({ api_keys: keys });
  });
  router.delete('/auth/api-keys/:id', audited('api_key_revoked'), ...admin, (req, res) => {
    auditedWrite(req, res, () => identity.revokeApiKey(locals(res).tenantId, String(req.params['id'])));
    res.json({ revoked: true });
  });

  router.get('/auth/users', audited('list_users'), ...admin, (req, res) => {
    const users = identity.listUsers(locals(res).tenantId);
    recordNow(req, res, { metadata: { count: users.length } });
    res.json({ users });
  });
  router.put('/auth/users/:id/role', audited('change_permissions'), ...admin, (req, res) => {
    const { role } = parseBody(roleSchema, req.body);
    noteAudit(res, { role });
    res.json(auditedWrite(req, res, () => identity.setRole(locals(res).tenantId, String(req.params['id']), role)));
  });
  router.delete('/auth/users/:id', audited('delete_user'), ...admin, (req, res) => {
    auditedWrite(req, res, () => identity.deleteUser(locals(res).tenantId, String(req.params['id'])));
    res.json({ deleted: true });
  });

  return router;
}
