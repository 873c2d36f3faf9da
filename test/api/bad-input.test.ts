import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServer, type TestServer } from '../support/server.js';

/**
 * Bad input on every route: each request must get a clear 4xx with a JSON {error, message}
 * body, store nothing, leak no stack or path, and leave the server answering /health.
 */

const MIB = 1024 * 1024;
const UNKNOWN_UUID = '0190a6e0-0000-7000-8000-000000000000';
const VALID = { event_type: 'order.created', entity_id: 'order-1', payload: { total: 1 } };

interface Req {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | URLSearchParams | FormData;
}
/** [name, request, expected status, expected error code] */
type Case = [string, Req, number, string];

const get = (path: string): Req => ({ path });
const raw = (path: string, body: string, contentType = 'application/json'): Req => ({
  method: 'POST',
  path,
  headers: { 'content-type': contentType },
  body,
});
const postEvent = (event: unknown): Req => raw('/api/v1/events', JSON.stringify(event));
const postBatch = (body: unknown): Req => raw('/api/v1/events/batch', JSON.stringify(body));
/** A valid event with one field replaced (or removed, with `undefined`). */
const withField = (field: string, value: unknown): Record<string, unknown> => {
  const event: Record<string, unknown> = { ...VALID, [field]: value };
  if (value === undefined) delete event[field];
  return event;
};
/** A valid event, as JSON text, whose payload is the raw JSON text given. */
const eventWithRawPayload = (payloadText: string): string =>
  `{"event_type":"order.created","entity_id":"order-1","payload":${payloadText}}`;

const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const oversizedEvent = `{"event_type":"a","entity_id":"e","payload":"${'x'.repeat(MIB + 16)}"}`;

// ---------------------------------------------------------------------------------------------
// Request bodies that are not usable JSON, on both write routes.

