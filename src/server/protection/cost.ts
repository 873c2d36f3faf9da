/**
 * What a request costs in tokens (seed: "Cost-Based: expensive operations can consume multiple
 * tokens"). Plain requests cost 1. A batch costs by its size and a query by its limit, at rates
 * taken from the bench: a 1,000-event batch ingests about 10 times the events per second of
 * single appends for about 100 times the work of one request, so 10 events cost one token; a
 * query reads rows at roughly 100 per single append's cost, so 100 rows of `limit` cost one.
 */
export const EVENTS_PER_TOKEN = 10;
export const ROWS_PER_TOKEN = 100;
/** A query without a limit streams every match; it is charged as this many rows, the summary lists' page. */
export const UNBOUNDED_QUERY_ROWS = 1_000;

const QUERY_PATH = /^\/api\/v1\/events\/query\/?$/;

/** The cost known from the request line alone (method, path, query), before any body is read. */
export function requestCost(method: string, path: string, query: Record<string, unknown>): number {
  if (method !== 'GET' || !QUERY_PATH.test(path)) return 1;
  const text = query['limit'];
  const limit = typeof text === 'string' && /^\d{1,9}$/.test(text) ? Number(text) : UNBOUNDED_QUERY_ROWS;
  return Math.max(1, Math.ceil(limit / ROWS_PER_TOKEN));
}

/** The cost of a batch of `events` events; the request's first token was already charged. */
export function batchCost(events: number): number {
  return Math.max(1, Math.ceil(events / EVENTS_PER_TOKEN));
}
