import { once } from 'node:events';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AUDIT_CSV_COLUMNS, csvRow, type AuditFilter, type AuditOutcome } from '../../audit/index.js';
import { InvalidRequestError } from '../../errors/index.js';
import { requirePermission } from '../auth.js';
import { auditLogOf, audited, recordNow } from '../audit.js';
import { parseBody } from '../body-schema.js';
import { locals } from '../locals.js';
import { integerParam, MAX_SAFE, single, timeParam } from '../params.js';

const OUTCOMES = ['success', 'failure', 'partial_success'] as const;
/** snake_case, as the server's own actions. */
const ACTION = /^[a-z][a-z0-9_]{0,63}$/;
/** An application's metadata, as JSON text. */
export const MAX_APP_METADATA_BYTES = 8 * 1024;
const EXPORT_PAGE = 1000;

const appEventSchema = z
  .object({
    action: z.string().regex(ACTION, 'must be snake_case: a-z first, then a-z, 0-9 or _, at most 64'),
    outcome: z.enum(OUTCOMES).optional(),
    resource: z.string().min(1).max(256).optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .refine(
        (value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_APP_METADATA_BYTES,
        `must be at most ${MAX_APP_METADATA_BYTES} bytes of JSON`,
      )
      .optional(),
  })
  .strict();

function filterOf(req: Request): AuditFilter {
  const filter: AuditFilter = {};
  const action = single(req.query, 'action');
  if (action !== undefined) {
    if (!ACTION.test(action)) {
      throw new InvalidRequestError('parameter action must be a snake_case action', [
        { path: 'action', problem: 'must be snake_case' },
      ]);
    }
    filter.action = action;
  }
  const outcome = single(req.query, 'outcome');
  if (outcome !== undefined) {
    if (!(OUTCOMES as readonly string[]).includes(outcome)) {
      throw new InvalidRequestError(`parameter outcome must be one of ${OUTCOMES.join(', ')}`, [
        { path: 'outcome', problem: `must be one of ${OUTCOMES.join(', ')}` },
      ]);
    }
    filter.outcome = outcome as AuditOutcome;
  }
  const actor = single(req.query, 'actor');
  if (actor !== undefined) {
    if (actor.length === 0 || actor.length > 256) {
      throw new InvalidRequestError('parameter actor must be 1 to 256 characters', [
        { path: 'actor', problem: 'must be 1 to 256 characters' },
      ]);
    }
    filter.actor = actor;
  }
  const since = timeParam(req.query, 'since');
  const until = timeParam(req.query, 'until');
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  return filter;
}

/** The filters as recorded in the request's own record (times as the caller sent them). */
const filterMetadata = (req: Request): Record<string, unknown> =>
  Object.fromEntries(
    ['action', 'outcome', 'actor', 'since', 'until', 'limit', 'offset', 'format']
      .map((name) => [name, req.query[name]])
      .filter(([, value]) => typeof value === 'string'),
  );

async function write(res: Response, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}

/**
 * /api/v1/audit: the tenant's audit trail (README, "Audit"). Reading needs read_audit, posting an
 * application's event needs write; all of it sees only the credential's tenant, and reading the
 * trail is itself recorded.
 */
export function auditRoutes(): Router {
  const router = Router();
  const readAudit = requirePermission('read_audit');

  router.get('/audit/events', audited('query_audit'), readAudit, (req, res) => {
    const filter = filterOf(req);
    const page = {
      limit: integerParam(req.query, 'limit', 1, 1000) ?? 100,
      offset: integerParam(req.query, 'offset', 0, MAX_SAFE) ?? 0,
    };
    const result = auditLogOf(req).query(locals(res).tenantId, filter, page);
    recordNow(req, res, { metadata: { ...filterMetadata(req), count: result.events.length } });
    res.json(result);
  });

  // Applications record their own events with write (a serviceaccount has no read_audit); reading needs read_audit.
  router.post('/audit/events', audited('audit_event'), requirePermission('write'), (req, res) => {
    const input = parseBody(appEventSchema, req.body);
    // The application's action goes into metadata: it cannot pass for one of the server's own.
    recordNow(req, res, {
      outcome: input.outcome ?? 'success',
      resource: input.resource ?? null,
      metadata: { application_action: input.action, details: input.metadata ?? {} },
    });
    res.status(201).json({ recorded: true });
  });

  /** NDJSON or CSV, oldest first, read a page at a time: never the whole trail in memory. */
  router.get('/audit/export', audited('export_audit'), readAudit, async (req, res) => {
    const format = single(req.query, 'format') ?? 'ndjson';
    if (format !== 'ndjson' && format !== 'csv') {
      throw new InvalidRequestError('parameter format must be ndjson or csv', [
        { path: 'format', problem: 'must be ndjson or csv' },
      ]);
    }
    const filter = filterOf(req);
    const audit = auditLogOf(req);
    const { tenantId } = locals(res);
    recordNow(req, res, { metadata: filterMetadata(req) });
    res.status(200);
    res.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="audit-${tenantId}.${format}"`);
    if (format === 'csv' && !(await write(res, `${AUDIT_CSV_COLUMNS.join(',')}\r\n`))) return;
    let after = 0;
    for (;;) {
      const records = audit.exportPage(tenantId, filter, after, EXPORT_PAGE);
      if (records.length === 0) break;
      const text = records
        .map((record) => (format === 'csv' ? `${csvRow(record)}\r\n` : `${JSON.stringify(record)}\n`))
        .join('');
      if (!(await write(res, text))) return;
      after = records.at(-1)!.seq;
      if (records.length < EXPORT_PAGE) break;
    }
    res.end();
  });

  router.get('/audit/verify', audited('verify_audit'), readAudit, async (req, res) => {
    const result = await auditLogOf(req).verify(locals(res).tenantId);
    recordNow(req, res, {
      metadata: {
        valid: result.valid,
        checked: result.checked,
        ...(result.valid ? {} : { first_bad: result.first_bad }),
      },
    });
    res.json(result);
  });

  router.get('/audit/checkpoints', audited('read_audit_checkpoints'), readAudit, (req, res) => {
    const page = {
      limit: integerParam(req.query, 'limit', 1, 1000) ?? 100,
      offset: integerParam(req.query, 'offset', 0, MAX_SAFE) ?? 0,
    };
    const audit = auditLogOf(req);
    const result = audit.checkpoints(locals(res).tenantId, page);
    recordNow(req, res, { metadata: { count: result.checkpoints.length } });
    res.json({
      ...result,
      has_more: page.offset + result.checkpoints.length < result.total,
      public_keys: audit.publicKeys(),
    });
  });

  return router;
}