const bodyCases = (path: string): Case[] => [
  ['malformed JSON: truncated', raw(path, '{"event_type":'), 400, 'invalid_request'],
  ['malformed JSON: unquoted keys', raw(path, '{event_type: "a"}'), 400, 'invalid_request'],
  ['malformed JSON: single quotes', raw(path, "{'event_type': 'a'}"), 400, 'invalid_request'],
  ['malformed JSON: trailing comma', raw(path, '{"events": [],}'), 400, 'invalid_request'],
  ['malformed JSON: two documents', raw(path, '{}{}'), 400, 'invalid_request'],
  ['malformed JSON: trailing garbage', raw(path, '{"a":1} garbage'), 400, 'invalid_request'],
  ['malformed JSON: NaN', raw(path, 'NaN'), 400, 'invalid_request'],
  ['JSON null', raw(path, 'null'), 400, 'invalid_request'],
  ['JSON array', raw(path, '[]'), 400, 'invalid_request'],
  ['JSON string', raw(path, '"event"'), 400, 'invalid_request'],
  ['JSON number', raw(path, '42'), 400, 'invalid_request'],
  ['text/plain body', raw(path, JSON.stringify(VALID), 'text/plain'), 415, 'unsupported_media_type'],
  [
    'form-urlencoded body',
    { method: 'POST', path, body: new URLSearchParams({ event_type: 'a', entity_id: 'e', payload: '{}' }) },
    415,
    'unsupported_media_type',
  ],
  ['multipart body', { method: 'POST', path, body: formData() }, 415, 'unsupported_media_type'],
  [
    'a body with no content type',
    { method: 'POST', path, body: new TextEncoder().encode(JSON.stringify(VALID)) },
    415,
    'unsupported_media_type',
  ],
  ['application/xml body', raw(path, '<event/>', 'application/xml'), 415, 'unsupported_media_type'],
  ['application/jsonx body', raw(path, JSON.stringify(VALID), 'application/jsonx'), 415, 'unsupported_media_type'],
  [
    'a charset other than UTF-8',
    raw(path, JSON.stringify(VALID), 'application/json; charset=latin1'),
    415,
    'unsupported_media_type',
  ],
  [
    'Content-Encoding gzip that is not gzip',
    {
      ...raw(path, JSON.stringify(VALID)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    },
    400,
    'invalid_request',
  ],
  [
    'an unsupported Content-Encoding',
    {
      ...raw(path, JSON.stringify(VALID)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
    },
    415,
    'unsupported_media_type',
  ],
  ['a body over the 1 MiB limit', raw(path, oversizedEvent), 413, 'payload_too_large'],
  ['a non-JSON body over the limit', raw(path, 'x'.repeat(MIB + 16), 'text/plain'), 415, 'unsupported_media_type'],
  ['100,000 levels of nesting as the body', raw(path, nestedArrays(100_000)), 400, 'invalid_request'],
];

function formData(): FormData {
  const form = new FormData();
  form.set('event_type', 'a');
  return form;
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/events: every field of an event, wrong. [name, event, field the error must name]

type FieldCase = [string, unknown, string];

const fieldCases: FieldCase[] = [
  ['event_type missing', withField('event_type', undefined), 'event_type'],
  ['event_type null', withField('event_type', null), 'event_type'],
  ['event_type a number', withField('event_type', 42), 'event_type'],
  ['event_type an array', withField('event_type', ['a']), 'event_type'],
  ['event_type an object', withField('event_type', { a: 1 }), 'event_type'],
  ['event_type empty', withField('event_type', ''), 'event_type'],
  ['event_type upper case', withField('event_type', 'Order.Created'), 'event_type'],
  ['event_type with a space', withField('event_type', 'order created'), 'event_type'],
  ['event_type with a leading dot', withField('event_type', '.order'), 'event_type'],
  ['event_type with a trailing dot', withField('event_type', 'order.'), 'event_type'],
  ['event_type with ".."', withField('event_type', 'order..created'), 'event_type'],
  ['event_type of 129 characters', withField('event_type', 'a'.repeat(129)), 'event_type'],
  ['event_type with an emoji', withField('event_type', 'order.🧾'), 'event_type'],
  ['entity_id missing', withField('entity_id', undefined), 'entity_id'],
  ['entity_id null', withField('entity_id', null), 'entity_id'],
  ['entity_id a number', withField('entity_id', 1), 'entity_id'],
  ['entity_id a boolean', withField('entity_id', true), 'entity_id'],
  ['entity_id an object', withField('entity_id', { id: 1 }), 'entity_id'],
  ['entity_id empty', withField('entity_id', ''), 'entity_id'],
  ['entity_id of 257 characters', withField('entity_id', 'e'.repeat(257)), 'entity_id'],
  ['entity_id of 257 emoji', withField('entity_id', '😀'.repeat(257)), 'entity_id'],
  ['entity_id with a lone high surrogate', withField('entity_id', 'order-\ud800'), 'entity_id'],
  ['entity_id with a lone low surrogate', withField('entity_id', '\udc00order'), 'entity_id'],
  ['entity_id with NUL', withField('entity_id', 'order\u0000-1'), 'entity_id'],
  ['entity_id with a newline', withField('entity_id', 'order\n1'), 'entity_id'],
  ['entity_id with BEL', withField('entity_id', 'order\u00071'), 'entity_id'],
  ['entity_id with DEL', withField('entity_id', 'order\u007f1'), 'entity_id'],
  ['entity_id with a C1 control (NEL)', withField('entity_id', 'order\u00851'), 'entity_id'],
  ['payload missing', withField('payload', undefined), 'payload'],
  ['payload 100 levels of arrays', withField('payload', JSON.parse(nestedArrays(100))), 'payload'],
  ['payload 100 levels of objects', withField('payload', JSON.parse(nestedObjects(100))), 'payload'],
  ['metadata 100 levels deep', withField('metadata', JSON.parse(nestedArrays(100))), 'metadata'],
  ['expected_version negative', withField('expected_version', -1), 'expected_version'],
  ['expected_version fractional', withField('expected_version', 1.5), 'expected_version'],
  ['expected_version a numeric string', withField('expected_version', '1'), 'expected_version'],
  ['expected_version an unknown keyword', withField('expected_version', 'latest'), 'expected_version'],
  ['expected_version a boolean', withField('expected_version', true), 'expected_version'],
  ['expected_version an array', withField('expected_version', [1]), 'expected_version'],
  ['expected_version past 2^53', withField('expected_version', 2 ** 53 + 2), 'expected_version'],
  ['event_id not a UUID', withField('event_id', 'not-a-uuid'), 'event_id'],
  ['event_id a UUID with junk', withField('event_id', `${UNKNOWN_UUID}x`), 'event_id'],
  ['event_id a number', withField('event_id', 12345), 'event_id'],
  ['event_id an object', withField('event_id', { id: UNKNOWN_UUID }), 'event_id'],
  ['event_id empty', withField('event_id', ''), 'event_id'],
];

// Numbers JSON.parse cannot carry faithfully, sent as raw text. [name, body, field]
const hugeNumberCases: Array<[string, string, string]> = [
  ['payload 1e400', eventWithRawPayload('{"n":1e400}'), 'payload/n'],
  ['payload -1e400', eventWithRawPayload('{"n":-1e400}'), 'payload/n'],
  ['payload 12345678901234567890', eventWithRawPayload('{"n":12345678901234567890}'), 'payload/n'],
  ['payload a bare 1e400', eventWithRawPayload('1e400'), 'payload'],
  ['payload 1e400 deep in an array', eventWithRawPayload('{"a":[1,2,{"b":[1e400]}]}'), 'payload/a/2/b/0'],
  [
    'metadata 12345678901234567890',
    '{"event_type":"a","entity_id":"e","payload":{},"metadata":{"n":12345678901234567890}}',
    'metadata/n',
  ],
  [
    'expected_version 1e400',
    '{"event_type":"a","entity_id":"e","payload":{},"expected_version":1e400}',
    'expected_version',
  ],
  [
    'expected_version 12345678901234567890',
    '{"event_type":"a","entity_id":"e","payload":{},"expected_version":12345678901234567890}',
    'expected_version',
  ],
];

const deepBodyCases: Case[] = [
  [
    'payload 100,000 levels of [[[...]]]',
    raw('/api/v1/events', eventWithRawPayload(nestedArrays(100_000))),
    400,
    'invalid_request',
  ],
  [
    'payload 100,000 levels of {"a":...}',
    raw('/api/v1/events', eventWithRawPayload(nestedObjects(100_000))),
    400,
    'invalid_request',
  ],
];

// ---------------------------------------------------------------------------------------------
// POST /api/v1/events/batch

const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ event_type: 'a', entity_id: `e${i % 10}`, payload: 0 }));

