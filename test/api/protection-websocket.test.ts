import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTenant, createUser, type Headers } from '../support/identity.js';
import { api, startServer, type TestServer } from '../support/server.js';
import { upgradeStatus } from '../support/websocket.js';

/**
 * A WebSocket upgrade bypasses the Express chain, so request protection checks it itself: the
 * Host check before anything, the global IP rules before authentication, the tenant's after.
 */

let server: TestServer;
let acme: Headers;
let globex: Headers;

beforeAll(async () => {
  // 127.0.0.1 (the test) is a trusted proxy, so X-Forwarded-For stands for other client addresses.
  server = await startServer({ env: { ALLSOURCE_TRUSTED_PROXIES: '127.0.0.1' } });
  await createTenant(server.url, 'acme');
  await createTenant(server.url, 'globex');
  acme = bearer((await createUser(server.url, { username: 'ws-ann', tenant_id: 'acme', role: 'admin' })).token);
  globex = bearer((await createUser(server.url, { username: 'ws-gus', tenant_id: 'globex', role: 'admin' })).token);
});

afterAll(async () => {
  await server?.dispose();
});

const upgrade = (headers: Record<string, string>) => upgradeStatus(server.url, headers);

describe('WebSocket upgrades and request protection', () => {
  it('refuses a Host that does not name this server', async () => {
    expect(await upgrade({ ...acme })).toBe(101);
    expect(await upgrade({ ...acme, host: `evil.example:${server.port}` })).toBe(403);
  });

  it("applies the tenant's IP block after authentication, to that tenant only", async () => {
    const rule = await api(server.url, '/api/v1/security/ip-rules', {
      json: { scope: 'tenant', list: 'block', cidr: '192.0.2.0/24' },
      headers: acme,
    });
    expect(rule.status, rule.text).toBe(201);
    try {
      expect(await upgrade({ ...acme, 'x-forwarded-for': '192.0.2.7' })).toBe(403);
      expect(await upgrade({ ...globex, 'x-forwarded-for': '192.0.2.7' })).toBe(101);
      expect(await upgrade({ ...acme, 'x-forwarded-for': '198.51.100.1' })).toBe(101);
    } finally {
      await api(server.url, `/api/v1/security/ip-rules/${rule.body.id}`, { method: 'DELETE', headers: acme });
    }
  });
});
