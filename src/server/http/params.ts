import { InvalidRequestError } from '../errors/index.js';
import {
  entityIdProblem,
  eventTypePrefixProblem,
  eventTypeProblem,
  type EventQuery,
  type SortOrder,
} from '../store/index.js';

type QueryValue = unknown;
type QueryParams = Record<string, QueryValue>;

function bad(name: string, problem: string): InvalidRequestError {
  return new InvalidRequestError(`parameter ${name} ${problem}`, [{ path: name, problem }]);
}

/** A parameter given once, as a string; repeated parameters are refused rather than guessed at. */
export function single(params: QueryParams, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(name, 'must be given once');
  return value;
}

export function integerParam(params: QueryParams, name: string, min: number, max: number): number | undefined {
  const text = single(params, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text)) throw bad(name, `must be a whole number from ${min} to ${max}`);
  const value = Number(text);
  if (value < min || value > max) throw bad(name, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** RFC 3339 date-time (UTC or with an offset), as milliseconds since the epoch. */
export function timeParam(params: QueryParams, name: string): number | undefined {
  const text = single(params, name);
  if (text === undefined) return undefined;
  const valid = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(text);
  // Date.parse rolls impossible dates over (2024-02-30 becomes March 1st) and takes hour 24.
  const ms = valid && isRealDateTime(text) ? Date.parse(text.replace(' ', 'T')) : Number.NaN;
  if (Number.isNaN(ms)) throw bad(name, 'must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z');
  return ms;
}

function isRealDateTime(text: string): boolean {
  const [year, month, day, hour] = [text.slice(0, 4), text.slice(5, 7), text.slice(8, 10), text.slice(11, 13)].map(
    Number,
  );
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1];
  return daysInMonth !== undefined && day! >= 1 && day! <= daysInMonth && hour! < 24;
}

function checked(params: QueryParams, name: string, problemOf: (value: string) => string | undefined) {
  const value = single(params, name);
  if (value === undefined) return undefined;
  const problem = problemOf(value);
  if (problem) throw bad(name, problem);
  return value;
}

export function entityIdParam(params: QueryParams, name = 'entity_id'): string | undefined {
  return checked(params, name, entityIdProblem);
}

export function eventTypePrefixParam(params: QueryParams): string | undefined {
  return checked(params, 'event_type_prefix', eventTypePrefixProblem);
}

function payloadFilterParam(params: QueryParams): Record<string, unknown> | undefined {
  const text = single(params, 'payload_filter');
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('payload_filter', 'must be a JSON object, e.g. {"status":"active"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('payload_filter', 'must be a JSON object, e.g. {"status":"active"}');
  }
  return value as Record<string, unknown>;
}

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The parameters of GET /api/v1/events/query. Unknown parameters are ignored, as allsource-core does. */
export function parseEventQuery(params: QueryParams): EventQuery {
  const order = single(params, 'order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw bad('order', 'must be "asc" or "desc"');
  const until = timeParam(params, 'until');
  const asOf = timeParam(params, 'as_of');
  const query: EventQuery = { offset: integerParam(params, 'offset', 0, MAX_SAFE) ?? 0, order: order as SortOrder };
  const assign = <K extends keyof EventQuery>(key: K, value: EventQuery[K] | undefined) => {
    if (value !== undefined) query[key] = value;
  };
  assign('entityId', entityIdParam(params));
  assign('eventType', checked(params, 'event_type', eventTypeProblem));
  assign('eventTypePrefix', eventTypePrefixParam(params));
  assign('since', timeParam(params, 'since'));
  assign('until', until === undefined ? asOf : asOf === undefined ? until : Math.min(until, asOf));
  assign('afterPosition', integerParam(params, 'after_position', 0, MAX_SAFE));
  assign('limit', integerParam(params, 'limit', 0, MAX_SAFE));
  assign('payloadFilter', payloadFilterParam(params));
  return query;
}

/** limit/offset for the summary lists, which are bounded: 1,000 by default, 10,000 at most. */
export function parsePage(params: QueryParams): { limit: number; offset: number } {
  return {
    limit: integerParam(params, 'limit', 0, 10_000) ?? 1000,
    offset: integerParam(params, 'offset', 0, MAX_SAFE) ?? 0,
  };
}
