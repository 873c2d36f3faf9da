/** What a client may expect of a stream before an append (allsource-core's `expected_version`). */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';

/** An event as a client submits it, before validation. */
export interface NewEvent {
  event_type: string;
  entity_id: string;
  payload: unknown;
  metadata?: unknown;
  expected_version?: ExpectedVersion;
  event_id?: string;
}

/** An event that passed validation; its payload still the caller's object (see PreparedEvent). */
export interface ValidatedEvent {
  eventType: string;
  entityId: string;
  payload: unknown;
  metadataJson: string | null;
  expected: ExpectedVersion;
  /** The client's idempotency key, as 16 bytes; absent when the server picks the id. */
  eventId: Uint8Array | null;
}

/**
 * A validated event with its payload serialised once, when the append is called: as it will be
 * stored and, when a field policy seals some of its values, taken apart by the sealer. The append
 * job (which may run twice) never reads the caller's objects.
 */
export interface PreparedEvent {
  eventType: string;
  entityId: string;
  /** The payload as it will be stored: as sent, or with the sealed values replaced by null. */
  payloadJson: string;
  /** The sealer's part, when the tenant's policy seals values of this event. */
  sealing: PreparedPayload | null;
  /**
   * The payload as sent, serialised, to tell a retry from a reused event id: set for events that
   * carry an event id (the only ones compared).
   */
  sentPayloadJson: string | null;
  metadataJson: string | null;
  expected: ExpectedVersion;
  eventId: Uint8Array | null;
}

/** A payload the sealer took apart: what is stored in clear and what it will encrypt. */
export interface PreparedPayload {
  /** The payload with each sealed value replaced by null. */
  payloadJson: string;
  /** The JSON array of the sealed values: the plaintext. */
  valuesJson: string;
  /** The pointers whose values these are, as JSON and as UTF-8. */
  pointersJson: string;
  pointersBytes: Buffer;
}

/** The reply to one appended (or idempotently repeated) event. */
export interface AppendResult {
  event_id: string;
  timestamp: string;
  version: number;
  position: number;
}

export interface BatchResult {
  total: number;
  /** How many events were new; repeats of an earlier `event_id` are not counted. */
  ingested: number;
  events: AppendResult[];
}

/** A stored event as read back, payload and metadata still as JSON text. */
export interface StoredEvent {
  id: string;
  event_type: string;
  entity_id: string;
  tenant_id: string;
  payloadJson: string;
  metadataJson: string | null;
  /** The sealer's record of the payload values it encrypted; null for an event stored in clear. */
  sealed: SealedColumn;
  timestampMs: number;
  version: number;
  position: number;
}

/** The wire form of an event (DESIGN.md, EventDto). */
export interface EventDto {
  id: string;
  event_type: string;
  entity_id: string;
  tenant_id: string;
  payload: unknown;
  metadata: unknown;
  timestamp: string;
  version: number;
  position: number;
}

export type SortOrder = 'asc' | 'desc';

/** A validated query; times are milliseconds since the epoch. */
export interface EventQuery {
  entityId?: string;
  eventType?: string;
  eventTypePrefix?: string;
  since?: number;
  until?: number;
  afterPosition?: number;
  /** Absent: every matching event (streamed page by page, never held in memory at once). */
  limit?: number;
  offset: number;
  order: SortOrder;
  /** Top-level payload keys that must equal these values. */
  payloadFilter?: Record<string, unknown>;
}

export interface StreamSummary {
  stream_id: string;
  event_count: number;
  last_event_at: string;
}

export interface EventTypeSummary {
  event_type: string;
  event_count: number;
  last_event_at: string;
}

export interface StoreStats {
  total_events: number;
  total_entities: number;
  total_event_types: number;
}

/**
 * How a reader may see sealed payload values: `plaintext` for principals with the `decrypt`
 * permission, `redacted` (a `{"$encrypted": true, …}` marker in place of each value) for the rest.
 */
export type PayloadView = 'plaintext' | 'redacted';

/**
 * Field-level encryption as the store sees it: a port, implemented outside the store (src/server/fields),
 * so the store knows nothing of keys.
 */
export interface PayloadSealer {
  /**
   * Runs when the append is called: takes the values the tenant's policy for this type names out
   * of the payload, or answers undefined when it seals none. Must not keep `payload`.
   */
  prepare(tenantId: string, eventType: string, payload: unknown): PreparedPayload | undefined;
  /**
   * State for one run of one append job of `events` events; a job may run twice (group commit),
   * so nothing is shared until commit.
   */
  beginJob(events: number): SealJob;
  /** The event as a reader with this view may see it; events with `sealed === null` come back unchanged. */
  reveal(event: StoredEvent, view: PayloadView): StoredEvent;
}

export interface SealJob {
  /**
   * Runs inside the append transaction: encrypts the prepared values under the subject's key.
   * `eventId` is the event's UUID text: the ciphertext is bound to its event.
   */
  seal(tenantId: string, entityId: string, eventId: string, prepared: PreparedPayload): SealedPayload | PendingSeal;
  /** The transaction committed: keys this job created or loaded may now be cached. */
  committed(): void;
}

/**
 * Auditing as the store sees it: a port, implemented outside the store (src/server/audit), so
 * that a request's audit record commits in the same transaction as its events (fail closed).
 */
export interface AppendAudit {
  /**
   * Runs inside the append transaction after the request's events are written; throwing undoes
   * the append. A job may run twice (group commit), so this must only write the database.
   */
  write(summary: AppendSummary): void;
  /** The transaction committed. */
  committed(): void;
}

/** What one append request did, for its audit record. */
export interface AppendSummary {
  /** Events in the request. */
  count: number;
  /** Of which new (repeats of an earlier event_id are not). */
  ingested: number;
  /** The distinct event types of the request. */
  eventTypes: string[];
}

/**
 * A payload being sealed elsewhere (the seal worker): the store settles it just before it writes
 * the row, so sealing one event overlaps writing the ones before it.
 */
export interface PendingSeal {
  readonly pending: true;
  settle(): SealedPayload;
}

export interface SealedPayload {
  payloadJson: string;
  sealed: SealedColumn;
}

/**
 * The `sealed` column: opaque to the store, written and read only by the PayloadSealer (a BLOB,
 * or TEXT from an older format). Never sent to clients as such.
 */
export type SealedColumn = Buffer | string | null;
