import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  bearer,
  createKey,
  createTenant,
  createUser,
  rawAuthorization,
  xApiKey,
  type Headers,
  type TestKey,
  type TestUser,
} from '../support/identity.js';
import { openSse, type SseClient } from '../support/sse.js';
import { api, startServer, type TestServer } from '../support/server.js';

/**
 * The cross-tenant matrix (issue 3, "Tenant isolation"). Tenant alpha holds events, streams,
 * event types, users and API keys. Every route is then called with tenant beta's credentials
 * (its admin's token, its admin API key, its readonly API key): nothing of alpha may be read,
 * changed, or even counted; a foreign id is "not found", never "forbidden"; a tenant_id naming
 * alpha is refused with 403. At the end alpha's data must be exactly as it was.
 */

const SECRET = 'ALPHA-SECRET';
const UNKNOWN_UUID = '0190a6e0-0000-7000-8000-000000000000';
const UNKNOWN_V4 = '5f2b8c3e-1d4a-4e6b-9c7d-0a1b2c3d4e5f';

interface StoredEvent {
  id: string;
  entity_id: string;
  event_type: string;
  payload: Record<string, unknown>;
}

let server: TestServer;
let alphaAdmin: TestUser;
let alphaDev: TestUser;
let betaAdmin: TestUser;
let alphaAdminKey: TestKey;
let alphaReadonlyKey: TestKey;
let betaAdminKey: TestKey;
let betaReadonlyKey: TestKey;
const alphaEvents: StoredEvent[] = [];
/** Every event beta stored, in position order: what beta's reads must show, and all they may show. */
const betaEvents: StoredEvent[] = [];

// Credentials are made in beforeAll; the tables below name them and read them when a case runs.
type Credential = [string, () => Headers];
const betaAdmins: Credential[] = [
  ['beta admin token (Bearer)', () => bearer(betaAdmin.token)],
  ['beta admin API key (X-API-Key)', () => xApiKey(betaAdminKey.key)],
];
const betaReaders: Credential[] = [
  ...betaAdmins,
  ['beta readonly API key (raw Authorization)', () => rawAuthorization(betaReadonlyKey.key)],
];
const asAlpha = (): Headers => bearer(alphaAdmin.token);

/** Appends one event as `headers` and records it in `into`. */
async function append(
  headers: Headers,
  into: StoredEvent[],
  event: { event_type: string; entity_id: string; payload: Record<string, unknown> },
  extra: Record<string, unknown> = {},
) {
  const res = await api(server.url, '/api/v1/events', { json: { ...event, ...extra }, headers });
  expect(res.status, res.text).toBe(201);
  into.push({ id: res.body.event_id, ...event });
  return res.body as { event_id: string; version: number; position: number };
}

async function appendBatch(headers: Headers, into: StoredEvent[], events: Omit<StoredEvent, 'id'>[]) {
  const res = await api(server.url, '/api/v1/events/batch', { json: { events }, headers });
  expect(res.status, res.text).toBe(201);
  events.forEach((event, i) => into.push({ id: res.body.events[i].event_id, ...event }));
  return res.body as { events: Array<{ event_id: string; version: number; position: number }> };
}

/** Anything that only alpha has: if a reply to beta contains one of these, isolation failed. */
function alphaMarkers(): string[] {
  return [
    SECRET,
    'alpha-private-1',
    'alpha.private',
    '"tenant_id":"alpha"',
    'tenant_id="alpha"',
    alphaAdmin.id,
    alphaDev.id,
    alphaAdmin.username,
    alphaDev.username,
    alphaAdminKey.id,
    alphaReadonlyKey.id,
    ...alphaEvents.map((e) => e.id).filter((id) => !betaEvents.some((b) => b.id === id)),
  ];
}

function expectNothingOfAlpha(text: string): void {
  for (const marker of alphaMarkers()) expect(text).not.toContain(marker);
}

const distinct = (values: string[]) => [...new Set(values)].sort();

/** What beta's stats must be: counted from beta's events alone. */
function betaStats() {
  return {
    total_events: betaEvents.length,
    total_entities: distinct(betaEvents.map((e) => e.entity_id)).length,
    total_event_types: distinct(betaEvents.map((e) => e.event_type)).length,
  };
}

/** The 404 body with the requested id blanked, so that two 404s can be compared. */
const notFoundShape = (body: any, id: string) => JSON.parse(JSON.stringify(body).replaceAll(id, '<id>'));

