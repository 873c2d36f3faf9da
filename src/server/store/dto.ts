import { stringify as formatUuid } from 'uuid';
import type { EventDto, StoredEvent } from './types.js';

export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

export function uuidText(bytes: Uint8Array): string {
  return formatUuid(bytes);
}

/**
 * The EventDto as JSON text, built around the stored payload text instead of parsing and
 * re-serialising it: reads and subscriptions then cost a string join per event.
 * The stored payload and metadata are JSON.stringify output, so they splice in safely.
 */
export function eventJson(event: StoredEvent): string {
  return (
    `{"id":"${event.id}","event_type":${JSON.stringify(event.event_type)},` +
    `"entity_id":${JSON.stringify(event.entity_id)},"tenant_id":${JSON.stringify(event.tenant_id)},` +
    `"payload":${event.payloadJson},"metadata":${event.metadataJson ?? 'null'},` +
    `"timestamp":"${isoTimestamp(event.timestampMs)}","version":${event.version},"position":${event.position}}`
  );
}

/** The EventDto as an object, for the library API and tests. */
export function toEventDto(event: StoredEvent): EventDto {
  return JSON.parse(eventJson(event)) as EventDto;
}