const batchCases: Case[] = [
  ['empty batch', postBatch({ events: [] }), 400, 'invalid_request'],
  ['no events field', postBatch({}), 400, 'invalid_request'],
  ['events null', postBatch({ events: null }), 400, 'invalid_request'],
  ['events an object', postBatch({ events: { 0: VALID } }), 400, 'invalid_request'],
  ['events a string', postBatch({ events: 'x' }), 400, 'invalid_request'],
  ['10,001 events', postBatch({ events: tooMany }), 400, 'invalid_request'],
  ['an item that is null', postBatch({ events: [VALID, null] }), 400, 'invalid_request'],
  ['an item that is an array', postBatch({ events: [VALID, [VALID]] }), 400, 'invalid_request'],
  [
    '100 levels of nesting in an item',
    postBatch({ events: [VALID, withField('payload', JSON.parse(nestedArrays(100)))] }),
    400,
    'invalid_request',
  ],
  [
    '100,000 levels of nesting in an item',
    raw('/api/v1/events/batch', `{"events":[${JSON.stringify(VALID)},${eventWithRawPayload(nestedArrays(100_000))}]}`),
    400,
    'invalid_request',
  ],
  [
    '1e400 in an item',
    raw('/api/v1/events/batch', `{"events":[${JSON.stringify(VALID)},${eventWithRawPayload('{"n":1e400}')}]}`),
    400,
    'invalid_request',
  ],
  [
    'the same event_id twice with different content',
    postBatch({
      events: [withField('event_id', UNKNOWN_UUID), { ...withField('event_id', UNKNOWN_UUID), payload: { total: 2 } }],
    }),
    409,
    'duplicate_event_id',
  ],
  [
    'a version conflict in the last item',
    postBatch({ events: [VALID, VALID, withField('expected_version', 1)] }),
    409,
    'version_conflict',
  ],
];

