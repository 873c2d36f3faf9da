import { afterEach, describe, expect, it } from 'vitest';
import { openSse, type SseClient } from '../support/sse.js';
import { api, startServer, tempDir, type TestServer } from '../support/server.js';

const servers: TestServer[] = [];
const clients: SseClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(servers.splice(0).map((s) => s.dispose()));
});

async function server(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
async function subscribe(s: TestServer, params = '', headers: Record<string, string> = {}) {
  const client = await openSse(`${s.url}/api/v1/events/subscribe${params}`, headers);
  clients.push(client);
  await client.waitForComment('connected');
  return client;
}
async function appendMany(
  s: TestServer,
  count: number,
  make = (i: number) => ({ event_type: 'n.added', entity_id: `e${i % 5}`, payload: { i } }),
) {
  const events = Array.from({ length: count }, (_, i) => make(i));
  for (let i = 0; i < events.length; i += 1000) {
    const res = await api(s.url, '/api/v1/events/batch', { json: { events: events.slice(i, i + 1000) } });
    expect(res.status).toBe(201);
  }
}
const positions = (c: SseClient) => c.messages.map((m) => Number(m.id));

describe('GET /api/v1/events/subscribe (SSE)', () => {
  it('sends the catch-up then live events, with no gap and no duplicate at the seam', async () => {
    const s = await server();
    await appendMany(s, 3000);
    const client = await subscribe(s, '?from_position=1');
    // Keep writing, one event per request, while the catch-up is being sent.
    for (let i = 0; i < 300; i++) {
      await api(s.url, '/api/v1/events', { json: { event_type: 'n.live', entity_id: `live${i % 3}`, payload: { i } } });
    }
    await client.waitFor(3300);
    expect(positions(client)).toEqual(Array.from({ length: 3300 }, (_, i) => i + 1));
    const last = JSON.parse(client.messages.at(-1)!.data);
    expect(last).toMatchObject({ event_type: 'n.live', position: 3300, tenant_id: 'default', payload: { i: 299 } });
  });

  it('without a position sends only new events', async () => {
    const s = await server();
    await appendMany(s, 10);
    const client = await subscribe(s);
    await appendMany(s, 2);
    await client.waitFor(2);
    expect(positions(client)).toEqual([11, 12]);
  });

  it('resumes after Last-Event-ID, which wins over from_position', async () => {
    const s = await server();
    await appendMany(s, 20);
    const client = await subscribe(s, '?from_position=1', { 'last-event-id': '15' });
    await client.waitFor(5);
    expect(positions(client)).toEqual([16, 17, 18, 19, 20]);
  });

  it('catches up from the database after a restart (no events in memory)', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir });
    await appendMany(first, 2500);
    await first.close();
    const s = await server({ dataDir, masterKeyHex: first.masterKeyHex });
    const client = await subscribe(s, '?from_position=2001');
    await client.waitFor(500);
    await appendMany(s, 1);
    await client.waitFor(501);
    expect(positions(client)).toEqual(Array.from({ length: 501 }, (_, i) => 2001 + i));
  });

  it('filters by entity and by event type prefix, in catch-up and live', async () => {
    const s = await server();
    const make = (i: number) => ({
      event_type: i % 2 ? 'order.paid' : 'user.seen',
      entity_id: `e${i % 4}`,
      payload: { i },
    });
    await appendMany(s, 40, make);
    const byEntity = await subscribe(s, '?from_position=1&entity_id=e1');
    const byPrefix = await subscribe(s, '?from_position=1&event_type_prefix=order.');
    await appendMany(s, 40, (i) => make(i + 40));
    await byEntity.waitFor(20);
    await byPrefix.waitFor(40);
    expect(byEntity.messages.map((m) => JSON.parse(m.data).entity_id)).toEqual(Array(20).fill('e1'));
    expect(byPrefix.messages.every((m) => JSON.parse(m.data).event_type === 'order.paid')).toBe(true);
    expect(positions(byPrefix)).toEqual([...positions(byPrefix)].sort((a, b) => a - b));
  });

  it('sends heartbeats as comments', async () => {
    const s = await server({ env: { ALLSOURCE_SSE_HEARTBEAT_SECONDS: '1' } });
    const client = await subscribe(s);
    await client.waitForComment('heartbeat', 5000);
  });

  it('refuses bad parameters with a JSON 400 before streaming', async () => {
    const s = await server();
    for (const params of ['?from_position=-1', '?from_position=x', '?event_type_prefix=BAD!', '?entity_id=']) {
      const res = await api(s.url, `/api/v1/events/subscribe${params}`);
      expect(res.status, params).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
  });

  it('ends open streams when the server shuts down', async () => {
    const s = await startServer();
    const client = await subscribe(s);
    await s.dispose();
    // The server ended the response (a hung stream would never resolve this).
    await client.ended;
    expect(client.messages).toEqual([]);
  });
});
