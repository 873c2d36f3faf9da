import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
const post = (path: string, json: unknown) => api(server.url, path, { json });

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.dispose());

describe('POST /api/v1/events', () => {
  it('appends an event and answers with its id, timestamp, version and position', async () => {
    const res = await post('/api/v1/events', {
      event_type: 'user.created',
      entity_id: 'user-1',
      payload: { name: 'Ann' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      version: 1,
      position: 1,
    });
    const read = await api(server.url, `/api/v1/events/${res.body.event_id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      found: true,
      event: {
        id: res.body.event_id,
        event_type: 'user.created',
        entity_id: 'user-1',
        tenant_id: 'default',
        payload: { name: 'Ann' },
        metadata: null,
        timestamp: res.body.timestamp,
        version: 1,
        position: 1,
      },
    });
  });

  it('numbers versions per entity from 1 and positions across the tenant', async () => {
    const a = await post('/api/v1/events', { event_type: 't.a', entity_id: 'ver-a', payload: {} });
    const b = await post('/api/v1/events', { event_type: 't.a', entity_id: 'ver-b', payload: {} });
    const a2 = await post('/api/v1/events', {
      event_type: 't.a',
      entity_id: 'ver-a',
      payload: {},
      metadata: { by: 'x' },
    });
    expect([a.body.version, b.body.version, a2.body.version]).toEqual([1, 1, 2]);
    expect(b.body.position).toBe(a.body.position + 1);
    expect(a2.body.position).toBe(b.body.position + 1);
    const read = await api(server.url, `/api/v1/events/${a2.body.event_id}`);
    expect(read.body.event.metadata).toEqual({ by: 'x' });
  });

  it('ids are time-ordered UUIDv7', async () => {
    const first = await post('/api/v1/events', { event_type: 't.order', entity_id: 'ord', payload: 1 });
    const second = await post('/api/v1/events', { event_type: 't.order', entity_id: 'ord', payload: 2 });
    expect(second.body.event_id > first.body.event_id).toBe(true);
  });

  describe('expected_version', () => {
    it('accepts an integer that matches and refuses one that does not, with the wire body', async () => {
      const entity = `occ-${randomUUID()}`;
      expect(
        (await post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {}, expected_version: 0 }))
          .status,
      ).toBe(201);
      expect(
        (await post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {}, expected_version: 1 }))
          .status,
      ).toBe(201);
      const conflict = await post('/api/v1/events', {
        event_type: 'x.y',
        entity_id: entity,
        payload: {},
        expected_version: 1,
      });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ error: 'version_conflict', expected_version: 1, current_version: 2 });
      expect(conflict.body.message).toEqual(expect.any(String));
    });

    it.each([
      ['no_stream', false, 201],
      ['no_stream', true, 409],
      ['stream_exists', false, 409],
      ['stream_exists', true, 201],
      ['any', false, 201],
      ['any', true, 201],
      [0, true, 409],
    ])('%s when the stream exists=%s answers %i', async (expected, exists, status) => {
      const entity = `kw-${randomUUID()}`;
      if (exists) await post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {} });
      const res = await post('/api/v1/events', {
        event_type: 'x.y',
        entity_id: entity,
        payload: {},
        expected_version: expected,
      });
      expect(res.status).toBe(status);
      if (status === 409)
        expect(res.body).toMatchObject({ error: 'version_conflict', current_version: exists ? 1 : 0 });
    });

    it('keeps versions exact when a known entity is written by many at once (cached stream state)', async () => {
      const entity = `warm-${randomUUID()}`;
      await post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {} });
      await post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {} });
      const racers = await Promise.all(
        Array.from({ length: 10 }, () =>
          post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {}, expected_version: 2 }),
        ),
      );
      expect(racers.filter((r) => r.status === 201).map((r) => r.body.version)).toEqual([3]);
      const free = await Promise.all(
        Array.from({ length: 5 }, () => post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {} })),
      );
      expect(free.map((r) => r.body.version).sort()).toEqual([4, 5, 6, 7, 8]);
      const next = await post('/api/v1/events', {
        event_type: 'x.y',
        entity_id: entity,
        payload: {},
        expected_version: 8,
      });
      expect(next.body.version).toBe(9);
    });

    it('lets exactly one of many concurrent writers win the same expected version', async () => {
      const entity = `race-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          post('/api/v1/events', { event_type: 'x.y', entity_id: entity, payload: {}, expected_version: 0 }),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    });
  });

  describe('event_id idempotency', () => {
    it('returns the original result for a repeat and appends nothing', async () => {
      const event = {
        event_type: 'pay.made',
        entity_id: `idem-${randomUUID()}`,
        payload: { amount: 5 },
        event_id: randomUUID(),
      };
      const first = await post('/api/v1/events', event);
      const before = (await api(server.url, '/api/v1/stats')).body.total_events;
      const again = await post('/api/v1/events', event);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(first.body.event_id).toBe(event.event_id);
      expect((await api(server.url, '/api/v1/stats')).body.total_events).toBe(before);
    });

    it('refuses the same id with different content with 409', async () => {
      const id = randomUUID();
      await post('/api/v1/events', {
        event_type: 'pay.made',
        entity_id: 'idem-x',
        payload: { amount: 5 },
        event_id: id,
      });
      const res = await post('/api/v1/events', {
        event_type: 'pay.made',
        entity_id: 'idem-x',
        payload: { amount: 6 },
        event_id: id,
      });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'duplicate_event_id', event_id: id });
    });

    it('a repeat ignores expected_version, so a retried write is safe', async () => {
      const entity = `retry-${randomUUID()}`;
      const event = { event_type: 'a.b', entity_id: entity, payload: {}, expected_version: 0, event_id: randomUUID() };
      const first = await post('/api/v1/events', event);
      const retry = await post('/api/v1/events', event);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
    });
  });
});

