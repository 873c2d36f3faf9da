import { isoTimestamp, uuidText } from './dto.js';
import { toStored } from './query.js';
import { DuplicateEventIdError, VersionConflictError } from './errors.js';
import type { EventRow, Statements } from './statements.js';
import type { StreamCache, StreamState } from './stream-cache.js';
import type {
  AppendResult,
  ExpectedVersion,
  PayloadSealer,
  PendingSeal,
  PreparedEvent,
  SealedPayload,
  SealJob,
  StoredEvent,
} from './types.js';

export interface AppendDependencies {
  statements: Statements;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** 16 bytes of a new UUIDv7. */
  newEventId: () => Uint8Array;
  streamCache: StreamCache;
  /** Field-level encryption; absent in a store that never encrypts. */
  sealer?: PayloadSealer;
}

export interface AppendOutcome {
  results: AppendResult[];
  /** Newly stored events, in position order, for subscribers. Repeats are not in it. */
  committed: StoredEvent[];
  /** The streams written, by entity id, with their new versions: for the cache, once committed. */
  streams: Map<string, StreamState>;
  /** Told once the transaction commits, so that new subject keys may be cached. */
  sealJob?: SealJob;
}

function satisfies(expected: ExpectedVersion, current: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 0;
    case 'stream_exists':
      return current > 0;
    default:
      return expected === current;
  }
}

/**
 * Appends a request's events inside the caller's transaction. Throws (and the caller rolls
 * back the whole request) on a version conflict or a reused event id. `indexed` is true for
 * batches, so that errors name the offending item.
 */
/** One event's row, written at once or, when its payload is being sealed elsewhere, after the loop. */
interface PendingRow {
  event: PreparedEvent;
  id: string;
  eventId: Uint8Array;
  position: number;
  streamId: number;
  version: number;
  typeId: number;
  stored: SealedPayload | PendingSeal;
}

