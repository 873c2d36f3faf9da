import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServer, type TestServer } from '../support/server.js';

let clock = Date.parse('2026-03-01T10:00:00.000Z');
let server: TestServer;
const get = (path: string) => api(server.url, path);

beforeAll(async () => {
  server = await startServer({ now: () => clock });
  const append = async (event_type: string, entity_id: string, payload: unknown) => {
    await api(server.url, '/api/v1/events', { json: { event_type, entity_id, payload } });
    clock += 1000;
  };
  await append('account.opened', 'acc-1', { owner: 'ann', balance: 0 });
  await append('account.credited', 'acc-1', { balance: 10 });
  await append('account.opened', 'acc-2', { owner: 'bob', balance: 0 });
  await append('account.note', 'acc-1', 'a string payload leaves the state alone');
  // Sent as raw text: in a JS object literal "__proto__" would set the prototype instead of a key.
  await api(server.url, '/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"event_type":"account.credited","entity_id":"acc-1","payload":{"balance":25,"__proto__":{"polluted":true}}}',
  });
});
afterAll(() => server.dispose());

describe('GET /api/v1/entities/:entity_id/state', () => {
  it('folds payloads by shallow merge, with history', async () => {
    const res = await get('/api/v1/entities/acc-1/state');
    expect(res.status).toBe(200);
    expect(res.body.entity_id).toBe('acc-1');
    expect(res.text).toContain('"current_state":{"owner":"ann","balance":25,"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(res.body.event_count).toBe(4);
    expect(res.body.last_updated).toBe('2026-03-01T10:00:04.000Z');
    expect(res.body.as_of).toBeNull();
    expect(res.body.history.map((h: { type: string }) => h.type)).toEqual([
      'account.opened',
      'account.credited',
      'account.note',
      'account.credited',
    ]);
    expect(res.body.history[0]).toMatchObject({ version: 1, payload: { owner: 'ann', balance: 0 } });
  });

  it('folds only events up to as_of', async () => {
    const res = await get('/api/v1/entities/acc-1/state?as_of=2026-03-01T10:00:01.000Z');
    expect(res.body.current_state).toEqual({ owner: 'ann', balance: 10 });
    expect(res.body.event_count).toBe(2);
    expect(res.body.as_of).toBe('2026-03-01T10:00:01.000Z');
  });

  it('omits history on request', async () => {
    const res = await get('/api/v1/entities/acc-2/state?include_history=false');
    expect(res.body.history).toBeUndefined();
    expect(res.body.current_state).toEqual({ owner: 'bob', balance: 0 });
  });

  it('answers 404 for an entity with no events', async () => {
    const res = await get('/api/v1/entities/nobody/state');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
    expect((await get('/api/v1/entities/acc-1/state?as_of=2020-01-01T00:00:00Z')).status).toBe(404);
  });

  it('accepts entity ids that need escaping in a path', async () => {
    const entity = 'order/2026 #7 ünï';
    await api(server.url, '/api/v1/events', { json: { event_type: 'x.y', entity_id: entity, payload: { ok: 1 } } });
    const res = await get(`/api/v1/entities/${encodeURIComponent(entity)}/state`);
    expect(res.status).toBe(200);
    expect(res.body.entity_id).toBe(entity);
  });
});

describe('summaries', () => {
  it('lists streams, newest first, with counts', async () => {
    const res = await get('/api/v1/streams');
    expect(res.status).toBe(200);
    expect(res.body.total).toBeGreaterThanOrEqual(2);
    const acc1 = res.body.streams.find((s: { stream_id: string }) => s.stream_id === 'acc-1');
    expect(acc1).toEqual({ stream_id: 'acc-1', event_count: 4, last_event_at: '2026-03-01T10:00:04.000Z' });
    const times = res.body.streams.map((s: { last_event_at: string }) => s.last_event_at);
    expect([...times].sort().reverse()).toEqual(times);
    const paged = await get('/api/v1/streams?limit=1&offset=1');
    expect(paged.body.streams).toHaveLength(1);
    expect(paged.body.total).toBe(res.body.total);
  });

  it('lists event types with counts, most used first', async () => {
    const res = await get('/api/v1/event-types');
    expect(res.body.event_types.slice(0, 2)).toEqual([
      { event_type: 'account.credited', event_count: 2, last_event_at: '2026-03-01T10:00:04.000Z' },
      { event_type: 'account.opened', event_count: 2, last_event_at: '2026-03-01T10:00:02.000Z' },
    ]);
    expect(res.body.total).toBe(4);
  });

  it('reports stats', async () => {
    const res = await get('/api/v1/stats');
    expect(res.body).toEqual({ total_events: 6, total_entities: 3, total_event_types: 4 });
  });
});

describe('/health and /metrics', () => {
  it('/health reports the service and encrypted storage, and no tenant data', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'healthy',
      service: 'allsource-core',
      version: expect.any(String),
      dev_mode: false,
      locked: false,
      storage: { encrypted: true, cipher: 'sqlcipher', durability: 'full' },
    });
    expect(res.text).not.toContain('acc-1');
    expect(res.text).not.toContain('account');
  });

  it('/metrics is Prometheus text with allsource_ series', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toMatch(/^allsource_events_ingested_total\{tenant_id="default"\} 6$/m);
    expect(res.text).toContain('allsource_query_duration_seconds_bucket');
    expect(res.text).toContain('allsource_http_requests_total');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await get('/api/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });
});
