import type { Migration } from './migration.js';

/**
 * The event log and its two interning tables. Streams and event types are interned to
 * integers so that the hot indexes stay narrow; `position` is the commit order within a
 * tenant, so a tenant never sees gaps left by another tenant's writes.
 *
 * Invariant the store keeps: within a tenant, `timestamp` never decreases as `position` grows,
 * so time ranges are found by binary search over positions and need no index of their own.
 */
export const eventStoreMigration: Migration = {
  version: 1,
  name: 'event store',
  sql: `
    CREATE TABLE tenants (
      tenant_id   TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      status      TEXT NOT NULL DEFAULT 'active',
      created_at  INTEGER NOT NULL
    );

    CREATE TABLE streams (
      stream_id     INTEGER PRIMARY KEY,
      tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id),
      entity_id     TEXT NOT NULL,
      version       INTEGER NOT NULL,
      last_event_at INTEGER NOT NULL,
      UNIQUE (tenant_id, entity_id)
    );

    CREATE TABLE event_types (
      type_id       INTEGER PRIMARY KEY,
      tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id),
      event_type    TEXT NOT NULL,
      event_count   INTEGER NOT NULL,
      last_event_at INTEGER NOT NULL,
      UNIQUE (tenant_id, event_type)
    );

    CREATE TABLE events (
      seq        INTEGER PRIMARY KEY,
      tenant_id  TEXT NOT NULL,
      position   INTEGER NOT NULL,
      event_id   BLOB NOT NULL,
      stream_id  INTEGER NOT NULL,
      version    INTEGER NOT NULL,
      type_id    INTEGER NOT NULL,
      timestamp  INTEGER NOT NULL,
      payload    TEXT NOT NULL,
      metadata   TEXT
    );
    CREATE UNIQUE INDEX events_by_position ON events (tenant_id, position);
    CREATE UNIQUE INDEX events_by_id ON events (tenant_id, event_id);
    CREATE UNIQUE INDEX events_by_stream ON events (stream_id, version);
    CREATE INDEX events_by_type ON events (type_id, position);

    INSERT INTO tenants (tenant_id, name, status, created_at)
      VALUES ('default', 'Default', 'active', CAST(unixepoch('subsec') * 1000 AS INTEGER));
  `,
};
