import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Router, type Request } from 'express';
import type { Metrics } from '../../metrics/index.js';
import { matchesFilter, type EventStore, type FeedFilter, type FeedItem } from '../../store/index.js';
import { audited, recordNow } from '../audit.js';
import { requirePermission } from '../auth.js';
import { openEventStream } from '../event-stream.js';
import { locals } from '../locals.js';
import { payloadViewOf } from '../payload-view.js';
import { entityIdParam, eventTypePrefixParam, integerParam, MAX_SAFE } from '../params.js';

const BATCH = 1000;

export interface SubscribeDependencies {
  store: EventStore;
  metrics: Metrics;
  heartbeatMs: number;
  /**
   * Is the request's credential still good (not revoked, logged out, expired, its tenant not
   * suspended)? Asked at every heartbeat, so a revoked credential stops reading within one.
   */
  stillAuthorized: (req: Request) => Promise<boolean>;
  /** Open streams, so that shutdown can end them. */
  openStreams: Set<ServerResponse>;
}

/** Last-Event-ID is the position of the last event the client saw; garbage is ignored, as browsers may send anything. */
function lastEventId(header: string | undefined): number | undefined {
  return header !== undefined && /^\d{1,16}$/.test(header) ? Number(header) : undefined;
}

/**
 * GET /api/v1/events/subscribe: Server-Sent Events. Every step reads what comes after the
 * cursor (from the in-memory ring when it reaches back far enough, else from SQLite), so the
 * seam between catch-up and live has no gap and no duplicate by construction, and a slow
 * client holds a cursor, not a buffer.
 */
export function subscribeRoutes({
  store,
  metrics,
  heartbeatMs,
  stillAuthorized,
  openStreams,
}: SubscribeDependencies): Router {
  const router = Router();

  router.get('/events/subscribe', audited('subscribe'), requirePermission('read'), async (req, res) => {
    const tenantId = locals(res).tenantId;
    const view = payloadViewOf(locals(res).principal);
    const entityId = entityIdParam(req.query);
    const prefix = eventTypePrefixParam(req.query);
    const fromPosition = integerParam(req.query, 'from_position', 0, MAX_SAFE);
    const resumeAfter = lastEventId(req.headers['last-event-id'] as string | undefined);
    const filter: FeedFilter = {
      ...(entityId === undefined ? {} : { entityId }),
      ...(prefix === undefined ? {} : { eventTypePrefixes: [prefix] }),
    };
    // Last-Event-ID (exclusive) wins over from_position (inclusive); with neither, only new events.
    let cursor =
      resumeAfter ?? (fromPosition === undefined ? store.headPosition(tenantId) : Math.max(fromPosition - 1, 0));

    recordNow(req, res, {
      metadata: {
        transport: 'sse',
        from_position: cursor,
        ...(entityId === undefined ? {} : { entity_id: entityId }),
        ...(prefix === undefined ? {} : { event_type_prefix: prefix }),
      },
    });
    openEventStream(res);
    openStreams.add(res);
    metrics.subscribers.inc({ transport: 'sse' });

    let closed = false;
    let committed: boolean;
    let wake: (() => void) | undefined;
    const stopListening = store.feed.listen(tenantId, () => {
      committed = true;
      wake?.();
    });
    const heartbeat = setInterval(() => {
      void stillAuthorized(req).then((ok) => {
        if (ok) {
          res.write(': heartbeat\n\n');
          return;
        }
        // The stream is already 200 and open: say why in the stream, then end it.
        res.write('event: error\ndata: {"error":"unauthorized","message":"the credential is no longer valid"}\n\n');
        res.end();
      });
    }, heartbeatMs);
    res.on('close', () => {
      closed = true;
      wake?.();
    });

    try {
      while (!closed) {
        committed = false;
        let items: FeedItem[] | undefined = store.feed.recentAfter(tenantId, cursor, BATCH);
        let advanceTo: number;
        if (items) {
          advanceTo = items.at(-1)?.position ?? cursor;
          items = items.filter((item) => matchesFilter(item, filter));
        } else {
          const plan = store.planQuery(tenantId, {
            afterPosition: cursor,
            offset: 0,
            order: 'asc',
            ...(entityId === undefined ? {} : { entityId }),
            ...(prefix === undefined ? {} : { eventTypePrefix: prefix }),
          });
          const rows = plan.page(undefined, BATCH, 0);
          items = rows.map(store.feedItem);
          // A short page means everything up to the plan's horizon has been seen.
          advanceTo = rows.length < BATCH ? Math.max(cursor, plan.upTo) : rows.at(-1)!.position;
        }
        if (items.length > 0) {
          const text = items.map((item) => `id: ${item.position}\ndata: ${item.jsonFor(view)}\n\n`).join('');
          if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
        }
        const progressed = advanceTo > cursor;
        cursor = advanceTo;
        // Nothing new and nothing committed since the read: sleep until the next commit.
        if (!progressed && !committed && !closed) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      clearInterval(heartbeat);
      stopListening();
      openStreams.delete(res);
      metrics.subscribers.dec({ transport: 'sse' });
      if (!res.writableEnded) res.end();
    }
  });

  return router;
}