/** Batches with one bad item among good ones: the reply names the item, nothing is stored. */
const batchItemCases: Array<[string, unknown, number, string]> = fieldCases
  .filter(([name]) => !name.includes('100 levels'))
  .map(([name, event, field]) => [name, event, 2, field]);

// ---------------------------------------------------------------------------------------------
// Query parameters and path parameters on the read routes.

const long = (n: number) => 'a'.repeat(n);

const queryCases: Case[] = [
  ['order=up', get('/api/v1/events/query?order=up'), 400, 'invalid_request'],
  ['order=ASC', get('/api/v1/events/query?order=ASC'), 400, 'invalid_request'],
  ['order given twice', get('/api/v1/events/query?order=asc&order=desc'), 400, 'invalid_request'],
  ['limit=-1', get('/api/v1/events/query?limit=-1'), 400, 'invalid_request'],
  ['limit=abc', get('/api/v1/events/query?limit=abc'), 400, 'invalid_request'],
  ['limit=1.5', get('/api/v1/events/query?limit=1.5'), 400, 'invalid_request'],
  ['limit=1e3', get('/api/v1/events/query?limit=1e3'), 400, 'invalid_request'],
  ['limit empty', get('/api/v1/events/query?limit='), 400, 'invalid_request'],
  ['limit of 20 digits', get('/api/v1/events/query?limit=12345678901234567890'), 400, 'invalid_request'],
  ['limit given twice', get('/api/v1/events/query?limit=1&limit=2'), 400, 'invalid_request'],
  ['offset=-1', get('/api/v1/events/query?offset=-1'), 400, 'invalid_request'],
  ['after_position=abc', get('/api/v1/events/query?after_position=abc'), 400, 'invalid_request'],
  ['entity_id given twice', get('/api/v1/events/query?entity_id=a&entity_id=b'), 400, 'invalid_request'],
  ['entity_id with NUL', get('/api/v1/events/query?entity_id=a%00b'), 400, 'invalid_request'],
  ['entity_id of 257 characters', get(`/api/v1/events/query?entity_id=${long(257)}`), 400, 'invalid_request'],
  ['event_type=Bad.Type', get('/api/v1/events/query?event_type=Bad.Type'), 400, 'invalid_request'],
  ['event_type_prefix upper case', get('/api/v1/events/query?event_type_prefix=ORDER'), 400, 'invalid_request'],
  ['event_type_prefix empty', get('/api/v1/events/query?event_type_prefix='), 400, 'invalid_request'],
  ['event_type_prefix with a space', get('/api/v1/events/query?event_type_prefix=order%20x'), 400, 'invalid_request'],
  ['event_type_prefix with a wildcard', get('/api/v1/events/query?event_type_prefix=order.*'), 400, 'invalid_request'],
  [
    'event_type_prefix of 129 characters',
    get(`/api/v1/events/query?event_type_prefix=${long(129)}`),
    400,
    'invalid_request',
  ],
  ['since=yesterday', get('/api/v1/events/query?since=yesterday'), 400, 'invalid_request'],
  ['since a date without a time', get('/api/v1/events/query?since=2024-01-01'), 400, 'invalid_request'],
  ['since without a zone', get('/api/v1/events/query?since=2024-01-01T00:00:00'), 400, 'invalid_request'],
  ['since in month 13', get('/api/v1/events/query?since=2024-13-01T00:00:00Z'), 400, 'invalid_request'],
  ['until on February 30th', get('/api/v1/events/query?until=2024-02-30T00:00:00Z'), 400, 'invalid_request'],
  ['until on April 31st', get('/api/v1/events/query?until=2024-04-31T00:00:00Z'), 400, 'invalid_request'],
  ['until at hour 24', get('/api/v1/events/query?until=2024-01-01T24:00:00Z'), 400, 'invalid_request'],
  ['as_of as epoch seconds', get('/api/v1/events/query?as_of=1700000000'), 400, 'invalid_request'],
  [
    'since given twice',
    get('/api/v1/events/query?since=2024-01-01T00:00:00Z&since=2024-01-02T00:00:00Z'),
    400,
    'invalid_request',
  ],
  ['payload_filter not JSON', get('/api/v1/events/query?payload_filter=status:active'), 400, 'invalid_request'],
  [
    'payload_filter truncated JSON',
    get(`/api/v1/events/query?payload_filter=${encodeURIComponent('{"a":')}`),
    400,
    'invalid_request',
  ],
  [
    'payload_filter an array',
    get(`/api/v1/events/query?payload_filter=${encodeURIComponent('[1]')}`),
    400,
    'invalid_request',
  ],
  ['payload_filter a number', get('/api/v1/events/query?payload_filter=1'), 400, 'invalid_request'],
  [
    'payload_filter a string',
    get(`/api/v1/events/query?payload_filter=${encodeURIComponent('"x"')}`),
    400,
    'invalid_request',
  ],
  ['payload_filter null', get('/api/v1/events/query?payload_filter=null'), 400, 'invalid_request'],
];

