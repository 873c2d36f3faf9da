import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, startServer, type TestServer } from '../support/server.js';
import { openSse } from '../support/sse.js';
import { bearer, createKey, createTenant, createUser, xApiKey } from '../support/identity.js';

// Streams re-check their credential at every heartbeat: one second here.
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { ALLSOURCE_SSE_HEARTBEAT_SECONDS: '1' } });
});
afterAll(() => server.dispose());

const wsUrl = () => `${server.url.replace('http', 'ws')}/api/v1/events/stream`;

describe('open streams end when their credential stops being valid', () => {
  it('SSE ends with an error event once the key is revoked', async () => {
    const key = await createKey(server.url, xApiKey(server.apiKey), { name: 'sse-reader', role: 'readonly' });
    const stream = await openSse(`${server.url}/api/v1/events/subscribe`, xApiKey(key.key));
    expect(stream.status).toBe(200);
    await stream.waitForComment('heartbeat');
    expect((await api(server.url, `/api/v1/auth/api-keys/${key.id}`, { method: 'DELETE' })).status).toBe(200);
    await stream.ended;
    expect(stream.messages.at(-1)?.data).toContain('"error":"unauthorized"');
  });

  it('a WebSocket is closed with 1008 once its tenant is suspended', async () => {
    await createTenant(server.url, 'gamma');
    const gammaAdmin = await createUser(server.url, { username: 'gamma-admin', tenant_id: 'gamma', role: 'admin' });
    const key = await createKey(server.url, bearer(gammaAdmin.token), { name: 'ws-reader', role: 'readonly' });
    const ws = new WebSocket(wsUrl(), { headers: xApiKey(key.key) });
    await once(ws, 'open');
    expect((await api(server.url, '/api/v1/tenants/gamma/deactivate', { method: 'POST' })).status).toBe(200);
    const [code] = (await once(ws, 'close')) as [number, Buffer];
    expect(code).toBe(1008);
  });

  it('a stream whose credential stays valid keeps going', async () => {
    const stream = await openSse(`${server.url}/api/v1/events/subscribe`);
    await stream.waitForComment('heartbeat');
    const ws = new WebSocket(wsUrl(), { headers: xApiKey(server.apiKey) });
    const received = once(ws, 'message');
    await once(ws, 'open');
    await api(server.url, '/api/v1/events', { json: { event_type: 'still.here', entity_id: 'x', payload: {} } });
    await stream.waitFor(1);
    await received;
    // Past at least one re-check (every second here), both are still open.
    await stream.waitForComment('heartbeat');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(stream.messages.some((m) => m.data.includes('"error"'))).toBe(false);
    ws.close();
    stream.close();
  });
});