describe('POST /api/v1/events/batch', () => {
  it('appends all events in order and reports each', async () => {
    const entity = `batch-${randomUUID()}`;
    const res = await post('/api/v1/events/batch', {
      events: [
        { event_type: 'cart.created', entity_id: entity, payload: { items: 0 } },
        { event_type: 'cart.item_added', entity_id: entity, payload: { items: 1 }, expected_version: 1 },
        { event_type: 'cart.item_added', entity_id: entity, payload: { items: 2 } },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body.total).toBe(3);
    expect(res.body.ingested).toBe(3);
    expect(res.body.events.map((e: { version: number }) => e.version)).toEqual([1, 2, 3]);
    const positions = res.body.events.map((e: { position: number }) => e.position);
    expect(positions).toEqual([positions[0], positions[0] + 1, positions[0] + 2]);
  });

  it('is all-or-nothing: a conflict in one item stores none and names the item', async () => {
    const entity = `atomic-${randomUUID()}`;
    const before = (await api(server.url, '/api/v1/stats')).body.total_events;
    const res = await post('/api/v1/events/batch', {
      events: [
        { event_type: 'a.b', entity_id: entity, payload: 1 },
        { event_type: 'a.b', entity_id: entity, payload: 2, expected_version: 7 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'version_conflict', index: 1, expected_version: 7, current_version: 1 });
    expect((await api(server.url, '/api/v1/stats')).body.total_events).toBe(before);
    const query = await api(server.url, `/api/v1/events/query?entity_id=${entity}`);
    expect(query.body.count).toBe(0);
  });

  it('names the invalid item and stores nothing', async () => {
    const res = await post('/api/v1/events/batch', {
      events: [
        { event_type: 'a.b', entity_id: 'v', payload: 1 },
        { event_type: 'BAD', entity_id: 'v', payload: 1 },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', index: 1 });
    expect(res.body.details[0].path).toBe('/events/1/event_type');
  });

  it('counts repeats of an event_id as not ingested', async () => {
    const id = randomUUID();
    const event = { event_type: 'a.b', entity_id: `rep-${randomUUID()}`, payload: 1, event_id: id };
    const res = await post('/api/v1/events/batch', { events: [event, event] });
    expect(res.status).toBe(201);
    expect(res.body.total).toBe(2);
    expect(res.body.ingested).toBe(1);
    expect(res.body.events[1]).toEqual(res.body.events[0]);
  });

  it('takes 10,000 events in one batch', async () => {
    const events = Array.from({ length: 10_000 }, (_, i) => ({
      event_type: 'bulk.item',
      entity_id: `bulk-${i % 50}`,
      payload: { i },
    }));
    const res = await post('/api/v1/events/batch', { events });
    expect(res.status).toBe(201);
    expect(res.body.ingested).toBe(10_000);
  });
});

describe('GET /api/v1/events/:event_id', () => {
  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const missing = await api(server.url, `/api/v1/events/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('not_found');
    const malformed = await api(server.url, '/api/v1/events/not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('invalid_request');
  });
});
