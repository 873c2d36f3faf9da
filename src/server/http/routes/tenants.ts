import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { IdentityService } from '../../identity/index.js';
import { authenticate, requirePermission } from '../auth.js';
import { audited, auditedWrite, noteAudit, recordNow } from '../audit.js';
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

  // Records go to the acting admin's (platform) tenant; the resource is the tenant acted on.
  router.post('/tenants', audited('create_tenant'), (req, res) => {
    const input = parseBody(createSchema, req.body);
    const tenant = auditedWrite(
      req,
      res,
      () => identity.createTenant(input),
      (created) => ({
        resource: created.tenant_id,
        metadata: { name: created.name, rate_tier: created.rate_tier },
      }),
    );
    res.status(201).json(tenant);
  });
  router.get('/tenants', audited('list_tenants'), (req, res) => {
    const tenants = identity.listTenants();
    recordNow(req, res, { metadata: { count: tenants.length } });
    res.json({ tenants, total: tenants.length });
  });
  router.get('/tenants/:id', audited('read_tenant'), (req, res) => {
    const tenant = identity.getTenant(String(req.params['id']));
    recordNow(req, res);
    res.json(tenant);
  });
  router.put('/tenants/:id', audited('modify_tenant'), (req, res) => {
    const changes = parseBody(updateSchema, req.body);
    noteAudit(res, { changes });
    res.json(auditedWrite(req, res, () => identity.updateTenant(String(req.params['id']), changes)));
  });
  router.delete('/tenants/:id', audited('delete_tenant'), (req, res) => {
    auditedWrite(req, res, () => identity.deleteTenant(String(req.params['id'])));
    res.json({ deleted: true });
  });
  router.post('/tenants/:id/activate', audited('activate_tenant'), (req, res) => {
    res.json(auditedWrite(req, res, () => identity.setTenantStatus(String(req.params['id']), 'active')));
  });
  router.post('/tenants/:id/deactivate', audited('suspend_tenant'), (req, res) => {
    res.json(auditedWrite(req, res, () => identity.setTenantStatus(String(req.params['id']), 'suspended')));
  });
  return router;
}
