import type { SqliteDatabase } from '../db/index.js';
import type { SealedColumn } from './types.js';

export interface HeadRow {
  position: number;
  timestamp: number;
}
export interface StreamRow {
  stream_id: number;
  version: number;
}
export interface EventRow {
  position: number;
  event_id: Buffer;
  entity_id: string;
  event_type: string;
  version: number;
  timestamp: number;
  payload: string;
  metadata: string | null;
  /** The sealer's record (see SealedColumn); null when no value is sealed. */
  sealed: SealedColumn;
}

/** Every fixed statement of the store, prepared once per database. */
export function prepareStatements(db: SqliteDatabase) {
  const eventColumns = `e.position, e.event_id, s.entity_id, t.event_type, e.version, e.timestamp, e.payload, e.metadata, e.sealed`;
  return {
    head: db.prepare<[string], HeadRow>(
      'SELECT position, timestamp FROM events WHERE tenant_id = ? ORDER BY position DESC LIMIT 1',
    ),
    streamByEntity: db.prepare<[string, string], StreamRow>(
      'SELECT stream_id, version FROM streams WHERE tenant_id = ? AND entity_id = ?',
    ),
    insertStream: db.prepare<[string, string, number]>(
      'INSERT INTO streams (tenant_id, entity_id, version, last_event_at) VALUES (?, ?, 0, ?)',
    ),
    updateStream: db.prepare<[number, number, number]>(
      'UPDATE streams SET version = ?, last_event_at = ? WHERE stream_id = ?',
    ),
    typeByName: db.prepare<[string, string], { type_id: number; event_count: number }>(
      'SELECT type_id, event_count FROM event_types WHERE tenant_id = ? AND event_type = ?',
    ),
    insertType: db.prepare<[string, string, number]>(
      'INSERT INTO event_types (tenant_id, event_type, event_count, last_event_at) VALUES (?, ?, 0, ?)',
    ),
    bumpType: db.prepare<[number, number, number]>(
      'UPDATE event_types SET event_count = event_count + ?, last_event_at = ? WHERE type_id = ?',
    ),
    insertEvent: db.prepare<
      [string, number, Uint8Array, number, number, number, number, string, string | null, SealedColumn]
    >(
      `INSERT INTO events (tenant_id, position, event_id, stream_id, version, type_id, timestamp, payload, metadata, sealed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    eventById: db.prepare<[string, Uint8Array], EventRow>(
      `SELECT ${eventColumns} FROM events e
         JOIN streams s ON s.stream_id = e.stream_id JOIN event_types t ON t.type_id = e.type_id
       WHERE e.tenant_id = ? AND e.event_id = ?`,
    ),
    countEvents: db.prepare<[string], { n: number }>(
      'SELECT coalesce(max(position), 0) AS n FROM events WHERE tenant_id = ?',
    ),
    countStreams: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM streams WHERE tenant_id = ?'),
    countTypes: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM event_types WHERE tenant_id = ?'),
    listStreams: db.prepare<[string, number, number], { entity_id: string; version: number; last_event_at: number }>(
      `SELECT entity_id, version, last_event_at FROM streams WHERE tenant_id = ?
       ORDER BY last_event_at DESC, stream_id DESC LIMIT ? OFFSET ?`,
    ),
    listTypes: db.prepare<[string, number, number], { event_type: string; event_count: number; last_event_at: number }>(
      `SELECT event_type, event_count, last_event_at FROM event_types WHERE tenant_id = ?
       ORDER BY event_count DESC, event_type LIMIT ? OFFSET ?`,
    ),
    eventColumns,
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
