import { parse as parseUuid, validate as isUuid } from 'uuid';
import { InvalidRequestError, type FieldProblem } from '../errors/index.js';
import { findJsonProblem } from './json-check.js';
import type { ExpectedVersion, ValidatedEvent } from './types.js';

export const MAX_BATCH_EVENTS = 10_000;
export const MAX_EVENT_TYPE_LENGTH = 128;
export const MAX_ENTITY_ID_LENGTH = 256;

const EVENT_TYPE_PATTERN = /^[a-z0-9_-](?:[a-z0-9._-]*[a-z0-9_-])?$/;
const EVENT_TYPE_PREFIX_PATTERN = /^[a-z0-9._-]{1,128}$/;
// C0 and C1 control characters and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const EXPECTED_KEYWORDS = new Set(['any', 'no_stream', 'stream_exists']);

/** Returns why `value` is not a valid event type, or undefined when it is one. */
export function eventTypeProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0 || value.length > MAX_EVENT_TYPE_LENGTH) {
    return `must be 1 to ${MAX_EVENT_TYPE_LENGTH} characters`;
  }
  if (!EVENT_TYPE_PATTERN.test(value) || value.includes('..')) {
    return 'may hold only a-z, 0-9, ".", "_" and "-", with no leading or trailing dot and no ".."';
  }
  return undefined;
}

export function eventTypePrefixProblem(value: string): string | undefined {
  return EVENT_TYPE_PREFIX_PATTERN.test(value) ? undefined : 'may hold only a-z, 0-9, ".", "_" and "-"';
}

/** Returns why `value` is not a valid entity id, or undefined when it is one. */
export function entityIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  // Length in code points, so that non-Latin ids get the same 256 characters.
  if (value.length > MAX_ENTITY_ID_LENGTH && [...value].length > MAX_ENTITY_ID_LENGTH) {
    return `must be at most ${MAX_ENTITY_ID_LENGTH} characters`;
  }
  if (CONTROL_CHARACTER.test(value)) return 'must not contain control characters';
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

function expectedVersionProblem(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? undefined : 'must be a non-negative integer';
  }
  if (typeof value === 'string' && EXPECTED_KEYWORDS.has(value)) return undefined;
  return 'must be a non-negative integer, "any", "no_stream" or "stream_exists"';
}

/**
 * Checks one event of a request and serialises its metadata; the payload is serialised by the
 * store, which knows whether a field policy seals part of it.
 * `at` is the JSON pointer of the event in the request ("" or "/events/3").
 */
export function validateEvent(input: unknown, at: string): ValidatedEvent | FieldProblem[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [{ path: at || '/', problem: 'must be a JSON object' }];
  }
  const event = input as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const note = (field: string, problem: string | undefined): void => {
    if (problem) problems.push({ path: `${at}/${field}`, problem });
  };
  note('event_type', eventTypeProblem(event['event_type']));
  note('entity_id', entityIdProblem(event['entity_id']));
  if (event['payload'] === undefined) {
    note('payload', 'is required');
  } else {
    const problem = findJsonProblem(event['payload'], `${at}/payload`);
    if (problem) problems.push(problem);
  }
  if (event['metadata'] !== undefined) {
    const problem = findJsonProblem(event['metadata'], `${at}/metadata`);
    if (problem) problems.push(problem);
  }
  const expected = event['expected_version'];
  if (expected !== undefined && expected !== null) note('expected_version', expectedVersionProblem(expected));
  const eventId = event['event_id'];
  if (eventId !== undefined && eventId !== null && (typeof eventId !== 'string' || !isUuid(eventId))) {
    note('event_id', 'must be a UUID');
  }
  if (problems.length > 0) return problems;

  return {
    eventType: event['event_type'] as string,
    entityId: event['entity_id'] as string,
    payload: event['payload'],
    metadataJson:
      event['metadata'] === undefined || event['metadata'] === null ? null : JSON.stringify(event['metadata']),
    expected: (expected ?? 'any') as ExpectedVersion,
    eventId: typeof eventId === 'string' ? parseUuid(eventId) : null,
  };
}

/** Validates a single event or throws InvalidRequestError naming every problem. */
export function validateOne(input: unknown): ValidatedEvent {
  const result = validateEvent(input, '');
  if (Array.isArray(result)) throw new InvalidRequestError('the event is invalid', result);
  return result;
}

/**
 * Validates a whole batch; all-or-nothing, so the first invalid item rejects it and the
 * error names that item's index.
 */
export function validateBatch(input: unknown): ValidatedEvent[] {
  if (!Array.isArray(input)) {
    throw new InvalidRequestError('the batch is invalid', [{ path: '/events', problem: 'must be an array' }]);
  }
  if (input.length === 0) {
    throw new InvalidRequestError('the batch is empty', [{ path: '/events', problem: 'must hold at least one event' }]);
  }
  if (input.length > MAX_BATCH_EVENTS) {
    throw new InvalidRequestError(`a batch holds at most ${MAX_BATCH_EVENTS} events; this one has ${input.length}`, [
      { path: '/events', problem: `must hold at most ${MAX_BATCH_EVENTS} events` },
    ]);
  }
  const events: ValidatedEvent[] = [];
  for (let i = 0; i < input.length; i++) {
    const result = validateEvent(input[i], `/events/${i}`);
    if (Array.isArray(result)) {
      throw new InvalidRequestError(`event ${i} of the batch is invalid; nothing was stored`, result, { index: i });
    }
    events.push(result);
  }
  return events;
}
