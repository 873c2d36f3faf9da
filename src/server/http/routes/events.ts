import { Router } from 'express';
import { parse as parseUuid, validate as isUuid } from 'uuid';
import { InvalidRequestError } from '../../errors/index.js';
import type { Metrics } from '../../metrics/index.js';
import { eventJson, type EventStore, type PageCursor } from '../../store/index.js';
import { appendAudit, audited, recordNow } from '../audit.js';
import { requirePermission } from '../auth.js';
import { locals } from '../locals.js';
import { payloadViewOf } from '../payload-view.js';
import { parseEventQuery } from '../params.js';
import { StreamedJson } from '../streamed-json.js';

/** Rows read from SQLite per step when streaming a large answer. */
const PAGE_ROWS = 1000;

export interface EventRoutesDependencies {
  store: EventStore;
  metrics: Metrics;
}

function requireObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError(`the request body must be a JSON object holding ${what}`, [
      { path: '/', problem: 'must be a JSON object' },
    ]);
  }
  return body as Record<string, unknown>;
}

const QUERY_FILTERS = [
  'entity_id',
  'event_type',
  'event_type_prefix',
  'since',
  'until',
  'as_of',
  'after_position',
  'limit',
  'offset',
  'order',
];

/** The query's filters as the caller sent them (payload filters by key only: their values may be personal data). */
function queryFilters(query: Record<string, unknown>): Record<string, unknown> {
  const filters: Record<string, unknown> = {};
  for (const name of QUERY_FILTERS) if (typeof query[name] === 'string') filters[name] = query[name];
  // parseEventQuery has already checked that payload_filter is a JSON object.
  const payloadFilter = query['payload_filter'];
  if (typeof payloadFilter === 'string') {
    filters['payload_filter_keys'] = Object.keys(JSON.parse(payloadFilter) as object).slice(0, 20);
  }
  return filters;
}

export function eventRoutes({ store, metrics }: EventRoutesDependencies): Router {
  const router = Router();

  // One audit record a request, in the append's own transaction. A batch is all or nothing, so
  // its outcome is success or failure, never partial_success.
  router.post(
    '/events',
    audited('ingest_event', { resource: () => null }),
    requirePermission('write'),
    async (req, res) => {
      const result = await store.append(
        locals(res).tenantId,
        requireObject(req.body, 'one event'),
        appendAudit(req, res, { batch: false }),
      );
      res.status(201).json(result);
    },
  );

  router.post('/events/batch', audited('ingest_event'), requirePermission('write'), async (req, res) => {
    const body = requireObject(req.body, '"events"');
    const result = await store.appendBatch(
      locals(res).tenantId,
      body['events'],
      appendAudit(req, res, { batch: true }),
    );
    res.status(201).json(result);
  });

  router.get('/events/query', audited('query_events'), requirePermission('read'), async (req, res) => {
    const stopTimer = metrics.queryDuration.startTimer({ route: 'query' });
    const query = parseEventQuery(req.query);
    const plan = store.planQuery(locals(res).tenantId, query);
    const view = payloadViewOf(locals(res).principal);
    // Recorded before the first byte leaves, with the count the answer will hold (the plan fixes
    // its horizon, so the count is known up front): exfiltration detection reads it.
    recordNow(req, res, {
      metadata: {
        filters: queryFilters(req.query),
        count: Math.max(0, Math.min(query.limit ?? Number.POSITIVE_INFINITY, plan.totalCount - query.offset)),
        total_count: plan.totalCount,
      },
    });
    const out = new StreamedJson(res);
    await out.push('{"events":[');
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    let cursor: PageCursor | undefined;
    let count = 0;
    while (remaining > 0) {
      const rows = plan.page(cursor, Math.min(remaining, PAGE_ROWS), query.offset);
      if (rows.length === 0) break;
      const json = rows.map((row) => eventJson(store.reveal(row, view))).join(',');
      if (!(await out.push(count === 0 ? json : `,${json}`))) return;
      count += rows.length;
      remaining -= rows.length;
      const last = rows.at(-1)!;
      cursor = { position: last.position, version: last.version };
      if (rows.length < PAGE_ROWS) break;
    }
    const hasMore = query.offset + count < plan.totalCount;
    const tail: Record<string, unknown> = { count, total_count: plan.totalCount, has_more: hasMore };
    if (plan.entityVersion !== undefined) tail['entity_version'] = plan.entityVersion;
    // With ascending order, after_position=next_position continues where this answer stopped.
    if (hasMore && cursor && query.order === 'asc') tail['next_position'] = cursor.position;
    out.end(`],${JSON.stringify(tail).slice(1)}`);
    stopTimer();
  });

  router.get('/events/:event_id', audited('read_event'), requirePermission('read'), (req, res) => {
    const id = String(req.params['event_id']);
    if (!isUuid(id)) {
      throw new InvalidRequestError('event_id must be a UUID', [{ path: 'event_id', problem: 'must be a UUID' }]);
    }
    const event = store.reveal(
      store.getEvent(locals(res).tenantId, parseUuid(id)),
      payloadViewOf(locals(res).principal),
    );
    recordNow(req, res, { metadata: { event_type: event.event_type, entity_id: event.entity_id } });
    res.type('application/json').send(`{"event":${eventJson(event)},"found":true}`);
  });

  return router;
}