const eventByIdCases: Case[] = [
  ['not a UUID', get('/api/v1/events/not-a-uuid'), 400, 'invalid_request'],
  ['a number', get('/api/v1/events/12345'), 400, 'invalid_request'],
  ['a UUID with junk after it', get(`/api/v1/events/${UNKNOWN_UUID}0`), 400, 'invalid_request'],
  ['a UUID in braces', get(`/api/v1/events/%7B${UNKNOWN_UUID}%7D`), 400, 'invalid_request'],
  ['bad percent-encoding', get('/api/v1/events/%ZZ'), 400, 'invalid_request'],
  ['an unknown UUID', get(`/api/v1/events/${UNKNOWN_UUID}`), 404, 'not_found'],
  ['an unknown UUID in upper case', get(`/api/v1/events/${UNKNOWN_UUID.toUpperCase()}`), 404, 'not_found'],
];

const subscribeCases: Case[] = [
  ['from_position=-1', get('/api/v1/events/subscribe?from_position=-1'), 400, 'invalid_request'],
  ['from_position=abc', get('/api/v1/events/subscribe?from_position=abc'), 400, 'invalid_request'],
  [
    'from_position given twice',
    get('/api/v1/events/subscribe?from_position=1&from_position=2'),
    400,
    'invalid_request',
  ],
  ['entity_id with a control character', get('/api/v1/events/subscribe?entity_id=a%01b'), 400, 'invalid_request'],
  ['entity_id given twice', get('/api/v1/events/subscribe?entity_id=a&entity_id=b'), 400, 'invalid_request'],
  ['event_type_prefix upper case', get('/api/v1/events/subscribe?event_type_prefix=ORDER'), 400, 'invalid_request'],
];

