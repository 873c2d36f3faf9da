import { Router } from 'express';
import { parse as parseUuid, validate as isUuid } from 'uuid';
import { InvalidRequestError } from '../../errors/index.js';
import type { Metrics } from '../../metrics/index.js';
import { eventJson, type EventStore, type PageCursor } from '../../store/index.js';
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

export function eventRoutes({ store, metrics }: EventRoutesDependencies): Router {
  const router = Router();

  router.post('/events', requirePermission('write'), async (req, res) => {
    const result = await store.append(locals(res).tenantId, requireObject(req.body, 'one event'));
    res.status(201).json(result);
  });

  router.post('/events/batch', requirePermission('write'), async (req, res) => {
    const body = requireObject(req.body, '"events"');
    const result = await store.appendBatch(locals(res).tenantId, body['events']);
    res.status(201).json(result);
  });

  router.get('/events/query', requirePermission('read'), async (req, res) => {
    const stopTimer = metrics.queryDuration.startTimer({ route: 'query' });
    const query = parseEventQuery(req.query);
    const plan = store.planQuery(locals(res).tenantId, query);
    const view = payloadViewOf(locals(res).principal);
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

  router.get('/events/:event_id', requirePermission('read'), (req, res) => {
    const id = String(req.params['event_id']);
    if (!isUuid(id)) {
      throw new InvalidRequestError('event_id must be a UUID', [{ path: 'event_id', problem: 'must be a UUID' }]);
    }
    const event = store.reveal(
      store.getEvent(locals(res).tenantId, parseUuid(id)),
      payloadViewOf(locals(res).principal),
    );
    res.type('application/json').send(`{"event":${eventJson(event)},"found":true}`);
  });

  return router;
}
