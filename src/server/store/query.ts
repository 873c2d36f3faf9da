import type { SqliteDatabase, SqliteStatement } from '../db/index.js';
import { InvalidRequestError } from '../errors/index.js';
import { uuidText } from './dto.js';
import type { EventRow, Statements } from './statements.js';
import type { EventQuery, StoredEvent } from './types.js';

/** Where the next page starts: after this event, in the query's order. */
export interface PageCursor {
  position: number;
  version: number;
}

/**
 * A query resolved against one instant of the store: `page` never returns events committed
 * after the plan was made, so `totalCount` and the pages agree.
 */
export interface QueryPlan {
  totalCount: number;
  /** The newest position the plan can see; later commits are outside it. */
  upTo: number;
  /** Present when the query names an entity: its version at that instant (0 if it has no events). */
  entityVersion?: number;
  /** Up to `max` events after `cursor` (or from the start, skipping `offset`). */
  page(cursor: PageCursor | undefined, max: number, offset: number): StoredEvent[];
}

// SQLite JSON paths cannot escape a double quote inside a quoted label.
const UNSAFE_FILTER_KEY = /["\\\u0000-\u001f]/; // eslint-disable-line no-control-regex

function jsonType(value: unknown): string[] {
  if (value === null) return ['null'];
  if (value === true) return ['true'];
  if (value === false) return ['false'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['integer', 'real'] : ['real'];
  if (typeof value === 'string') return ['text'];
  return [Array.isArray(value) ? 'array' : 'object'];
}

function payloadFilterClauses(filter: Record<string, unknown>, params: unknown[]): string[] {
  return Object.entries(filter).map(([key, value]) => {
    if (UNSAFE_FILTER_KEY.test(key)) {
      throw new InvalidRequestError('payload_filter has a key that cannot be matched', [
        { path: 'payload_filter', problem: `key ${JSON.stringify(key)} holds a quote, backslash or control character` },
      ]);
    }
    const path = `$."${key}"`;
    const types = jsonType(value);
    params.push(path, ...types);
    const typeCheck = `json_type(e.payload, ?) IN (${types.map(() => '?').join(', ')})`;
    if (value === null || typeof value === 'boolean') return typeCheck;
    params.push(path, typeof value === 'object' ? JSON.stringify(value) : value);
    return `${typeCheck} AND json_extract(e.payload, ?) = ?`;
  });
}

export interface QueryDependencies {
  db: SqliteDatabase;
  statements: Statements;
}

/**
 * Turns a query into a plan. Time bounds become position bounds, which is exact because
 * timestamps never decrease with position inside a tenant (append.ts keeps them monotonic).
 */
export function createQueryPlanner(deps: QueryDependencies) {
  const { db, statements } = deps;
  const cache = new Map<string, SqliteStatement<unknown[], unknown>>();
  const timestampAt = db
    .prepare<[string, number], number>('SELECT timestamp FROM events WHERE tenant_id = ? AND position = ?')
    .pluck();

  /**
   * The first position (1..head+1) whose timestamp is at or after `ms`. A binary search over
   * positions: timestamps never decrease with position, so no time index is needed (one fewer
   * index to maintain on every append).
   */
  function firstPositionFrom(tenantId: string, ms: number, head: number): number {
    let low = 1;
    let high = head + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if ((timestampAt.get(tenantId, middle) ?? Number.POSITIVE_INFINITY) >= ms) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  function prepared(sql: string): SqliteStatement<unknown[], unknown> {
    let statement = cache.get(sql);
    if (!statement) {
      // The number of distinct shapes is small and fixed (which filters are present), so this stays bounded.
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }

  return function plan(tenantId: string, query: EventQuery): QueryPlan {
    const head = statements.countEvents.get(tenantId)?.n ?? 0;
    let low = query.afterPosition ?? 0; // exclusive
    let high = head; // inclusive
    if (query.since !== undefined) low = Math.max(low, firstPositionFrom(tenantId, query.since, head) - 1);
    // Timestamps are whole milliseconds, so "at or before until" ends just before until + 1.
    if (query.until !== undefined) high = Math.min(high, firstPositionFrom(tenantId, query.until + 1, head) - 1);

    const where = ['e.tenant_id = ?'];
    // (byEntity below swaps this for '+e.tenant_id': the stream already belongs to the tenant.)
    const params: unknown[] = [tenantId];
    let entityVersion: number | undefined;
    let byEntity = false;
    let typeCount: number | undefined;
    if (query.entityId !== undefined) {
      const stream = statements.streamByEntity.get(tenantId, query.entityId);
      entityVersion = stream?.version ?? 0;
      if (!stream) return { totalCount: 0, upTo: head, entityVersion, page: () => [] };
      where[0] = '+e.tenant_id = ?';
      where.push('e.stream_id = ?');
      params.push(stream.stream_id);
      byEntity = true;
    }
    if (query.eventType !== undefined) {
      const type = statements.typeByName.get(tenantId, query.eventType);
      if (!type) return { totalCount: 0, upTo: head, entityVersion, page: () => [] };
      typeCount = type.event_count;
      where.push('e.type_id = ?');
      params.push(type.type_id);
    }
    if (query.eventTypePrefix !== undefined) {
      where.push(
        'e.type_id IN (SELECT type_id FROM event_types WHERE tenant_id = ? AND event_type >= ? AND event_type < ?)',
      );
      // Event types use only characters below U+007F, so this bound ends the prefix's range.
      params.push(tenantId, query.eventTypePrefix, `${query.eventTypePrefix}\u007f`);
    }
    if (query.payloadFilter) where.push(...payloadFilterClauses(query.payloadFilter, params));
    if (low >= high) return { totalCount: 0, upTo: head, entityVersion, page: () => [] };
    // Inside one entity the stream index must drive the scan; a unary + keeps SQLite from
    // choosing the tenant-wide position index instead (which would scan the whole tenant).
    const positionColumn = byEntity ? '+e.position' : 'e.position';
    where.push(`${positionColumn} > ?`, `${positionColumn} <= ?`);
    params.push(low, high);

    // The common shapes have their count at hand; only the rest pay for count(*).
    const narrowed = query.eventTypePrefix !== undefined || query.payloadFilter !== undefined || low > 0 || high < head;
    let totalCount: number;
    if (!narrowed && byEntity && typeCount === undefined) totalCount = entityVersion!;
    else if (!narrowed && !byEntity && typeCount !== undefined) totalCount = typeCount;
    else if (!narrowed && !byEntity) totalCount = head;
    else {
      const row = prepared(`SELECT count(*) AS n FROM events e WHERE ${where.join(' AND ')}`).get(...params);
      totalCount = (row as { n: number }).n;
    }

    const descending = query.order === 'desc';
    // Inside one entity, version order is position order, and (stream_id, version) is its index.
    const key = byEntity ? 'e.version' : 'e.position';
    const direction = descending ? 'DESC' : 'ASC';
    const from = `SELECT ${statements.eventColumns} FROM events e
      JOIN streams s ON s.stream_id = e.stream_id JOIN event_types t ON t.type_id = e.type_id
      WHERE ${where.join(' AND ')}`;
    const firstPage = prepared(`${from} ORDER BY ${key} ${direction} LIMIT ? OFFSET ?`);
    const nextPage = prepared(`${from} AND ${key} ${descending ? '<' : '>'} ? ORDER BY ${key} ${direction} LIMIT ?`);

    return {
      totalCount,
      upTo: high,
      entityVersion,
      page(cursor, max, offset) {
        const rows = (
          cursor
            ? nextPage.all(...params, byEntity ? cursor.version : cursor.position, max)
            : firstPage.all(...params, max, offset)
        ) as EventRow[];
        return rows.map((row) => toStored(tenantId, row));
      },
    };
  };
}

export function toStored(tenantId: string, row: EventRow): StoredEvent {
  return {
    id: uuidText(row.event_id),
    event_type: row.event_type,
    entity_id: row.entity_id,
    tenant_id: tenantId,
    payloadJson: row.payload,
    metadataJson: row.metadata,
    sealed: row.sealed,
    timestampMs: row.timestamp,
    version: row.version,
    position: row.position,
  };
}
