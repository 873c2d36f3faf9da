import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createTenant, createUser, bearer, xApiKey, type Headers } from '../support/identity.js';
import { raw } from '../support/raw-http.js';
import { api, startServer, type TestServer } from '../support/server.js';

/**
 * Rate-limit refusals on a real server: tenant buckets with overrides, cost, the per-address
 * buckets before authentication, and a bounded load test on loopback showing the limiter
 * holds a configured rate. The server runs the free tier for everything without an override
 * (100 requests of burst), so each bucket empties in a few requests.
 */

let server: TestServer;
let platform: Headers;

beforeAll(async () => {
  server = await startServer({ env: { ALLSOURCE_RATE_LIMIT_TIER: 'free', ALLSOURCE_TRUSTED_PROXIES: '127.0.0.1' } });
  platform = xApiKey(server.apiKey);
  // The bootstrap key's own tenant must not run dry while the tests set things up.
  const res = await api(server.url, '/api/v1/security/rate-limits/default', {
    method: 'PUT',
    json: { requests_per_minute: 1_000_000, burst_size: 1_000_000 },
    headers: platform,
  });
  expect(res.status, res.text).toBe(200);
  // Load-based adaptation would lower limits on a busy test machine: these tests measure the buckets.
  const off = await api(server.url, '/api/v1/security/settings', {
    method: 'PUT',
    json: { adaptive: { enabled: false } },
    headers: platform,
  });
  expect(off.status, off.text).toBe(200);
});

afterAll(async () => {
  await server?.dispose();
});

/** A tenant with an override and an admin key of its own. */
async function tenantWithLimit(tenantId: string, requestsPerMinute: number, burstSize: number): Promise<Headers> {
  await createTenant(server.url, tenantId);
  const admin = bearer(
    (await createUser(server.url, { username: `${tenantId}-admin`, tenant_id: tenantId, role: 'admin' })).token,
  );
  const key = xApiKey((await createKey(server.url, admin, { name: 'load', role: 'admin' })).key);
  const res = await api(server.url, `/api/v1/security/rate-limits/${tenantId}`, {
    method: 'PUT',
    json: { requests_per_minute: requestsPerMinute, burst_size: burstSize },
    headers: platform,
  });
  expect(res.status, res.text).toBe(200);
  return key;
}

const events = (n: number, entity: string) => ({
  events: Array.from({ length: n }, (_, i) => ({
    event_type: 'limit.tested',
    entity_id: `${entity}-${i}`,
    payload: { i },
  })),
});

describe('tenant buckets', () => {
  it('counts down in the headers, then refuses with 429 JSON and Retry-After', async () => {
    const key = await tenantWithLimit('tight', 60, 5);
    for (let remaining = 4; remaining >= 0; remaining--) {
      const res = await api(server.url, '/api/v1/stats', { headers: key });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('5');
      expect(res.headers.get('ratelimit-remaining')).toBe(String(remaining));
    }
    const refused = await api(server.url, '/api/v1/stats', { headers: key });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'rate_limited', retry_after: 1 });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('x-request-id')).toBeTruthy();
    // Other tenants are untouched.
    expect((await api(server.url, '/api/v1/stats', { headers: platform })).status).toBe(200);
  });

  it('charges a batch by its size and a query by its limit, refusing a batch whole', async () => {
    const key = await tenantWithLimit('costly', 60, 30);
    const first = await api(server.url, '/api/v1/events/batch', { json: events(100, 'a'), headers: key });
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get('ratelimit-remaining')).toBe('20'); // 100 events: 10 tokens
    const query = await api(server.url, '/api/v1/events/query?limit=1000', { headers: key });
    expect(query.status).toBe(200);
    expect(query.headers.get('ratelimit-remaining')).toBe('10'); // limit 1,000: 10 tokens
    const refused = await api(server.url, '/api/v1/events/batch', { json: events(150, 'b'), headers: key });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(5);
    const stored = await api(server.url, '/api/v1/events/query?limit=10&event_type=limit.tested&entity_id=b-0', {
      headers: key,
    });
    expect(stored.body.count).toBe(0);
  });

  it('applies a tier set through the API', async () => {
    await createTenant(server.url, 'tiered');
    const res = await api(server.url, '/api/v1/security/rate-limits/tiered', {
      method: 'PUT',
      json: { tier: 'unlimited' },
      headers: platform,
    });
    // The server's ALLSOURCE_RATE_LIMIT_TIER replaces tiers; the stored tier shows all the same.
    expect(res.body).toMatchObject({ tier: 'unlimited', source: 'config', requests_per_minute: 60, burst_size: 100 });
  });
});

describe('address buckets, before authentication', () => {
  it('limits requests without a credential per client address, login included', async () => {
    const from = { 'x-forwarded-for': '192.0.2.10' };
    let refused = 0;
    for (let i = 0; i < 101; i++) {
      const res = await raw(server.url, { path: '/health', headers: from });
      if (res.status === 429) refused++;
    }
    expect(refused).toBe(1);
    const login = await raw(server.url, {
      method: 'POST',
      path: '/api/v1/auth/login',
      headers: { ...from, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'wrong password here' }),
    });
    expect(login.status).toBe(429);
    expect(login.body.error).toBe('rate_limited');
    expect((await raw(server.url, { path: '/health', headers: { 'x-forwarded-for': '192.0.2.11' } })).status).toBe(200);
  });

  it('limits failed credentials per address, so guessing keys meets a 429 before authentication', async () => {
    const from = { 'x-forwarded-for': '192.0.2.20' };
    const statuses: number[] = [];
    for (let i = 0; i < 101; i++) {
      statuses.push(
        (await raw(server.url, { path: '/api/v1/stats', headers: { ...from, 'x-api-key': `ask_guess${i}` } })).status,
      );
    }
    expect(statuses.slice(0, 100).every((status) => status === 401)).toBe(true);
    expect(statuses[100]).toBe(429);
    // A verified credential from another address is not affected.
    expect(
      (await raw(server.url, { path: '/api/v1/stats', headers: { ...platform, 'x-forwarded-for': '192.0.2.21' } }))
        .status,
    ).toBe(200);
  });
});

describe('bounded load on loopback', () => {
  it('holds a configured rate within 10%: 8 connections for 3 s against 100 a second, burst 50', async () => {
    const key = await tenantWithLimit('loaded', 6_000, 50);
    const statuses = new Map<number, number>();
    const started = performance.now();
    const instance = autocannon({ url: `${server.url}/api/v1/stats`, connections: 8, duration: 3, headers: key });
    instance.on('response', (_client: unknown, status: number) =>
      statuses.set(status, (statuses.get(status) ?? 0) + 1),
    );
    const result = await instance;
    const seconds = (performance.now() - started) / 1000;
    const allowed = statuses.get(200) ?? 0;
    const refused = statuses.get(429) ?? 0;
    expect(result.errors + result.timeouts).toBe(0);
    expect([...statuses.keys()].sort()).toEqual([200, 429]);
    expect(refused).toBeGreaterThan(allowed); // the limiter was under pressure the whole time
    const tokens = 50 + 100 * seconds; // the burst, plus what refilled while the load ran
    expect(allowed).toBeLessThanOrEqual(tokens * 1.1);
    expect(allowed).toBeGreaterThanOrEqual(tokens * 0.9);
  });
});
