import { Router } from 'express';
import { z } from 'zod';
import type { FieldCrypto } from '../../fields/index.js';
import { requirePermission } from '../auth.js';
import { audited, auditedWrite, recordNow } from '../audit.js';
import { parseBody } from '../body-schema.js';
import { locals } from '../locals.js';

// The pointers themselves are checked by the policy store (checkPolicyFields), which names each bad one.
const policySchema = z.object({ fields: z.array(z.unknown()).max(1000) }).strict();
const emptySchema = z.object({}).strict();

const eventTypeOf = (params: Record<string, unknown>): string => String(params['event_type']);

/**
 * Field-level encryption and crypto-shredding (DESIGN.md, "Field encryption and crypto-shredding").
 * Reading policies needs read (they say which fields are sealed, not what they hold); changing
 * them, rewrapping and forgetting need manage_keys.
 */
export function encryptionRoutes({ fields }: { fields: FieldCrypto }): Router {
  const router = Router();
  const manage = requirePermission('manage_keys');
  const read = requirePermission('read');

  router.get('/encryption/policies', audited('list_encryption_policies'), read, (req, res) => {
    const policies = fields.policies.list(locals(res).tenantId);
    recordNow(req, res, { metadata: { count: policies.length } });
    res.json({ policies, total: policies.length });
  });

  router.get('/encryption/policies/:event_type', audited('read_encryption_policy'), read, (req, res) => {
    const policy = fields.policies.get(locals(res).tenantId, eventTypeOf(req.params));
    recordNow(req, res);
    res.json(policy);
  });

  // Policies name payload pointers (which fields are sealed), never values: safe to record.
  router.put('/encryption/policies/:event_type', audited('put_encryption_policy'), manage, (req, res) => {
    const body = parseBody(policySchema, req.body);
    const { policy, created } = auditedWrite(
      req,
      res,
      () => fields.policies.put(locals(res).tenantId, eventTypeOf(req.params), body.fields),
      (result) => ({ metadata: { created: result.created, fields: body.fields.slice(0, 100) } }),
    );
    res.status(created ? 201 : 200).json(policy);
  });

  router.delete('/encryption/policies/:event_type', audited('delete_encryption_policy'), manage, (req, res) => {
    auditedWrite(req, res, () => fields.policies.remove(locals(res).tenantId, eventTypeOf(req.params)));
    res.json({ deleted: true });
  });

  router.get('/encryption/rewrap', audited('read_rewrap_status'), manage, (req, res) => {
    const status = fields.rewrap.status(locals(res).tenantId);
    recordNow(req, res);
    res.json(status);
  });

  router.post('/encryption/rewrap', audited('start_rewrap'), manage, (req, res) => {
    parseBody(emptySchema, req.body);
    res.status(202).json(auditedWrite(req, res, () => fields.rewrap.start(locals(res).tenantId)));
  });

  router.post('/subjects/:entity_id/forget', audited('forget_subject'), manage, (req, res) => {
    parseBody(emptySchema, req.body);
    res.json(auditedWrite(req, res, () => fields.forget(locals(res).tenantId, String(req.params['entity_id']))));
  });

  return router;
}
