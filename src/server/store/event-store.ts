import type { SqliteDatabase } from '../db/index.js';
import { NotFoundError } from '../errors/index.js';
import { appendEvents, type AppendOutcome } from './append.js';
import { feedItem, isoTimestamp } from './dto.js';
import { createFeed, type Feed, type FeedItem } from './feed.js';
import { createGroupCommitter } from './group-commit.js';
import { createQueryPlanner, toStored, type QueryPlan } from './query.js';
import { prepareStatements } from './statements.js';
import { createStreamCache } from './stream-cache.js';
import type {
  AppendAudit,
  AppendResult,
  BatchResult,
  EventQuery,
  EventTypeSummary,
  PayloadSealer,
  PayloadView,
  PreparedEvent,
  StoredEvent,
  StoreStats,
  StreamSummary,
  ValidatedEvent,
} from './types.js';
import { validateBatch, validateOne } from './validation.js';

export interface EventStoreDependencies {
  db: SqliteDatabase;
  /** Milliseconds since the epoch; injected so tests can pin time. */
  now: () => number;
  /** 16 bytes of a new UUIDv7; injected so tests can pin ids. */
  newEventId: () => Uint8Array;
  /** Told about events once they are durable (metrics, for instance). */
  onCommitted?: (tenantId: string, count: number) => void;
  /** A subscriber callback threw after a commit; the commit itself stands. */
  onListenerError: (error: unknown) => void;
  feed?: Feed;
  /** Field-level encryption (src/server/fields); without it every payload is stored as sent. */
  sealer?: PayloadSealer;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface EventStore {
  /** Validates and appends one event; `audit` writes the request's record in the same transaction. */
  append(tenantId: string, input: unknown, audit?: AppendAudit): Promise<AppendResult>;
  /** Validates and appends a batch, all or nothing (the audit record included). */
  appendBatch(tenantId: string, events: unknown, audit?: AppendAudit): Promise<BatchResult>;
  getEvent(tenantId: string, eventId: Uint8Array): StoredEvent;
  planQuery(tenantId: string, query: EventQuery): QueryPlan;
  streams(tenantId: string, page: Page): { streams: StreamSummary[]; total: number };
  eventTypes(tenantId: string, page: Page): { event_types: EventTypeSummary[]; total: number };
  stats(tenantId: string): StoreStats;
  /** The position of the tenant's newest event (0 when it has none). */
  headPosition(tenantId: string): number;
  readonly feed: Feed;
  /**
   * The event as a reader with this view may see it. Every read path that hands a payload to a
   * client goes through this (or through feed items, which do).
   */
  reveal(event: StoredEvent, view: PayloadView): StoredEvent;
  /** A read event as a subscriber item (SSE catch-up from the database). */
  feedItem(event: StoredEvent): FeedItem;
  /** Commits what is queued and refuses further writes; the caller closes the database. */
  close(): void;
}

/**
 * The event store over one open database. All writes go through one group committer,
 * so concurrent requests share transactions and fsyncs.
 */
export function createEventStore(deps: EventStoreDependencies): EventStore {
  const statements = prepareStatements(deps.db);
  const feed = deps.feed ?? createFeed({ ringSize: 16_384, maxTenants: 64 });
  const committer = createGroupCommitter(deps.db, deps.onListenerError);
  const planQuery = createQueryPlanner({ db: deps.db, statements });
  const streamCache = createStreamCache(50_000);
  const appendDeps = {
    statements,
    now: deps.now,
    newEventId: deps.newEventId,
    streamCache,
    ...(deps.sealer ? { sealer: deps.sealer } : {}),
  };
  const reveal = (event: StoredEvent, view: PayloadView): StoredEvent =>
    event.sealed === null || !deps.sealer ? event : deps.sealer.reveal(event, view);
  const toFeedItem = (event: StoredEvent): FeedItem => feedItem(event, reveal);

  /** Serialises each payload once, here in the caller's call, sealed values taken apart by the sealer. */
  function prepare(tenantId: string, events: readonly ValidatedEvent[]): PreparedEvent[] {
    return events.map((event) => {
      const sealing = deps.sealer?.prepare(tenantId, event.eventType, event.payload) ?? null;
      const payloadJson = sealing ? sealing.payloadJson : JSON.stringify(event.payload);
      return {
        eventType: event.eventType,
        entityId: event.entityId,
        payloadJson,
        sealing,
        sentPayloadJson: event.eventId === null ? null : sealing ? JSON.stringify(event.payload) : payloadJson,
        metadataJson: event.metadataJson,
        expected: event.expected,
        eventId: event.eventId,
      };
    });
  }

  function write(
    tenantId: string,
    events: PreparedEvent[],
    indexed: boolean,
    audit: AppendAudit | undefined,
  ): Promise<AppendOutcome> {
    return committer.submit({
      run: () => {
        const outcome = appendEvents(appendDeps, tenantId, events, indexed);
        audit?.write({
          count: outcome.results.length,
          ingested: outcome.committed.length,
          eventTypes: [...new Set(events.map((event) => event.eventType))],
        });
        return outcome;
      },
      afterCommit: (outcome) => {
        outcome.sealJob?.committed();
        audit?.committed();
        for (const [entityId, stream] of outcome.streams) streamCache.remember(tenantId, entityId, stream);
        if (outcome.committed.length === 0) return;
        deps.onCommitted?.(tenantId, outcome.committed.length);
        // Nobody listening: the events need no wire form, and the ring lets go of its tail.
        if (feed.hasListeners(tenantId)) feed.publish(tenantId, outcome.committed.map(toFeedItem));
        else feed.skip(tenantId);
      },
    });
  }

  return {
    async append(tenantId, input, audit) {
      const outcome = await write(tenantId, prepare(tenantId, [validateOne(input)]), false, audit);
      return outcome.results[0]!;
    },

    async appendBatch(tenantId, input, audit) {
      const outcome = await write(tenantId, prepare(tenantId, validateBatch(input)), true, audit);
      return { total: outcome.results.length, ingested: outcome.committed.length, events: outcome.results };
    },

    getEvent(tenantId, eventId) {
      const row = statements.eventById.get(tenantId, eventId);
      if (!row) throw new NotFoundError('no event has this id');
      return toStored(tenantId, row);
    },

    planQuery,

    streams(tenantId, page) {
      const rows = statements.listStreams.all(tenantId, page.limit, page.offset);
      return {
        streams: rows.map((row) => ({
          stream_id: row.entity_id,
          event_count: row.version,
          last_event_at: isoTimestamp(row.last_event_at),
        })),
        total: statements.countStreams.get(tenantId)!.n,
      };
    },

    eventTypes(tenantId, page) {
      const rows = statements.listTypes.all(tenantId, page.limit, page.offset);
      return {
        event_types: rows.map((row) => ({
          event_type: row.event_type,
          event_count: row.event_count,
          last_event_at: isoTimestamp(row.last_event_at),
        })),
        total: statements.countTypes.get(tenantId)!.n,
      };
    },

    stats(tenantId) {
      return {
        total_events: statements.countEvents.get(tenantId)!.n,
        total_entities: statements.countStreams.get(tenantId)!.n,
        total_event_types: statements.countTypes.get(tenantId)!.n,
      };
    },

    headPosition(tenantId) {
      return statements.countEvents.get(tenantId)!.n;
    },

    feed,
    reveal,
    feedItem: toFeedItem,

    close() {
      committer.close();
    },
  };
}
