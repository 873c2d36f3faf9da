import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { IdentityService } from '../../identity/index.js';
import { authenticate, requirePermission } from '../auth.js';
import { parseBody } from '../body-schema.js';

const RATE_TIERS = ['free', 'professional', 'unlimited', 'dev_mode'] as const;
const createSchema = z.object({
  tenant_id: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  rate_tier: z.enum(RATE_TIERS).optional(),
});
const updateSchema = z
  .object({ name: z.string().min(1).max(200).optional(), rate_tier: z.enum(RATE_TIERS).optional() })
  .strict();

/**
 * /api/v1/tenants: tenant records, for admins of the platform tenant only (manage_tenants).
 * They manage the records; they never read another tenant's data through them.
 */
export function tenantRoutes({
  identity,
  devMode,
  body,
}: {
  identity: IdentityService;
  devMode: boolean;
  body: RequestHandler[];
}): Router {
  const router = Router();
  router.use('/tenants', authenticate(identity, devMode), requirePermission('manage_tenants'), ...body);

  router.post('/tenants', (req, res) => {
    res.status(201).json(identity.createTenant(parseBody(createSchema, req.body)));
  });
  router.get('/tenants', (_req, res) => {
    const tenants = identity.listTenants();
    res.json({ tenants, total: tenants.length });
  });
  router.get('/tenants/:id', (req, res) => {
    res.json(identity.getTenant(String(req.params['id'])));
  });
  router.put('/tenants/:id', (req, res) => {
    res.json(identity.updateTenant(String(req.params['id']), parseBody(updateSchema, req.body)));
  });
  router.delete('/tenants/:id', (req, res) => {
    identity.deleteTenant(String(req.params['id']));
    res.json({ deleted: true });
  });
  router.post('/tenants/:id/activate', (req, res) => {
    res.json(identity.setTenantStatus(String(req.params['id']), 'active'));
  });
  router.post('/tenants/:id/deactivate', (req, res) => {
    res.json(identity.setTenantStatus(String(req.params['id']), 'suspended'));
  });
  return router;
}
