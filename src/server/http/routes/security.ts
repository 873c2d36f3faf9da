import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { can, ForbiddenError, type IdentityService } from '../../identity/index.js';
import {
  MAX_BURST_SIZE,
  MAX_REQUESTS_PER_MINUTE,
  RATE_TIERS,
  settingsPatchSchema,
  IpRuleConflictError,
  type ProtectionService,
} from '../../protection/index.js';
import { NotFoundError } from '../../errors/index.js';
import { authenticate, requirePermission } from '../auth.js';
import { audited, auditedWrite, noteAudit, recordNow } from '../audit.js';
import { parseBody } from '../body-schema.js';
import { locals } from '../locals.js';
import { protectionLocals } from '../protection/index.js';

const tenantIdParam = (value: unknown): string => {
  const tenantId = String(value);
  if (tenantId.length > 64) throw new NotFoundError('no tenant has an id that long');
  return tenantId;
};

const rateLimitSchema = z.union([
  z.object({ tier: z.enum(RATE_TIERS) }).strict(),
  z
    .object({
      requests_per_minute: z.number().int().min(1).max(MAX_REQUESTS_PER_MINUTE),
      burst_size: z.number().int().min(1).max(MAX_BURST_SIZE),
    })
    .strict(),
]);

const ipRuleSchema = z
  .object({
    scope: z.enum(['global', 'tenant']),
    tenant_id: z.string().min(1).max(64).optional(),
    list: z.enum(['allow', 'block']),
    cidr: z.string().min(1).max(64),
    note: z.string().max(200).optional(),
  })
  .strict();

export interface SecurityRoutesDependencies {
  protection: ProtectionService;
  identity: IdentityService;
  devMode: boolean;
  body: RequestHandler[];
  /** Start-time settings shown read-only beside the managed ones. */
  startup: {
    allowed_hosts: readonly string[];
    trusted_proxies: readonly string[];
    tls: boolean;
    rate_limit_tier: string | null;
  };
}

/**
 * /api/v1/security: rate limits, IP rules and settings (DESIGN.md, "Protection"). A tenant's
 * admin (permission admin) sees its own limits and manages its own tenant's IP rules; platform
 * admins (manage_tenants, the `default` tenant only) set limits, global rules and settings.
 */
