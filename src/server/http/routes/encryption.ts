import { Router } from 'express';
import { z } from 'zod';
import type { FieldCrypto } from '../../fields/index.js';
import { requirePermission } from '../auth.js';
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

  router.get('/encryption/policies', read, (_req, res) => {
    const policies = fields.policies.list(locals(res).tenantId);
    res.json({ policies, total: policies.length });
  });

  router.get('/encryption/policies/:event_type', read, (req, res) => {
    res.json(fields.policies.get(locals(res).tenantId, eventTypeOf(req.params)));
  });

  router.put('/encryption/policies/:event_type', manage, (req, res) => {
    const body = parseBody(policySchema, req.body);
    const { policy, created } = fields.policies.put(locals(res).tenantId, eventTypeOf(req.params), body.fields);
    res.status(created ? 201 : 200).json(policy);
  });

  router.delete('/encryption/policies/:event_type', manage, (req, res) => {
    fields.policies.remove(locals(res).tenantId, eventTypeOf(req.params));
    res.json({ deleted: true });
  });

  router.get('/encryption/rewrap', manage, (_req, res) => {
    res.json(fields.rewrap.status(locals(res).tenantId));
  });

  router.post('/encryption/rewrap', manage, (req, res) => {
    parseBody(emptySchema, req.body);
    res.status(202).json(fields.rewrap.start(locals(res).tenantId));
  });

  router.post('/subjects/:entity_id/forget', manage, (req, res) => {
    parseBody(emptySchema, req.body);
    res.json(fields.forget(locals(res).tenantId, String(req.params['entity_id'])));
  });

  return router;
}