export function appendEvents(
  deps: AppendDependencies,
  tenantId: string,
  events: readonly PreparedEvent[],
  indexed: boolean,
): AppendOutcome {
  const { statements } = deps;
  const head = statements.head.get(tenantId);
  let position = head?.position ?? 0;
  // Timestamps never go backwards within a tenant, so that time ranges map onto positions.
  const timestampMs = Math.max(deps.now(), head?.timestamp ?? 0);
  const timestamp = isoTimestamp(timestampMs);
  const streams = new Map<string, StreamState>();
  const typeIds = new Map<string, { typeId: number; added: number }>();
  const seenIds = new Map<string, { event: PreparedEvent; result: AppendResult }>();
  const results: AppendResult[] = [];
  const committed: StoredEvent[] = [];
  let sealing = 0;
  for (const event of events) if (event.sealing !== null) sealing += 1;
  const sealJob = sealing > 0 ? deps.sealer?.beginJob(sealing) : undefined;
  // Rows whose payload is being sealed elsewhere, and every row after the first of them (rows go in order).
  const deferredRows: PendingRow[] = [];

  function writeRow(row: PendingRow): void {
    const { payloadJson, sealed } = 'pending' in row.stored ? row.stored.settle() : row.stored;
    statements.insertEvent.run(
      tenantId,
      row.position,
      row.eventId,
      row.streamId,
      row.version,
      row.typeId,
      timestampMs,
      payloadJson,
      row.event.metadataJson,
      sealed,
    );
    committed.push({
      id: row.id,
      event_type: row.event.eventType,
      entity_id: row.event.entityId,
      tenant_id: tenantId,
      // Subscribers get the stored (sealed) form; each one's view is revealed as it is sent.
      payloadJson,
      metadataJson: row.event.metadataJson,
      sealed,
      timestampMs,
      version: row.version,
      position: row.position,
    });
  }

  events.forEach((event, i) => {
    const index = indexed ? i : undefined;
    let idHex: string | undefined;
    if (event.eventId) {
      idHex = Buffer.from(event.eventId).toString('hex');
      const repeat = findRepeat(deps, tenantId, event, idHex, seenIds);
      if (repeat === 'different') throw new DuplicateEventIdError(uuidText(event.eventId), index);
      if (repeat) {
        results.push(repeat);
        return;
      }
    }

    let stream = streams.get(event.entityId);
    if (!stream) {
      const cached = deps.streamCache.get(tenantId, event.entityId);
      // Until this job commits, the database (inside the transaction) is the only truth.
      if (cached) deps.streamCache.forget(tenantId, event.entityId);
      const row = cached ? undefined : statements.streamByEntity.get(tenantId, event.entityId);
      stream = cached
        ? { ...cached }
        : row
          ? { streamId: row.stream_id, version: row.version }
          : {
              streamId: Number(statements.insertStream.run(tenantId, event.entityId, timestampMs).lastInsertRowid),
              version: 0,
            };
      streams.set(event.entityId, stream);
    }
    if (!satisfies(event.expected, stream.version)) {
      throw new VersionConflictError(event.entityId, event.expected, stream.version, index);
    }
    stream.version += 1;

    let type = typeIds.get(event.eventType);
    if (!type) {
      const row = statements.typeByName.get(tenantId, event.eventType);
      const typeId = row
        ? row.type_id
        : Number(statements.insertType.run(tenantId, event.eventType, timestampMs).lastInsertRowid);
      type = { typeId, added: 0 };
      typeIds.set(event.eventType, type);
    }
    type.added += 1;

    const eventId = event.eventId ?? deps.newEventId();
    const id = uuidText(eventId);
    let stored: SealedPayload | PendingSeal = { payloadJson: event.payloadJson, sealed: null };
    if (event.sealing) {
      // Prepared by the store's sealer, so there is one; storing the nulled payload alone would lose the values.
      if (!sealJob) throw new Error('an event prepared for sealing reached a store without a sealer');
      stored = sealJob.seal(tenantId, event.entityId, id, event.sealing);
    }
    position += 1;
    const row: PendingRow = {
      event,
      id,
      eventId,
      position,
      streamId: stream.streamId,
      version: stream.version,
      typeId: type.typeId,
      stored,
    };
    if (deferredRows.length > 0 || 'pending' in stored) deferredRows.push(row);
    else writeRow(row);
    const result: AppendResult = { event_id: id, timestamp, version: stream.version, position };
    results.push(result);
    if (idHex) seenIds.set(idHex, { event, result });
  });
  for (const row of deferredRows) writeRow(row);

  for (const stream of streams.values()) statements.updateStream.run(stream.version, timestampMs, stream.streamId);
  for (const type of typeIds.values()) statements.bumpType.run(type.added, timestampMs, type.typeId);
  return { results, committed, streams, ...(sealJob ? { sealJob } : {}) };
}

/**
 * An event id seen before: the original result when the content is the same (a retry),
 * 'different' when the id was used for another event, undefined when it is new.
 */
function findRepeat(
  deps: AppendDependencies,
  tenantId: string,
  event: PreparedEvent,
  idHex: string,
  seenInRequest: Map<string, { event: PreparedEvent; result: AppendResult }>,
): AppendResult | 'different' | undefined {
  const earlier = seenInRequest.get(idHex);
  if (earlier) return sameContent(earlier.event, event) ? earlier.result : 'different';
  const row = deps.statements.eventById.get(tenantId, event.eventId!);
  if (!row) return undefined;
  // A retry is compared with what was sent, so sealed values are compared in clear.
  const storedJson = row.sealed === null ? row.payload : plaintextPayload(deps, tenantId, row);
  const same =
    row.event_type === event.eventType &&
    row.entity_id === event.entityId &&
    storedJson === event.sentPayloadJson &&
    row.metadata === event.metadataJson;
  if (!same) return 'different';
  return {
    event_id: uuidText(row.event_id),
    timestamp: isoTimestamp(row.timestamp),
    version: row.version,
    position: row.position,
  };
}

/** Two events of one request with the same event id: a retry only if everything else is the same too. */
function sameContent(a: PreparedEvent, b: PreparedEvent): boolean {
  return (
    a.eventType === b.eventType &&
    a.entityId === b.entityId &&
    a.sentPayloadJson === b.sentPayloadJson &&
    a.metadataJson === b.metadataJson
  );
}

function plaintextPayload(deps: AppendDependencies, tenantId: string, row: EventRow): string {
  if (!deps.sealer) return row.payload;
  return deps.sealer.reveal(toStored(tenantId, row), 'plaintext').payloadJson;
}