/** A snapshot of everything alpha has, read with alpha's own token (which changes nothing). */
async function alphaSnapshot(): Promise<Record<string, unknown>> {
  const paths = [
    '/api/v1/events/query',
    '/api/v1/stats',
    '/api/v1/streams',
    '/api/v1/event-types',
    '/api/v1/auth/users',
    '/api/v1/auth/api-keys',
    '/api/v1/entities/order-1/state',
    '/api/v1/entities/alpha-private-1/state',
    ...alphaEvents.map((e) => `/api/v1/events/${e.id}`),
  ];
  const snapshot: Record<string, unknown> = {};
  for (const path of paths) {
    const res = await api(server.url, path, { headers: asAlpha() });
    expect(res.status, `${path}: ${res.text}`).toBe(200);
    snapshot[path] = res.body;
  }
  // The tenant record, as the platform admin sees it.
  snapshot['tenant'] = (await api(server.url, '/api/v1/tenants/alpha')).body;
  return snapshot;
}

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'alpha', 'Alpha Corp');
  await createTenant(server.url, 'beta', 'Beta Corp');
  // The platform admin (the bootstrap key of tenant default) registers each tenant's first admin.
  alphaAdmin = await createUser(server.url, { username: 'alpha-admin', tenant_id: 'alpha', role: 'admin' });
  betaAdmin = await createUser(server.url, { username: 'beta-admin', tenant_id: 'beta', role: 'admin' });
  // Alpha's own admin registers a second user into alpha (no tenant_id: its own).
  alphaDev = await createUser(
    server.url,
    { username: 'alpha-dev', tenant_id: 'alpha', role: 'developer' },
    bearer(alphaAdmin.token),
  );
  alphaAdminKey = await createKey(server.url, bearer(alphaAdmin.token), { name: 'alpha-ci', role: 'admin' });
  alphaReadonlyKey = await createKey(server.url, bearer(alphaAdmin.token), { name: 'alpha-ro', role: 'readonly' });
  betaAdminKey = await createKey(server.url, bearer(betaAdmin.token), { name: 'beta-ci', role: 'admin' });
  betaReadonlyKey = await createKey(server.url, bearer(betaAdmin.token), { name: 'beta-ro', role: 'readonly' });

  // Alpha's data: several entities and types, by token and by key, single and batch.
  await append(asAlpha(), alphaEvents, {
    event_type: 'order.created',
    entity_id: 'order-1',
    payload: { secret: SECRET, total: 10 },
  });
  await append(asAlpha(), alphaEvents, { event_type: 'order.paid', entity_id: 'order-1', payload: { secret: SECRET } });
  await append(bearer(alphaDev.token), alphaEvents, {
    event_type: 'order.created',
    entity_id: 'order-2',
    payload: { secret: SECRET, total: 20 },
  });
  await append(xApiKey(alphaAdminKey.key), alphaEvents, {
    event_type: 'alpha.private',
    entity_id: 'alpha-private-1',
    payload: { secret: SECRET, status: 'active' },
  });
  await appendBatch(xApiKey(alphaAdminKey.key), alphaEvents, [
    { event_type: 'customer.registered', entity_id: 'customer-7', payload: { secret: SECRET, status: 'active' } },
    { event_type: 'customer.renamed', entity_id: 'customer-7', payload: { secret: SECRET, name: 'Ann' } },
  ]);

  // Beta's own data: the same entity id and type as alpha's, and one of its own.
  await append(bearer(betaAdmin.token), betaEvents, {
    event_type: 'order.created',
    entity_id: 'order-1',
    payload: { total: 1 },
  });
  await append(xApiKey(betaAdminKey.key), betaEvents, {
    event_type: 'beta.thing',
    entity_id: 'beta-only',
    payload: { n: 1, status: 'active' },
  });

  // One event of the platform tenant, for the platform admin's reads.
  const platform = await api(server.url, '/api/v1/events', {
    json: { event_type: 'platform.noted', entity_id: 'platform-1', payload: { n: 1 } },
  });
  expect(platform.status).toBe(201);
});

afterAll(async () => {
  await server?.dispose();
});

describe('setup: each tenant has its own numbering', () => {
  it("beta's first events are positions 1 and 2 and version 1, whatever alpha holds", async () => {
    const res = await api(server.url, '/api/v1/events/query', { headers: bearer(betaAdmin.token) });
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: any) => [e.position, e.version, e.entity_id, e.tenant_id])).toEqual([
      [1, 1, 'order-1', 'beta'],
      [2, 1, 'beta-only', 'beta'],
    ]);
    const alpha = await api(server.url, '/api/v1/events/query', { headers: asAlpha() });
    expect(alpha.body.total_count).toBe(6);
    expect(alpha.body.events.every((e: any) => e.tenant_id === 'alpha')).toBe(true);
  });
});

