import type { FeedItem } from './feed.js';
import type { PayloadView, StoredEvent } from './types.js';

export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** The canonical lowercase text of 16 UUID bytes (this runs for every event read or written). */
export function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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

/** The event as a reader with `view` may see it: sealed values decrypted or replaced by markers. */
export type Reveal = (event: StoredEvent, view: PayloadView) => StoredEvent;

const asStored: Reveal = (event) => event;

/**
 * A committed event as subscribers see it. Its wire JSON is built the first time a subscriber
 * needs it and then shared by all of them, so appends with nobody listening pay nothing for it.
 * An event with sealed values is revealed afresh for every subscriber instead: no decrypted copy
 * stays in the feed's ring, where it would outlive a crypto-shredding.
 */
export function feedItem(event: StoredEvent, reveal: Reveal = asStored): FeedItem {
  let json: string | undefined;
  return {
    position: event.position,
    entityId: event.entity_id,
    eventType: event.event_type,
    jsonFor(view) {
      if (event.sealed !== null) return eventJson(reveal(event, view));
      return (json ??= eventJson(event));
    },
  };
}
