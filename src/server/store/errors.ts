import { DomainError } from '../errors/index.js';
import type { ExpectedVersion } from './types.js';

/** The stream is not at the version the client expected (optimistic concurrency). */
export class VersionConflictError extends DomainError {
  readonly code = 'version_conflict';

  constructor(
    readonly entityId: string,
    readonly expected: ExpectedVersion,
    readonly current: number,
    index?: number,
  ) {
    super(`entity ${JSON.stringify(entityId)} is at version ${current}, expected ${String(expected)}`, {
      expected_version: expected,
      current_version: current,
      entity_id: entityId,
      ...(index === undefined ? {} : { index }),
    });
  }
}

/** An `event_id` that was already used for an event with different content. */
export class DuplicateEventIdError extends DomainError {
  readonly code = 'duplicate_event_id';

  constructor(eventId: string, index?: number) {
    super(`event_id ${eventId} was already used for a different event`, {
      event_id: eventId,
      ...(index === undefined ? {} : { index }),
    });
  }
}

/** The store is shutting down and takes no more writes. */
export class StoreClosedError extends DomainError {
  readonly code = 'store_closed';

  constructor() {
    super('the event store is shutting down');
  }
}
