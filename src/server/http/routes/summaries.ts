import { Router } from 'express';
import { InvalidRequestError, NotFoundError } from '../../errors/index.js';
import type { Metrics } from '../../metrics/index.js';
import {
  entityIdProblem,
  foldPayload,
  isoTimestamp,
  newEntityState,
  type EventStore,
  type PageCursor,
} from '../../store/index.js';
import { audited, recordNow } from '../audit.js';
import { requirePermission } from '../auth.js';
import { locals } from '../locals.js';
import { payloadViewOf } from '../payload-view.js';
import { parsePage, single, timeParam } from '../params.js';
import { StreamedJson } from '../streamed-json.js';

const PAGE_ROWS = 1000;

export interface SummaryRoutesDependencies {
  store: EventStore;
  metrics: Metrics;
}

export function summaryRoutes({ store, metrics }: SummaryRoutesDependencies): Router {
  const router = Router();

  router.get('/streams', audited('list_streams'), requirePermission('read'), (req, res) => {
    const result = store.streams(locals(res).tenantId, parsePage(req.query));
    recordNow(req, res, { metadata: { count: result.streams.length } });
    res.json(result);
  });

  router.get('/event-types', audited('list_event_types'), requirePermission('read'), (req, res) => {
    const result = store.eventTypes(locals(res).tenantId, parsePage(req.query));
    recordNow(req, res, { metadata: { count: result.event_types.length } });
    res.json(result);
  });

  router.get('/stats', audited('read_stats'), requirePermission('read'), (req, res) => {
    const result = store.stats(locals(res).tenantId);
    recordNow(req, res);
    res.json(result);
  });

  /**
   * The entity's state as the fold of its payloads. History is streamed first and the state
   * written last, so that an entity with a long history never sits whole in memory.
   */
  router.get(
    '/entities/:entity_id/state',
    audited('read_entity_state'),
    requirePermission('read'),
    async (req, res) => {
      const stopTimer = metrics.queryDuration.startTimer({ route: 'entity_state' });
      const entityId = String(req.params['entity_id']);
      const problem = entityIdProblem(entityId);
      if (problem) throw new InvalidRequestError(`entity_id ${problem}`, [{ path: 'entity_id', problem }]);
      const asOf = timeParam(req.query, 'as_of');
      const includeHistory = single(req.query, 'include_history') !== 'false';
      const plan = store.planQuery(locals(res).tenantId, {
        entityId,
        offset: 0,
        order: 'asc',
        ...(asOf === undefined ? {} : { until: asOf }),
      });
      const view = payloadViewOf(locals(res).principal);
      if (plan.totalCount === 0) throw new NotFoundError(`entity ${JSON.stringify(entityId)} has no events`);
      recordNow(req, res, {
        metadata: {
          event_count: plan.totalCount,
          ...(asOf === undefined ? {} : { as_of: new Date(asOf).toISOString() }),
        },
      });

      const out = new StreamedJson(res);
      await out.push(`{"entity_id":${JSON.stringify(entityId)}${includeHistory ? ',"history":[' : ''}`);
      const state = newEntityState();
      let cursor: PageCursor | undefined;
      let count = 0;
      let lastUpdated = 0;
      for (;;) {
        const rows = plan.page(cursor, PAGE_ROWS, 0).map((row) => store.reveal(row, view));
        for (const row of rows) foldPayload(state, JSON.parse(row.payloadJson));
        if (includeHistory && rows.length > 0) {
          const entries = rows.map(
            (row) =>
              `{"event_id":"${row.id}","type":${JSON.stringify(row.event_type)},` +
              `"timestamp":"${isoTimestamp(row.timestampMs)}","version":${row.version},"payload":${row.payloadJson}}`,
          );
          if (!(await out.push((count === 0 ? '' : ',') + entries.join(',')))) return;
        }
        count += rows.length;
        const last = rows.at(-1);
        if (last) {
          lastUpdated = last.timestampMs;
          cursor = { position: last.position, version: last.version };
        }
        if (rows.length < PAGE_ROWS) break;
      }
      const tail = {
        current_state: state,
        event_count: count,
        last_updated: isoTimestamp(lastUpdated),
        as_of: asOf === undefined ? null : isoTimestamp(asOf),
      };
      out.end(`${includeHistory ? ']' : ''},${JSON.stringify(tail).slice(1)}`);
      stopTimer();
    },
  );

  return router;
}