export function securityRoutes(deps: SecurityRoutesDependencies): Router {
  const { protection, identity } = deps;
  const router = Router();
  router.use('/security', authenticate(identity, deps.devMode), ...deps.body, requirePermission('admin'));
  const platformAdmin = requirePermission('manage_tenants');
  const isPlatformAdmin = (res: Response) => can(locals(res).principal, 'manage_tenants');

  /** A tenant admin may look at its own tenant; another tenant's records are not found, not forbidden. */
  function visibleTenant(res: Response, tenantId: string): string {
    if (tenantId !== locals(res).tenantId && !isPlatformAdmin(res)) {
      throw new NotFoundError(`tenant ${JSON.stringify(tenantId)} does not exist`);
    }
    return tenantId;
  }

  function refuseSelfLockout(res: Response, change: Parameters<ProtectionService['wouldBlock']>[2]): void {
    const address = protectionLocals(res).clientAddress;
    if (address && protection.wouldBlock(address, locals(res).tenantId, change)) {
      throw new IpRuleConflictError('this change would block your own address; add an allow rule for it first', {
        your_address: protectionLocals(res).clientIp,
      });
    }
  }

  router.get('/security/rate-limits', audited('read_rate_limits'), (req, res) => {
    const tenants = isPlatformAdmin(res) ? identity.listTenants().map((t) => t.tenant_id) : [locals(res).tenantId];
    const rateLimits = tenants.map((tenantId) => protection.rateLimitOf(tenantId));
    recordNow(req, res, { metadata: { count: rateLimits.length } });
    res.json({ rate_limits: rateLimits, total: rateLimits.length, enabled: protection.rateLimited() });
  });
  router.get('/security/rate-limits/:tenant_id', audited('read_rate_limits'), (req, res) => {
    const tenantId = visibleTenant(res, tenantIdParam(req.params['tenant_id']));
    identity.getTenant(tenantId);
    recordNow(req, res, { resource: tenantId });
    res.json({ ...protection.rateLimitOf(tenantId), enabled: protection.rateLimited() });
  });
  router.put('/security/rate-limits/:tenant_id', audited('update_rate_limits'), platformAdmin, (req, res) => {
    const tenantId = tenantIdParam(req.params['tenant_id']);
    const input = parseBody(rateLimitSchema, req.body);
    noteAudit(res, { ...input });
    res.json(
      auditedWrite(req, res, () =>
        'tier' in input ? protection.setTier(tenantId, input.tier) : protection.setOverride(tenantId, input),
      ),
    );
  });

  router.get('/security/ip-rules', audited('list_ip_rules'), (req, res) => {
    const rules = protection.listIpRules(isPlatformAdmin(res) ? undefined : locals(res).tenantId);
    recordNow(req, res, { metadata: { count: rules.length } });
    res.json({ ip_rules: rules, total: rules.length, default_action: protection.settings().default_ip_action });
  });
  router.post('/security/ip-rules', audited('add_ip_rule'), (req, res) => {
    const input = parseBody(ipRuleSchema, req.body);
    const own = locals(res).tenantId;
    if (input.scope === 'global' && input.tenant_id !== undefined) {
      throw new ForbiddenError('a global rule names no tenant_id');
    }
    const tenantId = input.scope === 'tenant' ? (input.tenant_id ?? own) : null;
    if ((input.scope === 'global' || tenantId !== own) && !isPlatformAdmin(res)) {
      throw new ForbiddenError('global rules and other tenants\u2019 rules need the manage_tenants permission', {
        required_permission: 'manage_tenants',
      });
    }
    const rule = { scope: input.scope, tenantId, list: input.list, cidr: input.cidr, note: input.note };
    if (input.list === 'block') refuseSelfLockout(res, { rule });
    noteAudit(res, { scope: input.scope, tenant_id: tenantId, list: input.list, cidr: input.cidr });
    // After the insert, only the rule filter's cache is dropped: safe to record after it (for the new id).
    const added = auditedWrite(
      req,
      res,
      () => protection.addIpRule(rule),
      (created) => ({ resource: created.id }),
    );
    res.status(201).json(added);
  });
  router.delete('/security/ip-rules/:id', audited('remove_ip_rule'), (req, res) => {
    const id = String(req.params['id']).slice(0, 100);
    const rule = protection.getIpRule(id);
    if (!isPlatformAdmin(res) && (rule.scope === 'global' || rule.tenant_id !== locals(res).tenantId)) {
      throw new NotFoundError(`IP rule ${JSON.stringify(id)} does not exist`);
    }
    noteAudit(res, { scope: rule.scope, list: rule.list, cidr: rule.cidr });
    auditedWrite(req, res, () => protection.removeIpRule(id));
    res.json({ deleted: true });
  });

  const settingsView = () => ({
    ...protection.settings(),
    dev_mode: deps.devMode,
    ...deps.startup,
    system_load: protection.systemLoad(),
  });
  router.get('/security/settings', audited('read_security_settings'), platformAdmin, (req, res) => {
    const view = settingsView();
    recordNow(req, res);
    res.json(view);
  });
  // Settings hold no secrets: the patch itself is the record's metadata.
  router.put('/security/settings', audited('update_security_settings'), platformAdmin, (req, res) => {
    const patch = parseBody(settingsPatchSchema, req.body);
    if (patch.default_ip_action === 'block') refuseSelfLockout(res, { defaultAction: 'block' });
    noteAudit(res, { changes: patch });
    auditedWrite(req, res, () => protection.updateSettings(patch));
    res.json(settingsView());
  });
  return router;
}
