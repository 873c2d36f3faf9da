export { createEventStore } from './event-store.js';
export { createEventIdGenerator } from './event-id.js';
export type { EventStore, EventStoreDependencies, Page } from './event-store.js';
export { eventJson, feedItem, isoTimestamp, uuidText } from './dto.js';
export { DuplicateEventIdError, StoreClosedError, VersionConflictError } from './errors.js';
export { createFeed } from './feed.js';
export { matchesFilter } from './feed.js';
export type { Feed, FeedFilter, FeedItem, FeedListener } from './feed.js';
export type { PageCursor, QueryPlan } from './query.js';
export { foldPayload, newEntityState } from './state.js';
export { MAX_JSON_DEPTH } from './json-check.js';
export {
  entityIdProblem,
  eventTypePrefixProblem,
  eventTypeProblem,
  MAX_BATCH_EVENTS,
  validateBatch,
  validateOne,
} from './validation.js';
export type * from './types.js';