const pageCases = (path: string): Case[] => [
  ['limit=-1', get(`${path}?limit=-1`), 400, 'invalid_request'],
  ['limit=abc', get(`${path}?limit=abc`), 400, 'invalid_request'],
  ['limit over 10,000', get(`${path}?limit=10001`), 400, 'invalid_request'],
  ['limit given twice', get(`${path}?limit=1&limit=2`), 400, 'invalid_request'],
  ['offset=-5', get(`${path}?offset=-5`), 400, 'invalid_request'],
  ['offset=1.5', get(`${path}?offset=1.5`), 400, 'invalid_request'],
  ['POST', { ...postEvent(VALID), path }, 404, 'not_found'],
];

const entityStateCases: Case[] = [
  ['entity id with NUL', get('/api/v1/entities/a%00b/state'), 400, 'invalid_request'],
  ['entity id with BEL', get('/api/v1/entities/a%07b/state'), 400, 'invalid_request'],
  ['entity id of 257 characters', get(`/api/v1/entities/${long(257)}/state`), 400, 'invalid_request'],
  ['bad percent-encoding', get('/api/v1/entities/%E0%A4%A/state'), 400, 'invalid_request'],
  ['an encoded lone surrogate', get('/api/v1/entities/a%ED%A0%80b/state'), 400, 'invalid_request'],
  ['as_of not a time', get('/api/v1/entities/order-1/state?as_of=now'), 400, 'invalid_request'],
  ['as_of on February 30th', get('/api/v1/entities/order-1/state?as_of=2024-02-30T00:00:00Z'), 400, 'invalid_request'],
  [
    'as_of given twice',
    get('/api/v1/entities/order-1/state?as_of=2024-01-01T00:00:00Z&as_of=2024-01-01T00:00:00Z'),
    400,
    'invalid_request',
  ],
  [
    'include_history given twice',
    get('/api/v1/entities/order-1/state?include_history=true&include_history=false'),
    400,
    'invalid_request',
  ],
  ['an entity with no events', get('/api/v1/entities/nobody-here/state'), 404, 'not_found'],
];

const statsCases: Case[] = [
  ['POST', { ...postEvent(VALID), path: '/api/v1/stats' }, 404, 'not_found'],
  ['DELETE', { method: 'DELETE', path: '/api/v1/stats' }, 404, 'not_found'],
  ['a sub-path', get('/api/v1/stats/events'), 404, 'not_found'],
  ['POST with a text body', raw('/api/v1/stats', 'hello', 'text/plain'), 415, 'unsupported_media_type'],
];

const healthAndMetricsCases: Case[] = [
  ['POST /health', { ...postEvent(VALID), path: '/health' }, 404, 'not_found'],
  ['PUT /health', { method: 'PUT', path: '/health' }, 404, 'not_found'],
  ['GET /health/extra', get('/health/extra'), 404, 'not_found'],
  ['POST /metrics', { ...postEvent(VALID), path: '/metrics' }, 404, 'not_found'],
  ['DELETE /metrics', { method: 'DELETE', path: '/metrics' }, 404, 'not_found'],
  ['GET /metrics.json', get('/metrics.json'), 404, 'not_found'],
];

const unknownRouteCases: Case[] = [
  ['GET /api/v1/nope', get('/api/v1/nope'), 404, 'not_found'],
  ['GET /api/v2/events/query', get('/api/v2/events/query'), 404, 'not_found'],
  ['GET /api/v1/events (POST only)', get('/api/v1/events'), 404, 'not_found'],
  ['PUT /api/v1/events', { ...postEvent(VALID), method: 'PUT' }, 404, 'not_found'],
  ['PATCH /api/v1/events/batch', { ...postBatch({ events: [VALID] }), method: 'PATCH' }, 404, 'not_found'],
  ['DELETE /api/v1/events/:id', { method: 'DELETE', path: `/api/v1/events/${UNKNOWN_UUID}` }, 404, 'not_found'],
  ['POST /api/v1/events/query', { ...postEvent(VALID), path: '/api/v1/events/query' }, 404, 'not_found'],
  ['GET /api/v1/events/query/extra', get('/api/v1/events/query/extra'), 404, 'not_found'],
  ['GET /api/v1/entities/x (no /state)', get('/api/v1/entities/x'), 404, 'not_found'],
  ['GET /%ZZ', get('/%ZZ'), 404, 'not_found'],
  ['GET /node_modules/express/package.json', get('/node_modules/express/package.json'), 404, 'not_found'],
];