describe('live reads: beta never receives alpha’s events', () => {
  const clients: SseClient[] = [];
  const sockets: WebSocket[] = [];
  afterAll(() => {
    clients.forEach((c) => c.close());
    sockets.forEach((s) => s.close());
  });

  async function subscribe(params: string, headers: Headers): Promise<SseClient> {
    const client = await openSse(`${server.url}/api/v1/events/subscribe${params}`, headers);
    clients.push(client);
    expect(client.status).toBe(200);
    await client.waitForComment('connected');
    return client;
  }

  async function connect(headers: Headers) {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/events/stream`, { headers });
    sockets.push(ws);
    const messages: any[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    await once(ws, 'open');
    return {
      ws,
      messages,
      async waitFor(count: number) {
        while (messages.length < count) await once(ws, 'message');
        return messages;
      },
      async filter(message: unknown) {
        ws.send(JSON.stringify(message));
        ws.ping();
        await once(ws, 'pong');
      },
    };
  }

  it.each(betaReaders)(
    'SSE catch-up from_position=1 with %s delivers beta’s events only, then beta’s live ones',
    async (_name, credential) => {
      const client = await subscribe('?from_position=1', credential());
      const catchUp = betaEvents.map((e) => e.id);
      await client.waitFor(catchUp.length);
      expect(client.messages.map((m) => JSON.parse(m.data).id)).toEqual(catchUp);
      // Alpha writes, then beta: the next message beta gets is beta's own.
      await append(asAlpha(), alphaEvents, {
        event_type: 'order.created',
        entity_id: 'alpha-live',
        payload: { secret: SECRET },
      });
      const mine = await append(bearer(betaAdmin.token), betaEvents, {
        event_type: 'beta.live',
        entity_id: 'beta-live',
        payload: {},
      });
      await client.waitFor(catchUp.length + 1);
      const last = JSON.parse(client.messages.at(-1)!.data);
      expect(last).toMatchObject({ id: mine.event_id, tenant_id: 'beta', position: betaEvents.length });
      expect(client.messages).toHaveLength(catchUp.length + 1);
      for (const message of client.messages) expectNothingOfAlpha(message.data);
      client.close();
    },
  );

  it('SSE filtered to an entity only alpha had, from position 1: beta’s own first event there is the first message', async () => {
    const client = await subscribe('?from_position=1&entity_id=alpha-live', xApiKey(betaReadonlyKey.key));
    const filtered = await subscribe('?from_position=1&event_type_prefix=order.', bearer(betaAdmin.token));
    const betaOrders = betaEvents.filter((e) => e.event_type.startsWith('order.')).map((e) => e.id);
    await filtered.waitFor(betaOrders.length);
    const mine = await append(xApiKey(betaAdminKey.key), betaEvents, {
      event_type: 'beta.live',
      entity_id: 'alpha-live',
      payload: { mine: true },
    });
    await client.waitFor(1);
    expect(client.messages.map((m) => JSON.parse(m.data).id)).toEqual([mine.event_id]);
    expect(filtered.messages.map((m) => JSON.parse(m.data).id)).toEqual(betaOrders);
  });

  it('WebSocket: alpha appends while beta listens with every credential; beta receives nothing of it', async () => {
    const alphaSocket = await connect(asAlpha());
    const betaSockets = await Promise.all(betaReaders.map(([, credential]) => connect(credential())));
    const betaByEntity = await connect(bearer(betaAdmin.token));
    await betaByEntity.filter({ entity_id: 'alpha-ws' });
    const betaByPattern = await connect(xApiKey(betaReadonlyKey.key));
    await betaByPattern.filter({ type: 'subscribe', filters: ['order.*', 'alpha.*'] });

    const alphaBefore = alphaEvents.length;
    await append(asAlpha(), alphaEvents, { event_type: 'order.created', entity_id: 'alpha-ws', payload: { SECRET } });
    await appendBatch(xApiKey(alphaAdminKey.key), alphaEvents, [
      { event_type: 'alpha.private', entity_id: 'alpha-ws', payload: { secret: SECRET } },
      { event_type: 'order.paid', entity_id: 'order-1', payload: { secret: SECRET } },
    ]);
    // Alpha's own listener got all three: they were delivered, just not to beta.
    await alphaSocket.waitFor(3);
    expect(alphaSocket.messages.map((m) => m.id)).toEqual(alphaEvents.slice(alphaBefore).map((e) => e.id));

    const mine = await append(bearer(betaAdmin.token), betaEvents, {
      event_type: 'order.created',
      entity_id: 'alpha-ws',
      payload: { mine: true },
    });
    for (const socket of [...betaSockets, betaByEntity, betaByPattern]) {
      await socket.waitFor(1);
      expect(socket.messages).toEqual([expect.objectContaining({ id: mine.event_id, tenant_id: 'beta' })]);
    }
  });

  it('WebSocket: a tenant_id naming alpha, in the URL or in a filter message, is refused', async () => {
    const url = `${server.url.replace('http', 'ws')}/api/v1/events/stream?tenant_id=alpha`;
    const ws = new WebSocket(url, { headers: bearer(betaAdmin.token) });
    const [error] = (await once(ws, 'error')) as [Error];
    expect(error.message).toContain('403');

    const own = await connect(bearer(betaAdmin.token));
    await own.filter({ tenant_id: 'alpha', entity_id: 'order-1' });
    await own.waitFor(1);
    expect(own.messages[0]).toMatchObject({ type: 'error', error: 'forbidden' });
    // Its own tenant is fine, and the refused message did not change the filter.
    const same = await connect(bearer(betaAdmin.token));
    await same.filter({ tenant_id: 'beta', entity_id: 'beta-ws' });
    const mine = await append(bearer(betaAdmin.token), betaEvents, {
      event_type: 'beta.live',
      entity_id: 'beta-ws',
      payload: {},
    });
    await same.waitFor(1);
    await own.waitFor(2);
    expect(same.messages).toEqual([expect.objectContaining({ id: mine.event_id })]);
    expect(own.messages[1]).toMatchObject({ id: mine.event_id });
  });
});

describe('beta’s credentials against alpha’s data', () => {
  let before: Record<string, unknown>;
  beforeAll(async () => {
    before = await alphaSnapshot();
  });

  type ReadCase = [string, () => string, (res: Awaited<ReturnType<typeof api>>) => void];

  /** A query answer holding exactly beta's events that match. */
  const betaQuery =
    (matches: (e: StoredEvent) => boolean, count?: number) => (res: Awaited<ReturnType<typeof api>>) => {
      expect(res.status, res.text).toBe(200);
      const expected = betaEvents.filter(matches).map((e) => e.id);
      expect(res.body.total_count).toBe(expected.length);
      expect(res.body.events.every((e: any) => e.tenant_id === 'beta')).toBe(true);
      if (count === undefined) {
        expect(distinct(res.body.events.map((e: any) => e.id))).toEqual(distinct(expected));
      } else {
        expect(res.body.events).toHaveLength(Math.min(count, expected.length));
      }
    };

  const query = (params: Record<string, string>) => () =>
    `/api/v1/events/query?${new URLSearchParams(params).toString()}`;

  const readCases: ReadCase[] = [
    ['query without filters', query({}), betaQuery(() => true)],
    [
      'query entity_id of an entity both have',
      query({ entity_id: 'order-1' }),
      (res) => {
        betaQuery((e) => e.entity_id === 'order-1')(res);
        expect(res.body.entity_version).toBe(betaEvents.filter((e) => e.entity_id === 'order-1').length);
      },
    ],
    [
      'query entity_id only alpha has',
      query({ entity_id: 'alpha-private-1' }),
      (res) => {
        betaQuery(() => false)(res);
        expect(res.body.entity_version ?? 0).toBe(0);
      },
    ],
    [
      'query event_type both have',
      query({ event_type: 'order.created' }),
      betaQuery((e) => e.event_type === 'order.created'),
    ],
    ['query event_type only alpha has', query({ event_type: 'alpha.private' }), betaQuery(() => false)],
    [
      'query event_type_prefix',
      query({ event_type_prefix: 'order.' }),
      betaQuery((e) => e.event_type.startsWith('order.')),
    ],
    ['query event_type_prefix only alpha has', query({ event_type_prefix: 'customer.' }), betaQuery(() => false)],
    ['query since', query({ since: '2000-01-01T00:00:00Z' }), betaQuery(() => true)],
    ['query until', query({ until: '2999-01-01T00:00:00Z' }), betaQuery(() => true)],
    ['query as_of', query({ as_of: '2999-01-01T00:00:00Z' }), betaQuery(() => true)],
    ['query after_position=0', query({ after_position: '0' }), betaQuery(() => true)],
    ['query limit and offset', query({ limit: '1', offset: '0' }), betaQuery(() => true, 1)],
    ['query order=desc', query({ order: 'desc' }), betaQuery(() => true)],
    [
      'query payload_filter on alpha’s secret',
      query({ payload_filter: JSON.stringify({ secret: SECRET }) }),
      betaQuery(() => false),
    ],
    [
      'query payload_filter matching both tenants’ payloads',
      query({ payload_filter: JSON.stringify({ status: 'active' }) }),
      betaQuery((e) => e.payload['status'] === 'active'),
    ],
    [
      'streams',
      () => '/api/v1/streams',
      (res) => {
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(betaStats().total_entities);
        expect(distinct(res.body.streams.map((s: any) => s.stream_id))).toEqual(
          distinct(betaEvents.map((e) => e.entity_id)),
        );
        const order1 = res.body.streams.find((s: any) => s.stream_id === 'order-1');
        expect(order1.event_count).toBe(betaEvents.filter((e) => e.entity_id === 'order-1').length);
      },
    ],
    [
      'event-types',
      () => '/api/v1/event-types',
      (res) => {
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(betaStats().total_event_types);
        for (const type of res.body.event_types) {
          expect(type.event_count).toBe(betaEvents.filter((e) => e.event_type === type.event_type).length);
        }
        expect(distinct(res.body.event_types.map((t: any) => t.event_type))).toEqual(
          distinct(betaEvents.map((e) => e.event_type)),
        );
      },
    ],
    [
      'stats',
      () => '/api/v1/stats',
      (res) => {
        expect(res.status).toBe(200);
        expect(res.body).toEqual(betaStats());
      },
    ],
    [
      'entity state of an entity both have',
      () => '/api/v1/entities/order-1/state',
      (res) => {
        expect(res.status).toBe(200);
        const mine = betaEvents.filter((e) => e.entity_id === 'order-1');
        expect(res.body.event_count).toBe(mine.length);
        expect(res.body.history.map((h: any) => h.event_id)).toEqual(mine.map((e) => e.id));
        expect(res.body.current_state).toEqual(Object.assign({}, ...mine.map((e) => e.payload)));
      },
    ],
    [
      'auth/me',
      () => '/api/v1/auth/me',
      (res) => {
        expect(res.status).toBe(200);
        expect(res.body.tenant_id).toBe('beta');
      },
    ],
  ];

  const matrix = (cases: ReadCase[], credentials: Credential[]) =>
    cases.flatMap(([route, path, check]) =>
      credentials.map(([who, credential]) => [`${route} — ${who}`, path, check, credential] as const),
    );

  it.each(matrix(readCases, betaReaders))('%s: beta’s data only', async (_name, path, check, credential) => {
    const res = await api(server.url, path(), { headers: credential() });
    check(res);
    expectNothingOfAlpha(res.text);
  });

  it.each(betaReaders)('metrics with %s never count alpha', async (_name, credential) => {
    const res = await api(server.url, '/metrics', { headers: credential() });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(
      new RegExp(`^allsource_events_ingested_total\\{tenant_id="beta"\\} ${betaEvents.length}$`, 'm'),
    );
    expect(res.text).not.toMatch(/tenant_id="(?!beta")/);
    expectNothingOfAlpha(res.text);
  });

  it.each(betaAdmins)('auth/users and auth/api-keys with %s list beta’s only', async (_name, credential) => {
    const users = await api(server.url, '/api/v1/auth/users', { headers: credential() });
    expect(users.status).toBe(200);
    expect(users.body.users.map((u: any) => [u.id, u.tenant_id])).toEqual([[betaAdmin.id, 'beta']]);
    const keys = await api(server.url, '/api/v1/auth/api-keys', { headers: credential() });
    expect(keys.status).toBe(200);
    expect(distinct(keys.body.api_keys.map((k: any) => k.id))).toEqual(distinct([betaAdminKey.id, betaReadonlyKey.id]));
    expect(keys.body.api_keys.every((k: any) => k.tenant_id === 'beta')).toBe(true);
    expectNothingOfAlpha(users.text + keys.text);
  });

  it('the readonly key is refused the admin routes with 403, not shown alpha', async () => {
    for (const path of ['/api/v1/auth/users', '/api/v1/auth/api-keys']) {
      const res = await api(server.url, path, { headers: rawAuthorization(betaReadonlyKey.key) });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'forbidden', required_permission: 'admin' });
    }
  });

  /** A foreign id: the same 404 as an id that exists nowhere (so nothing tells that alpha has it). */
  type ForeignCase = [string, string, () => string, string, unknown?];
  const foreignCases: ForeignCase[] = [
    ['GET alpha’s event by id', 'GET', () => `/api/v1/events/${alphaEvents[0]!.id}`, UNKNOWN_UUID],
    ['GET alpha’s batch event by id', 'GET', () => `/api/v1/events/${alphaEvents[5]!.id}`, UNKNOWN_UUID],
    ['entity state of an entity only alpha has', 'GET', () => '/api/v1/entities/alpha-private-1/state', 'nobody-here'],
    [
      'change the role of alpha’s admin',
      'PUT',
      () => `/api/v1/auth/users/${alphaAdmin.id}/role`,
      UNKNOWN_V4,
      { role: 'readonly' },
    ],
    ['promote alpha’s developer', 'PUT', () => `/api/v1/auth/users/${alphaDev.id}/role`, UNKNOWN_V4, { role: 'admin' }],
    ['delete alpha’s developer', 'DELETE', () => `/api/v1/auth/users/${alphaDev.id}`, UNKNOWN_V4],
    ['delete alpha’s admin', 'DELETE', () => `/api/v1/auth/users/${alphaAdmin.id}`, UNKNOWN_V4],
    ['revoke alpha’s admin key', 'DELETE', () => `/api/v1/auth/api-keys/${alphaAdminKey.id}`, UNKNOWN_V4],
    ['revoke alpha’s readonly key', 'DELETE', () => `/api/v1/auth/api-keys/${alphaReadonlyKey.id}`, UNKNOWN_V4],
  ];
  const foreignMatrix = foreignCases.flatMap(([route, method, path, unknown, json]) =>
    (method === 'GET' ? betaReaders : betaAdmins).map(
      ([who, credential]) => [`${route} — ${who}`, method, path, unknown, json, credential] as const,
    ),
  );

  it.each(foreignMatrix)('%s → 404, like an id nobody has', async (_name, method, path, unknown, json, credential) => {
    const target = path();
    const foreignId = target.split('/').find((part) => alphaMarkers().includes(part) || part === 'alpha-private-1')!;
    const res = await api(server.url, target, { method, headers: credential(), ...(json ? { json } : {}) });
    expect(res.status, res.text).toBe(404);
    expect(res.body.error).toBe('not_found');
    const unknownRes = await api(server.url, target.replace(foreignId, unknown), {
      method,
      headers: credential(),
      ...(json ? { json } : {}),
    });
    expect(unknownRes.status).toBe(404);
    expect(notFoundShape(res.body, foreignId)).toEqual(notFoundShape(unknownRes.body, unknown));
  });

  const tenantRoutes: Array<[string, string, unknown?]> = [
    ['POST', '/api/v1/tenants', { tenant_id: 'beta-two', name: 'Beta Two' }],
    ['GET', '/api/v1/tenants'],
    ['GET', '/api/v1/tenants/alpha'],
    ['GET', '/api/v1/tenants/beta'],
    ['PUT', '/api/v1/tenants/alpha', { name: 'Taken over' }],
    ['DELETE', '/api/v1/tenants/alpha'],
    ['POST', '/api/v1/tenants/alpha/deactivate'],
    ['POST', '/api/v1/tenants/alpha/activate'],
  ];
  it.each(
    tenantRoutes.flatMap(([method, path, json]) =>
      betaAdmins.map(([who, c]) => [`${method} ${path} — ${who}`, method, path, json, c] as const),
    ),
  )('%s → 403: a tenant’s admin is not a platform admin', async (_name, method, path, json, credential) => {
    const res = await api(server.url, path, { method, headers: credential(), ...(json ? { json } : {}) });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'forbidden', required_permission: 'manage_tenants' });
    expectNothingOfAlpha(res.text);
  });

  it.each(betaAdmins)('registering a user into alpha with %s → 403, nothing created', async (_name, credential) => {
    const res = await api(server.url, '/api/v1/auth/register', {
      headers: credential(),
      json: {
        username: 'mole',
        email: 'mole@example.test',
        password: 'a long unusual passphrase',
        role: 'admin',
        tenant_id: 'alpha',
      },
    });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    const login = await api(server.url, '/api/v1/auth/login', {
      json: { username: 'mole', password: 'a long unusual passphrase' },
      anonymous: true,
    });
    expect(login.status).toBe(401);
  });

  describe('writes with beta’s credentials land in beta, never in alpha', () => {
    it.each(betaAdmins)(
      'appending to alpha’s entity ids with %s starts beta’s own streams',
      async (_name, credential) => {
        // Alpha has order-2 and customer-7; for beta they do not exist yet (expected_version 0 holds).
        const entity = credential().authorization ? 'order-2' : 'customer-7';
        const single = await append(
          credential(),
          betaEvents,
          { event_type: 'order.created', entity_id: entity, payload: { beta: true } },
          { expected_version: 0 },
        );
        expect(single.version).toBe(1);
        expect(single.position).toBe(betaEvents.length);
        const batch = await appendBatch(credential(), betaEvents, [
          { event_type: 'order.paid', entity_id: entity, payload: { beta: true } },
          { event_type: 'order.shipped', entity_id: entity, payload: { beta: true } },
        ]);
        expect(batch.events.map((e) => [e.version, e.position])).toEqual([
          [2, betaEvents.length - 1],
          [3, betaEvents.length],
        ]);
      },
    );

    it('re-sending alpha’s event id and content as beta stores beta’s own event, not alpha’s answer', async () => {
      const original = alphaEvents[2]!;
      const res = await append(
        bearer(betaAdmin.token),
        betaEvents,
        { event_type: original.event_type, entity_id: original.entity_id, payload: original.payload },
        { event_id: original.id },
      );
      expect(res.position).toBe(betaEvents.length);
      const asBeta = await api(server.url, `/api/v1/events/${original.id}`, { headers: bearer(betaAdmin.token) });
      expect(asBeta.body.event).toMatchObject({ tenant_id: 'beta', position: betaEvents.length });
      const asAlphaRes = await api(server.url, `/api/v1/events/${original.id}`, { headers: asAlpha() });
      expect(asAlphaRes.body.event).toEqual((before[`/api/v1/events/${original.id}`] as any).event);
    });
  });

  describe('a tenant_id naming alpha is refused with 403 and stores nothing', () => {
    const event = { event_type: 'order.created', entity_id: 'smuggled', payload: { smuggled: true } };
    type TenantCase = [string, string, string, unknown?];
    const cases: TenantCase[] = [
      ['single event body', 'POST', '/api/v1/events', { ...event, tenant_id: 'alpha' }],
      ['batch item', 'POST', '/api/v1/events/batch', { events: [event, { ...event, tenant_id: 'alpha' }] }],
      ['batch body', 'POST', '/api/v1/events/batch', { tenant_id: 'alpha', events: [event] }],
      ['event body with a query tenant_id', 'POST', '/api/v1/events?tenant_id=alpha', event],
      ['batch with a query tenant_id', 'POST', '/api/v1/events/batch?tenant_id=alpha', { events: [event] }],
      ['query', 'GET', '/api/v1/events/query?tenant_id=alpha'],
      ['query naming both', 'GET', '/api/v1/events/query?tenant_id=beta&tenant_id=alpha'],
      ['event by id', 'GET', `/api/v1/events/${UNKNOWN_UUID}?tenant_id=alpha`],
      ['subscribe', 'GET', '/api/v1/events/subscribe?from_position=1&tenant_id=alpha'],
      ['streams', 'GET', '/api/v1/streams?tenant_id=alpha'],
      ['event-types', 'GET', '/api/v1/event-types?tenant_id=alpha'],
      ['stats', 'GET', '/api/v1/stats?tenant_id=alpha'],
      ['entity state', 'GET', '/api/v1/entities/order-1/state?tenant_id=alpha'],
      ['metrics', 'GET', '/metrics?tenant_id=alpha'],
      ['auth/me', 'GET', '/api/v1/auth/me?tenant_id=alpha'],
      ['auth/users', 'GET', '/api/v1/auth/users?tenant_id=alpha'],
      ['auth/api-keys list', 'GET', '/api/v1/auth/api-keys?tenant_id=alpha'],
      ['auth/api-keys create (body)', 'POST', '/api/v1/auth/api-keys', { name: 'smuggled', tenant_id: 'alpha' }],
      ['auth/api-keys create (query)', 'POST', '/api/v1/auth/api-keys?tenant_id=alpha', { name: 'smuggled' }],
      ['auth/api-keys revoke', 'DELETE', `/api/v1/auth/api-keys/${UNKNOWN_V4}?tenant_id=alpha`],
      ['auth/users role (body)', 'PUT', `/api/v1/auth/users/${UNKNOWN_V4}/role`, { role: 'admin', tenant_id: 'alpha' }],
      ['auth/users role (query)', 'PUT', `/api/v1/auth/users/${UNKNOWN_V4}/role?tenant_id=alpha`, { role: 'admin' }],
      ['auth/users delete', 'DELETE', `/api/v1/auth/users/${UNKNOWN_V4}?tenant_id=alpha`],
      ['auth/logout', 'POST', '/api/v1/auth/logout?tenant_id=alpha'],
      [
        'auth/password',
        'PUT',
        '/api/v1/auth/password',
        { current_password: 'x', new_password: 'another long passphrase', tenant_id: 'alpha' },
      ],
    ];

    it.each(
      cases.flatMap(([name, method, path, json]) =>
        betaAdmins.map(([who, c]) => [`${name} — ${who}`, method, path, json, c] as const),
      ),
    )('%s', async (_name, method, path, json, credential) => {
      const keys = async () =>
        (await api(server.url, '/api/v1/auth/api-keys', { headers: credential() })).body.api_keys.map((k: any) => [
          k.id,
          k.name,
          k.role,
          k.revoked,
        ]);
      const statsBefore = await api(server.url, '/api/v1/stats', { headers: credential() });
      const keysBefore = await keys();
      const res = await api(server.url, path, { method, headers: credential(), ...(json ? { json } : {}) });
      expect(res.status, res.text).toBe(403);
      expect(res.body).toEqual({ error: 'forbidden', message: expect.stringContaining('tenant_id') });
      expect((await api(server.url, '/api/v1/stats', { headers: credential() })).body).toEqual(statsBefore.body);
      expect(await keys()).toEqual(keysBefore);
      // The token still works: logout and password change were refused before they ran.
      expect((await api(server.url, '/api/v1/auth/me', { headers: bearer(betaAdmin.token) })).status).toBe(200);
    });

    it('the same tenant_id as the credential’s is accepted, in a body, a batch item and a query', async () => {
      const single = await append(
        bearer(betaAdmin.token),
        betaEvents,
        { ...event, entity_id: 'named-beta' },
        { tenant_id: 'beta' },
      );
      const batch = await api(server.url, '/api/v1/events/batch', {
        headers: xApiKey(betaAdminKey.key),
        json: { events: [{ ...event, entity_id: 'named-beta', tenant_id: 'beta' }] },
      });
      expect(batch.status).toBe(201);
      betaEvents.push({ id: batch.body.events[0].event_id, ...event, entity_id: 'named-beta' });
      const read = await api(server.url, '/api/v1/events/query?tenant_id=beta&entity_id=named-beta', {
        headers: bearer(betaAdmin.token),
      });
      expect(read.status).toBe(200);
      expect(read.body.events.map((e: any) => [e.id, e.tenant_id])).toEqual([
        [single.event_id, 'beta'],
        [batch.body.events[0].event_id, 'beta'],
      ]);
      const me = await api(server.url, '/api/v1/auth/me?tenant_id=beta', { headers: bearer(betaAdmin.token) });
      expect(me.status).toBe(200);
    });
  });

  it('after every attempt, alpha’s events, streams, users, keys and tenant record are unchanged', async () => {
    expect(await alphaSnapshot()).toEqual(before);
    // And alpha's credentials all still work.
    for (const headers of [
      asAlpha(),
      bearer(alphaDev.token),
      xApiKey(alphaAdminKey.key),
      xApiKey(alphaReadonlyKey.key),
    ]) {
      expect((await api(server.url, '/api/v1/stats', { headers })).status).toBe(200);
    }
    const users = await api(server.url, '/api/v1/auth/users', { headers: asAlpha() });
    expect(users.body.users.map((u: any) => [u.username, u.role])).toEqual(
      expect.arrayContaining([
        ['alpha-admin', 'admin'],
        ['alpha-dev', 'developer'],
      ]),
    );
  });
});

describe('the platform admin administers tenant records but never reads a tenant’s data', () => {
  it('creates, suspends and reactivates a tenant, and registers users into it', async () => {
    await createTenant(server.url, 'gamma');
    const gammaUser = await createUser(server.url, { username: 'gamma-dev', tenant_id: 'gamma', role: 'developer' });
    expect((await api(server.url, '/api/v1/stats', { headers: bearer(gammaUser.token) })).status).toBe(200);
    const suspended = await api(server.url, '/api/v1/tenants/gamma/deactivate', { method: 'POST' });
    expect(suspended.body).toMatchObject({ tenant_id: 'gamma', status: 'suspended' });
    const refused = await api(server.url, '/api/v1/stats', { headers: bearer(gammaUser.token) });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('tenant_suspended');
    const active = await api(server.url, '/api/v1/tenants/gamma/activate', { method: 'POST' });
    expect(active.body).toMatchObject({ tenant_id: 'gamma', status: 'active' });
    expect((await api(server.url, '/api/v1/stats', { headers: bearer(gammaUser.token) })).status).toBe(200);
  });

  it('cannot delete alpha while it holds data', async () => {
    const res = await api(server.url, '/api/v1/tenants/alpha', { method: 'DELETE' });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('tenant_not_empty');
    expect((await api(server.url, '/api/v1/tenants/alpha')).status).toBe(200);
  });

  it('its reads show tenant default’s data only', async () => {
    const query = await api(server.url, '/api/v1/events/query');
    expect(query.body.events.map((e: any) => [e.entity_id, e.tenant_id])).toEqual([['platform-1', 'default']]);
    expect((await api(server.url, '/api/v1/stats')).body).toEqual({
      total_events: 1,
      total_entities: 1,
      total_event_types: 1,
    });
    const streams = await api(server.url, '/api/v1/streams');
    expect(streams.body.streams.map((s: any) => s.stream_id)).toEqual(['platform-1']);
    const types = await api(server.url, '/api/v1/event-types');
    expect(types.body.event_types.map((t: any) => t.event_type)).toEqual(['platform.noted']);
    expect((await api(server.url, '/api/v1/entities/alpha-private-1/state')).status).toBe(404);
    expect((await api(server.url, `/api/v1/events/${alphaEvents[0]!.id}`)).status).toBe(404);
    const users = await api(server.url, '/api/v1/auth/users');
    expect(users.body.users).toEqual([]);
    const keys = await api(server.url, '/api/v1/auth/api-keys');
    expect(keys.body.api_keys.map((k: any) => [k.name, k.tenant_id])).toEqual([['bootstrap', 'default']]);
    const metrics = await api(server.url, '/metrics');
    expect(metrics.text).toMatch(/^allsource_events_ingested_total\{tenant_id="default"\} 1$/m);
    expect(metrics.text).not.toMatch(/tenant_id="(?!default")/);
    for (const res of [query, streams, types, users, keys, metrics]) expectNothingOfAlpha(res.text);
  });

  it('its SSE catch-up from position 1 is tenant default’s only', async () => {
    const client = await openSse(`${server.url}/api/v1/events/subscribe?from_position=1`);
    await client.waitFor(1);
    const next = await api(server.url, '/api/v1/events', {
      json: { event_type: 'platform.noted', entity_id: 'platform-1', payload: { n: 2 } },
    });
    await client.waitFor(2);
    expect(client.messages.map((m) => JSON.parse(m.data)).map((e) => [e.tenant_id, e.position])).toEqual([
      ['default', 1],
      ['default', next.body.position],
    ]);
    client.close();
  });

  it('cannot read or write alpha by naming it, nor reach alpha’s users and keys by id', async () => {
    expect((await api(server.url, '/api/v1/events/query?tenant_id=alpha')).status).toBe(403);
    expect((await api(server.url, '/api/v1/stats?tenant_id=alpha')).status).toBe(403);
    const write = await api(server.url, '/api/v1/events', {
      json: { event_type: 'platform.noted', entity_id: 'x', payload: {}, tenant_id: 'alpha' },
    });
    expect(write.status).toBe(403);
    expect((await api(server.url, `/api/v1/auth/users/${alphaDev.id}`, { method: 'DELETE' })).status).toBe(404);
    expect(
      (await api(server.url, `/api/v1/auth/users/${alphaDev.id}/role`, { method: 'PUT', json: { role: 'admin' } }))
        .status,
    ).toBe(404);
    expect((await api(server.url, `/api/v1/auth/api-keys/${alphaAdminKey.id}`, { method: 'DELETE' })).status).toBe(404);
    // Alpha is still intact after the platform admin's attempts too.
    expect((await api(server.url, '/api/v1/stats', { headers: xApiKey(alphaAdminKey.key) })).status).toBe(200);
    const users = await api(server.url, '/api/v1/auth/users', { headers: asAlpha() });
    expect(users.body.users.find((u: any) => u.id === alphaDev.id)).toMatchObject({ role: 'developer' });
  });
});
