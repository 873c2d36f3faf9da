import type { ServerResponse } from 'node:http';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { DETECTORS, type AnomalyEngine, type AnomalyFilter, type DetectorName } from '../../anomaly/index.js';
import { InvalidRequestError } from '../../errors/index.js';
import type { IdentityService } from '../../identity/index.js';
import { authenticate, rejectForeignTenant, requirePermission } from '../auth.js';
import { audited, auditedWrite, recordNow } from '../audit.js';
import { parseBody } from '../body-schema.js';
import { openEventStream } from '../event-stream.js';
import { locals } from '../locals.js';
import { integerParam, MAX_SAFE, single, timeParam } from '../params.js';

/** An SSE client this far behind is cut off (it can list what it missed) rather than buffered for. */
const MAX_STREAM_BUFFER_BYTES = 1024 * 1024;

export interface AnomalyRoutesDependencies {
  anomalies: AnomalyEngine;
  identity: IdentityService;
  devMode: boolean;
  body: RequestHandler[];
  heartbeatMs: number;
  stillAuthorized: (req: Request) => Promise<boolean>;
  openStreams: Set<ServerResponse>;
}

const resolveSchema = z.object({ note: z.string().max(500).optional() }).strict();

function bad(name: string, problem: string): InvalidRequestError {
  return new InvalidRequestError(`parameter ${name} ${problem}`, [{ path: name, problem }]);
}

function detectorParam(query: Record<string, unknown>): DetectorName | undefined {
  const value = single(query, 'detector');
  if (value === undefined) return undefined;
  if (!(DETECTORS as readonly string[]).includes(value))
    throw bad('detector', `must be one of ${DETECTORS.join(', ')}`);
  return value as DetectorName;
}

function scoreParam(query: Record<string, unknown>): number | undefined {
  const value = single(query, 'min_score');
  if (value === undefined) return undefined;
  if (!/^(0(\.\d{1,6})?|1(\.0{1,6})?)$/.test(value)) throw bad('min_score', 'must be a number from 0 to 1');
  return Number(value);
}

function filterOf(query: Record<string, unknown>): AnomalyFilter {
  const filter: AnomalyFilter = {};
  const detector = detectorParam(query);
  const minScore = scoreParam(query);
  const since = timeParam(query, 'since');
  const until = timeParam(query, 'until');
  const status = single(query, 'status');
  if (status !== undefined && status !== 'open' && status !== 'resolved')
    throw bad('status', 'must be "open" or "resolved"');
  if (detector !== undefined) filter.detector = detector;
  if (minScore !== undefined) filter.minScore = minScore;
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  if (status !== undefined) filter.status = status;
  return filter;
}

const pageOf = (query: Record<string, unknown>) => ({
  limit: integerParam(query, 'limit', 1, 1000) ?? 100,
  offset: integerParam(query, 'offset', 0, MAX_SAFE) ?? 0,
});

const idParam = (req: Request): string => String(req.params['id']).slice(0, 100);
const actorOf = (res: Response): string => `${locals(res).principal.kind}:${locals(res).principal.subject}`;

/**
 * /api/v1/security/anomalies (issue 6, item 5). Reading findings needs `read_audit`: they are
 * derived from the audit trail and show who did what, so they go to whoever may read the trail
 * (an auditor role that is not an admin keeps working). Changing anything (resolving a finding,
 * reversing a block or a revocation) needs `admin`: it restores access. Tenant-isolated: every
 * call is scoped to the credential's tenant; another tenant's finding is "not found".
 */
export function anomalyRoutes(deps: AnomalyRoutesDependencies): Router {
  const { anomalies } = deps;
  const router = Router();
  router.use(authenticate(deps.identity, deps.devMode), ...deps.body, rejectForeignTenant);
  const readAudit = requirePermission('read_audit');
  const admin = requirePermission('admin');

  router.get('/', audited('list_anomalies'), readAudit, (req, res) => {
    const page = anomalies.list(locals(res).tenantId, filterOf(req.query), pageOf(req.query));
    recordNow(req, res, { metadata: { count: page.anomalies.length } });
    res.json(page);
  });

  router.get('/stream', audited('subscribe_anomalies'), readAudit, (req, res) => {
    const tenantId = locals(res).tenantId;
    const filter = filterOf(req.query);
    recordNow(req, res);
    openEventStream(res);
    deps.openStreams.add(res);
    const stop = anomalies.subscribe(tenantId, (anomaly) => {
      if (filter.detector !== undefined && anomaly.detector !== filter.detector) return;
      if (filter.minScore !== undefined && anomaly.score < filter.minScore) return;
      if (res.writableLength > MAX_STREAM_BUFFER_BYTES) return void res.end();
      res.write(`id: ${anomaly.id}\nevent: anomaly\ndata: ${JSON.stringify(anomaly)}\n\n`);
    });
    const heartbeat = setInterval(() => {
      void deps.stillAuthorized(req).then((ok) => {
        if (ok) return void res.write(': heartbeat\n\n');
        res.write('event: error\ndata: {"error":"unauthorized","message":"the credential is no longer valid"}\n\n');
        res.end();
      });
    }, deps.heartbeatMs);
    res.on('close', () => {
      clearInterval(heartbeat);
      stop();
      deps.openStreams.delete(res);
    });
  });

  router.get('/actions', audited('list_anomaly_actions'), readAudit, (req, res) => {
    const page = anomalies.listActions(locals(res).tenantId, pageOf(req.query));
    recordNow(req, res);
    res.json(page);
  });
  router.delete('/actions/:id', audited('reverse_anomaly_action'), admin, (req, res) => {
    res.json(auditedWrite(req, res, () => anomalies.reverseAction(locals(res).tenantId, idParam(req), actorOf(res))));
  });

  router.get('/:id', audited('read_anomaly'), readAudit, (req, res) => {
    const anomaly = anomalies.get(locals(res).tenantId, idParam(req));
    recordNow(req, res);
    res.json(anomaly);
  });
  router.post('/:id/resolve', audited('resolve_anomaly'), admin, (req, res) => {
    const { note } = parseBody(resolveSchema, req.body);
    res.json(
      auditedWrite(req, res, () => anomalies.resolve(locals(res).tenantId, idParam(req), actorOf(res), note ?? null)),
    );
  });
  return router;
}
