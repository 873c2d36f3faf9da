import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServer, type TestServer } from '../support/server.js';

// A clock the test moves by hand, so time filters are exact.
let clock = Date.parse('2026-01-01T00:00:00.000Z');
let server: TestServer;
const query = (params: string) => api(server.url, `/api/v1/events/query?${params}`);
const ids = (body: { events: Array<{ payload: { n: number } }> }) => body.events.map((e) => e.payload.n);

beforeAll(async () => {
  server = await startServer({ now: () => clock });
  // 30 events: n = 1..30, one minute apart; entity e(n % 3); type order.created, order.paid, user.created by n % 3.
  for (let n = 1; n <= 30; n++) {
    const type = ['order.created', 'order.paid', 'user.created'][n % 3]!;
    await api(server.url, '/api/v1/events', {
      json: {
        event_type: type,
        entity_id: `e${n % 3}`,
        payload: { n, parity: n % 2 === 0 ? 'even' : 'odd', tags: { n } },
      },
    });
    clock += 60_000;
  }
});
afterAll(() => server.dispose());

describe('GET /api/v1/events/query', () => {
  it('returns every event in position order with counts when given no filter', async () => {
    const res = await query('');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(res.body).toMatchObject({ count: 30, total_count: 30, has_more: false });
    expect(res.body.entity_version).toBeUndefined();
  });

  it('filters by entity and reports its version', async () => {
    const res = await query('entity_id=e1');
    expect(ids(res.body)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
    expect(res.body.entity_version).toBe(10);
    expect(res.body.events.map((e: { version: number }) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('reports version 0 and no events for an unknown entity', async () => {
    const res = await query('entity_id=nobody');
    expect(res.body).toMatchObject({ events: [], count: 0, total_count: 0, has_more: false, entity_version: 0 });
  });

  it('filters by exact type and by type prefix', async () => {
    expect(ids((await query('event_type=order.paid')).body)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
    const prefix = await query('event_type_prefix=order.');
    expect(prefix.body.count).toBe(20);
    expect(prefix.body.events.every((e: { event_type: string }) => e.event_type.startsWith('order.'))).toBe(true);
    expect((await query('event_type=no.such')).body.count).toBe(0);
  });

  it('pages with limit and offset, and says when there is more', async () => {
    const first = await query('limit=10');
    expect(ids(first.body)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.body).toMatchObject({ count: 10, total_count: 30, has_more: true, next_position: 10 });
    const second = await query('limit=10&offset=10');
    expect(ids(second.body)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const last = await query('limit=10&offset=25');
    expect(ids(last.body)).toEqual([26, 27, 28, 29, 30]);
    expect(last.body.has_more).toBe(false);
  });

  it('continues from next_position with after_position', async () => {
    const res = await query('after_position=27');
    expect(ids(res.body)).toEqual([28, 29, 30]);
    expect(res.body.total_count).toBe(3);
  });

  it('orders descending', async () => {
    const res = await query('order=desc&limit=3');
    expect(ids(res.body)).toEqual([30, 29, 28]);
    const entity = await query('entity_id=e2&order=desc&limit=2');
    expect(ids(entity.body)).toEqual([29, 26]);
  });

  it('filters by time: since and until inclusive, as_of like until', async () => {
    const at = (n: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + (n - 1) * 60_000).toISOString();
    expect(ids((await query(`since=${at(28)}`)).body)).toEqual([28, 29, 30]);
    expect(ids((await query(`until=${at(3)}`)).body)).toEqual([1, 2, 3]);
    expect(ids((await query(`as_of=${at(2)}`)).body)).toEqual([1, 2]);
    expect(ids((await query(`since=${at(10)}&until=${at(12)}&entity_id=e0`)).body)).toEqual([12]);
    // An offset in the timestamp is understood.
    expect(ids((await query(`until=${encodeURIComponent('2026-01-01T01:00:00.000+01:00')}`)).body)).toEqual([1]);
    expect((await query('since=2030-01-01T00:00:00Z')).body.count).toBe(0);
  });

  it('filters by payload values, all keys matching', async () => {
    const filter = (f: unknown) => query(`payload_filter=${encodeURIComponent(JSON.stringify(f))}`);
    expect(ids((await filter({ n: 7 })).body)).toEqual([7]);
    expect((await filter({ parity: 'even' })).body.count).toBe(15);
    expect(ids((await filter({ parity: 'even', n: 4 })).body)).toEqual([4]);
    expect(ids((await filter({ parity: 'odd', n: 4 })).body)).toEqual([]);
    expect(ids((await filter({ tags: { n: 5 } })).body)).toEqual([5]);
    expect((await filter({ missing: null })).body.count).toBe(0);
    const combined = await query(`event_type=order.paid&payload_filter=${encodeURIComponent('{"parity":"odd"}')}`);
    expect(ids(combined.body)).toEqual([1, 7, 13, 19, 25]);
    expect(combined.body.total_count).toBe(5);
  });

  it('ignores unknown parameters', async () => {
    expect((await query('flavour=vanilla')).body.count).toBe(30);
  });

  it('streams a large answer completely', async () => {
    const events = Array.from({ length: 3000 }, (_, i) => ({
      event_type: 'big.one',
      entity_id: 'big',
      payload: { i, pad: 'x'.repeat(200) },
    }));
    expect((await api(server.url, '/api/v1/events/batch', { json: { events } })).status).toBe(201);
    const res = await query('entity_id=big');
    expect(res.body.count).toBe(3000);
    expect(res.body.events.map((e: { payload: { i: number } }) => e.payload.i)).toEqual(events.map((_, i) => i));
    const typed = await query('event_type=big.one&offset=1500');
    expect(typed.body.count).toBe(1500);
    expect(typed.body.events[0].payload.i).toBe(1500);
  });
});