// ---------------------------------------------------------------------------------------------

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.dispose();
});

async function send(req: Req) {
  return api(server.url, req.path, {
    method: req.method ?? 'GET',
    ...(req.headers ? { headers: req.headers } : {}),
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
}

async function stats(): Promise<{ total_events: number; total_entities: number; total_event_types: number }> {
  const res = await api(server.url, '/api/v1/stats');
  expect(res.status).toBe(200);
  return res.body;
}

/** A stack frame ("    at fn (file:1:2)") or an internal path must never reach a client. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\n\s*at\s/);
  expect(text).not.toMatch(/\bat \S+ \(|\bat (?:file|node):|\(\/[^)]*:\d+:\d+\)/);
  for (const fragment of ['/work', 'node_modules', 'file://', server.dataDir, '/tmp/', 'Error:']) {
    expect(text).not.toContain(fragment);
  }
}

type Reply = Awaited<ReturnType<typeof send>>;

function expectCleanError(res: Reply, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { error: code } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof res.body.message).toBe('string');
  expect(res.body.message.length).toBeGreaterThan(0);
  expectNoInternals(res.text);
}

async function expectServerHealthy(): Promise<void> {
  const health = await api(server.url, '/health');
  expect(health.status).toBe(200);
  expect(health.body).toMatchObject({ status: 'healthy', service: 'allsource-core' });
}

/** Sends the request, checks the error, that nothing was stored, and that the server lives on. */
async function expectRejected(req: Req, status: number, code: string): Promise<Reply> {
  const before = await stats();
  const res = await send(req);
  expectCleanError(res, status, code);
  expect(await stats()).toEqual(before);
  await expectServerHealthy();
  return res;
}

const groups: Array<{ route: string; cases: Case[] }> = [
  { route: 'POST /api/v1/events bodies', cases: [...bodyCases('/api/v1/events'), ...deepBodyCases] },
  { route: 'POST /api/v1/events/batch bodies', cases: [...bodyCases('/api/v1/events/batch'), ...batchCases] },
  { route: 'GET /api/v1/events/query', cases: queryCases },
  { route: 'GET /api/v1/events/:event_id', cases: eventByIdCases },
  { route: 'GET /api/v1/events/subscribe', cases: subscribeCases },
  { route: 'GET /api/v1/streams', cases: pageCases('/api/v1/streams') },
  { route: 'GET /api/v1/event-types', cases: pageCases('/api/v1/event-types') },
  { route: 'GET /api/v1/entities/:entity_id/state', cases: entityStateCases },
  { route: 'GET /api/v1/stats', cases: statsCases },
  { route: '/health and /metrics', cases: healthAndMetricsCases },
  { route: 'unknown routes', cases: unknownRouteCases },
];

describe('bad input is refused with a clear 4xx, stores nothing, and the server lives on', () => {
  beforeAll(async () => {
    // One stored event, so that reads have something they could wrongly return or change.
    const res = await api(server.url, '/api/v1/events', { json: VALID });
    expect(res.status).toBe(201);
  });

  describe.each(groups)('$route', ({ cases }) => {
    it.each(cases)('%s', async (_name, req, status, code) => {
      await expectRejected(req, status, code);
    });
  });

  describe('POST /api/v1/events: wrong fields are named', () => {
    it.each(fieldCases)('%s', async (_name, event, field) => {
      const res = await expectRejected(postEvent(event), 400, 'invalid_request');
      expect(res.body.details).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: expect.stringMatching(new RegExp(`^/${field}(/|$)`)) }),
        ]),
      );
    });

    it.each(hugeNumberCases)('%s', async (_name, body, field) => {
      const res = await expectRejected(raw('/api/v1/events', body), 400, 'invalid_request');
      expect(res.body.details).toEqual([expect.objectContaining({ path: `/${field}` })]);
    });
  });

  describe('POST /api/v1/events/batch: one bad item among good ones rejects the whole batch', () => {
    it.each(batchItemCases)('%s', async (_name, bad, index, field) => {
      const events = [
        { ...VALID, entity_id: 'batch-good-1' },
        { ...VALID, entity_id: 'batch-good-2' },
        bad,
        { ...VALID, entity_id: 'batch-good-3' },
      ];
      const res = await expectRejected(postBatch({ events }), 400, 'invalid_request');
      expect(res.body.index).toBe(index);
      expect(res.body.details).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: expect.stringMatching(new RegExp(`^/events/${index}/${field}(/|$)`)) }),
        ]),
      );
      const goods = await api(server.url, '/api/v1/events/query?entity_id=batch-good-1');
      expect(goods.body.total_count).toBe(0);
    });
  });

  it('no bad request was answered with a 500, and the ingest counter matches the store', async () => {
    const metrics = await api(server.url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).not.toMatch(/allsource_http_requests_total\{[^}]*status="5\d\d"/);
    const ingested = /allsource_events_ingested_total\{tenant_id="default"\} (\d+)/.exec(metrics.text);
    expect(Number(ingested?.[1])).toBe((await stats()).total_events);
  });
});

