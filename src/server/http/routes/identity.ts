import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { ROLES, type IdentityService } from '../../identity/index.js';
import { InvalidRequestError } from '../../errors/index.js';
import { authenticate, credentialOf, rejectForeignTenant, requirePermission } from '../auth.js';
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

  router.post('/auth/login', ...body, async (req, res) => {
    const { username, password } = parseBody(loginSchema, req.body);
    res.json(await identity.login(username, password));
  });

  router.post('/auth/logout', ...signedIn, (_req, res) => {
    const { principal } = locals(res);
    if (!principal.token) {
      throw new InvalidRequestError('logout ends a token; an API key is revoked with DELETE /api/v1/auth/api-keys/:id');
    }
    identity.logout(principal);
    res.json({ logged_out: true });
  });

  router.get('/auth/me', ...signedIn, (_req, res) => {
    res.json(identity.me(locals(res).principal));
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
  router.post('/auth/register', registerAccess, ...body, async (req, res) => {
    const input = parseBody(registerSchema, req.body);
    const actor = res.locals['principal'] as Parameters<IdentityService['register']>[0];
    res.status(201).json(await identity.register(actor, input));
  });

  router.put('/auth/password', ...signedIn, async (req, res) => {
    const { principal } = locals(res);
    if (principal.kind !== 'user') throw new InvalidRequestError('only a signed-in user has a password to change');
    const { current_password, new_password } = parseBody(passwordSchema, req.body);
    await identity.changePassword(principal, current_password, new_password);
    res.json({ changed: true });
  });

  router.post('/auth/api-keys', ...admin, async (req, res) => {
    const input = parseBody(apiKeySchema, req.body);
    res.status(201).json(await identity.createApiKey(locals(res).principal, input));
  });
  router.get('/auth/api-keys', ...admin, (_req, res) => {
    res.json({ api_keys: identity.listApiKeys(locals(res).tenantId) });
  });
  router.delete('/auth/api-keys/:id', ...admin, (req, res) => {
    identity.revokeApiKey(locals(res).tenantId, String(req.params['id']));
    res.json({ revoked: true });
  });

  router.get('/auth/users', ...admin, (_req, res) => {
    res.json({ users: identity.listUsers(locals(res).tenantId) });
  });
  router.put('/auth/users/:id/role', ...admin, (req, res) => {
    const { role } = parseBody(roleSchema, req.body);
    res.json(identity.setRole(locals(res).tenantId, String(req.params['id']), role));
  });
  router.delete('/auth/users/:id', ...admin, (req, res) => {
    identity.deleteUser(locals(res).tenantId, String(req.params['id']));
    res.json({ deleted: true });
  });

  return router;
}
