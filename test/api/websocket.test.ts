import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adminHeaders, api, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  // A small send bound, so that a paused client overflows it long before the kernel's buffers do.
  server = await startServer({ env: { ALLSOURCE_WS_MAX_BUFFERED_BYTES: String(64 * 1024) } });
});
afterAll(() => server.dispose());

interface Socket {
  ws: WebSocket;
  messages: any[];
  waitFor(count: number): Promise<any[]>;
  /** Sends a filter and waits until the server has read it (a ping is answered after earlier messages). */
  filter(message: unknown): Promise<void>;
}

async function connect(headers: Record<string, string> = {}): Promise<Socket> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/events/stream`, {
    headers: { ...adminHeaders(server.url), ...headers },
  });
  const messages: any[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await once(ws, 'open');
  return {
    ws,
    messages,
    async waitFor(count) {
      while (messages.length < count) await once(ws, 'message');
      return messages;
    },
    async filter(message) {
      ws.send(JSON.stringify(message));
      ws.ping();
      await once(ws, 'pong');
    },
  };
}

const append = (event_type: string, entity_id: string, payload: unknown = {}) =>
  api(server.url, '/api/v1/events', { json: { event_type, entity_id, payload } });

describe('GET /api/v1/events/stream (WebSocket)', () => {
  it('delivers live events as EventDtos', async () => {
    const socket = await connect();
    const res = await append('ws.hello', 'w1', { hi: true });
    const [event] = await socket.waitFor(1);
    expect(event).toEqual({
      id: res.body.event_id,
      event_type: 'ws.hello',
      entity_id: 'w1',
      tenant_id: 'default',
      payload: { hi: true },
      metadata: null,
      timestamp: res.body.timestamp,
      version: res.body.version,
      position: res.body.position,
    });
    socket.ws.close();
  });

  it('applies allsource-core filters: exact entity_id / event_type, and subscribe patterns', async () => {
    const byEntity = await connect();
    await byEntity.filter({ entity_id: 'keep' });
    const byType = await connect();
    await byType.filter({ event_type: 'a.one' });
    const byPattern = await connect();
    await byPattern.filter({ type: 'subscribe', filters: ['order.*', 'a.two'] });
    await append('a.one', 'keep');
    await append('a.two', 'drop');
    await append('order.line.added', 'drop');
    await append('orders.other', 'drop');
    await append('a.one', 'drop');
    await append('z.last', 'keep');
    await byEntity.waitFor(2);
    await byType.waitFor(2);
    await byPattern.waitFor(2);
    expect(byEntity.messages.map((m) => m.event_type)).toEqual(['a.one', 'z.last']);
    expect(byType.messages.map((m) => m.entity_id)).toEqual(['keep', 'drop']);
    expect(byPattern.messages.map((m) => m.event_type)).toEqual(['a.two', 'order.line.added']);
    [byEntity, byType, byPattern].forEach((s) => s.ws.close());
  });

  it('answers a bad filter with an error message and keeps the connection', async () => {
    const socket = await connect();
    socket.ws.send('{nope');
    socket.ws.send(JSON.stringify({ event_type: 'BAD TYPE' }));
    socket.ws.send(JSON.stringify({ type: 'subscribe', filters: 'x' }));
    await socket.waitFor(3);
    expect(socket.messages.map((m) => [m.type, m.error])).toEqual([
      ['error', 'invalid_request'],
      ['error', 'invalid_request'],
      ['error', 'invalid_request'],
    ]);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close();
  });

  it('refuses a browser page from another origin', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/events/stream`, {
      headers: { ...adminHeaders(server.url), origin: 'https://evil.example' },
    });
    const [error] = (await once(ws, 'error')) as [Error];
    expect(error.message).toContain('403');
    const own = await connect({ origin: `http://localhost:${server.port}` });
    own.ws.close();
  });

  it('refuses a connection without a credential, with a bad one, or without the read permission', async () => {
    const url = `${server.url.replace('http', 'ws')}/api/v1/events/stream`;
    const refused = async (headers: Record<string, string>) => {
      const ws = new WebSocket(url, { headers });
      const [error] = (await once(ws, 'error')) as [Error];
      return error.message;
    };
    expect(await refused({})).toContain('401');
    expect(await refused({ 'x-api-key': 'ask_not-a-key' })).toContain('401');
    expect(await refused({ authorization: 'Bearer not.a.jwt' })).toContain('401');
  });

  it('tells a client that cannot keep up how many events it missed, never buffering without bound', async () => {
    const socket = await connect();
    // Stop reading: the kernel buffers fill and the server's send queue grows past its bound.
    (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 16; i++) {
      const events = Array.from({ length: 4 }, (_, j) => ({
        event_type: 'lag.fill',
        entity_id: 'lag',
        payload: { i, j, big },
      }));
      expect((await api(server.url, '/api/v1/events/batch', { json: { events } })).status).toBe(201);
    }
    (socket.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await append('lag.after', 'lag');
    // The notice comes with the next event sent, or within a second from the server's ticker.
    while (!socket.messages.some((m) => m.type === 'lagged')) await once(socket.ws, 'message');
    const notice = socket.messages.find((m) => m.type === 'lagged');
    expect(notice).toEqual({ type: 'lagged', missed: expect.any(Number) });
    const delivered = socket.messages.filter((m) => m.event_type === 'lag.fill').length;
    expect(delivered + notice.missed).toBeGreaterThanOrEqual(64);
    expect(notice.missed).toBeGreaterThan(0);
    socket.ws.close();
  });
});