describe('odd but valid unicode is accepted and round-trips exactly', () => {
  const entityIds: Array<[string, string]> = [
    ['emoji', 'order-🧾-😀'],
    ['a ZWJ emoji sequence and a flag', 'family-👨‍👩‍👧‍👦-🇳🇿'],
    ['right-to-left text', 'طلب-١٢٣-הזמנה'],
    ['an RTL override and zero-width characters', 'abc\u202edef\u200b\u200d'],
    ['combining marks and astral CJK', 'e\u0301\u0301-𠜎𠜱'],
    ['256 emoji (the limit in characters)', '😀'.repeat(256)],
  ];

  it.each(entityIds)('entity_id with %s', async (_name, entityId) => {
    const payload = {
      note: `${entityId} ✓ — مرحبا — \u0000NUL and \u001fcontrol inside a payload string are fine`,
      [`key-${entityId}`]: ['🧾', { nested: 'שלום 👋' }],
    };
    const metadata = { source: '📱 app', rtl: 'עברית' };
    const before = await stats();
    const created = await api(server.url, '/api/v1/events', {
      json: { event_type: 'unicode.checked', entity_id: entityId, payload, metadata },
    });
    expect(created.status).toBe(201);
    expect((await stats()).total_events).toBe(before.total_events + 1);

    const byId = await api(server.url, `/api/v1/events/${created.body.event_id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.event).toMatchObject({ entity_id: entityId, payload, metadata });

    const byQuery = await api(server.url, `/api/v1/events/query?entity_id=${encodeURIComponent(entityId)}`);
    expect(byQuery.status).toBe(200);
    expect(byQuery.body.events).toHaveLength(1);
    expect(byQuery.body.events[0].entity_id).toBe(entityId);
    expect(byQuery.body.events[0].payload).toEqual(payload);

    const state = await api(server.url, `/api/v1/entities/${encodeURIComponent(entityId)}/state`);
    expect(state.status).toBe(200);
    expect(state.body.entity_id).toBe(entityId);

    const streams = await api(server.url, '/api/v1/streams');
    expect(streams.body.streams.map((s: { stream_id: string }) => s.stream_id)).toContain(entityId);
    await expectServerHealthy();
  });
});
