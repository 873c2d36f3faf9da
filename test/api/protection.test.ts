import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createKey, createTenant, createUser, xApiKey, type Headers } from '../support/identity.js';
import { raw, type RawResponse } from '../support/raw-http.js';
import { api, newApiKey, startServer, type TestServer } from '../support/server.js';

/**
 * Issue 5 against the real server: the chain's order, Host check, IP filter (X-Forwarded-For
 * through a trusted proxy: the test's 127.0.0.1), headers, CORS, CSRF, the security routes.
 * Rate-limit refusals have their own server (protection-limits.test.ts).
 */

let server: TestServer;
let platform: Headers;
let acme: Headers;
let acmeDeveloper: Headers;
let globex: Headers;

const ALLOWED_ORIGIN = 'https://app.example.com';
const from = (address: string) => ({ 'x-forwarded-for': address });

beforeAll(async () => {
  server = await startServer({
    env: {
      ALLSOURCE_TRUSTED_PROXIES: '127.0.0.1',
      ALLSOURCE_ALLOWED_HOSTS: 'allsource.test',
      ALLSOURCE_CORS_ORIGINS: ALLOWED_ORIGIN,
    },
  });
  platform = xApiKey(server.apiKey);
  await createTenant(server.url, 'acme');
  await createTenant(server.url, 'globex');
  acme = bearer((await createUser(server.url, { username: 'prot-ann', tenant_id: 'acme', role: 'admin' })).token);
  acmeDeveloper = xApiKey((await createKey(server.url, acme, { name: 'dev', role: 'developer' })).key);
  globex = bearer((await createUser(server.url, { username: 'prot-gus', tenant_id: 'globex', role: 'admin' })).token);
});

afterAll(async () => {
  await server?.dispose();
});

function expectError(res: RawResponse | Awaited<ReturnType<typeof api>>, status: number, code: string): void {
  expect({ status: res.status, error: res.body?.error }, res.text).toEqual({ status, error: code });
  expect(typeof res.body.message).toBe('string');
}

const get = (headers: Record<string, string>, path = '/api/v1/stats') => raw(server.url, { path, headers });
const event = { event_type: 'protection.tested', entity_id: 'p-1', payload: { ok: true } };

async function addRule(as: Headers, rule: Record<string, unknown>): Promise<string> {
  const res = await api(server.url, '/api/v1/security/ip-rules', { json: rule, headers: as });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

async function removeRule(id: string): Promise<void> {
  const res = await api(server.url, `/api/v1/security/ip-rules/${id}`, { method: 'DELETE', headers: platform });
  expect(res.status, res.text).toBe(200);
}

describe('the chain: network → headers → rate limit → authentication → authorization → tenant', () => {
  it('refuses a foreign Host with 403 before anything else, /health included', async () => {
    for (const path of ['/health', '/api/v1/stats', '/', '/api/v1/auth/login']) {
      const res = await raw(server.url, {
        path,
        headers: { host: `evil.example:${server.port}`, 'x-api-key': 'ask_bad' },
      });
      expectError(res, 403, 'host_not_allowed');
      expect(res.headers['x-request-id']).toBeUndefined(); // refused before the headers step
    }
    expectError(
      await raw(server.url, { path: '/health', headers: { host: `localhost:${server.port + 1}` } }),
      403,
      'host_not_allowed',
    );
  });

  it('serves the loopback names with the server’s port and the configured names', async () => {
    for (const host of [
      `localhost:${server.port}`,
      `127.0.0.1:${server.port}`,
      `[::1]:${server.port}`,
      'allsource.test',
    ]) {
      expect((await raw(server.url, { path: '/health', headers: { host } })).status, host).toBe(200);
    }
  });

  it('answers a globally blocked address 403 ip_blocked, not 401, for a bad credential: it never reaches authentication', async () => {
    const id = await addRule(platform, { scope: 'global', list: 'block', cidr: '203.0.113.0/24' });
    try {
      expectError(await get({ ...from('203.0.113.5'), 'x-api-key': 'ask_not_a_real_key' }), 403, 'ip_blocked');
      expectError(await get({ ...from('203.0.113.5') }, '/health'), 403, 'ip_blocked');
      expectError(await get({ ...from('::ffff:203.0.113.5'), ...platform }), 403, 'ip_blocked');
      // The same bad credential from elsewhere is a 401.
      expectError(await get({ ...from('198.51.100.1'), 'x-api-key': 'ask_not_a_real_key' }), 401, 'unauthorized');
    } finally {
      await removeRule(id);
    }
  });

  it('applies a tenant’s block to that tenant only, after authentication', async () => {
    const id = await addRule(acme, { scope: 'tenant', list: 'block', cidr: '192.0.2.0/24' });
    try {
      expectError(await get({ ...from('192.0.2.9'), ...acmeDeveloper }), 403, 'ip_blocked');
      expect((await get({ ...from('192.0.2.9'), ...globex })).status).toBe(200);
      expect((await get({ ...from('198.51.100.1'), ...acmeDeveloper })).status).toBe(200);
      // Unknown credential: no tenant, so authentication answers.
      expectError(await get({ ...from('192.0.2.9'), 'x-api-key': 'ask_nope' }), 401, 'unauthorized');
    } finally {
      await removeRule(id);
    }
  });

  it('with default block, lets through only what an allow entry covers', async () => {
    const office = await addRule(acme, { scope: 'tenant', list: 'allow', cidr: '198.51.100.0/24' });
    const self = await addRule(platform, { scope: 'global', list: 'allow', cidr: '127.0.0.1' });
    const put = await api(server.url, '/api/v1/security/settings', {
      method: 'PUT',
      json: { default_ip_action: 'block' },
      headers: platform,
    });
    expect(put.status, put.text).toBe(200);
    try {
      expect((await get({ ...from('198.51.100.7'), ...acmeDeveloper })).status).toBe(200);
      expectError(await get({ ...from('198.51.100.7'), ...globex }), 403, 'ip_blocked');
      expectError(await get({ ...from('192.0.2.200'), 'x-api-key': 'ask_whatever' }), 403, 'ip_blocked');
      expect((await get(platform)).status).toBe(200);
    } finally {
      const back = await api(server.url, '/api/v1/security/settings', {
        method: 'PUT',
        json: { default_ip_action: 'allow' },
        headers: platform,
      });
      expect(back.status, back.text).toBe(200);
      await removeRule(office);
      await removeRule(self);
    }
  });

  it('sets request id, security and rate-limit headers on answers from every later step', async () => {
    const answers = [
      await get({}, '/health'),
      await get(platform),
      await get({ 'x-api-key': 'ask_wrong' }),
      await get(platform, '/api/v1/no-such-route'),
      await get(acmeDeveloper, '/api/v1/tenants'),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 200, 401, 404, 403]);
    for (const res of answers) {
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-xss-protection']).toBe('1; mode=block');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'/);
      expect(Number(res.headers['ratelimit-limit'])).toBeGreaterThan(0);
      expect(res.headers['ratelimit-remaining']).toMatch(/^\d+$/);
      expect(res.headers['ratelimit-reset']).toMatch(/^\d+$/);
      expect(res.headers['x-ratelimit-limit']).toBe(res.headers['ratelimit-limit']);
      expect(res.headers['x-ratelimit-remaining']).toBe(res.headers['ratelimit-remaining']);
    }
  });

  it('keeps a well-formed X-Request-ID and replaces a hostile one', async () => {
    expect((await get({ 'x-request-id': 'trace-42.a:b' }, '/health')).headers['x-request-id']).toBe('trace-42.a:b');
    for (const hostile of ['a b', 'x'.repeat(200), '<script>', 'é']) {
      const res = await get({ 'x-request-id': hostile }, '/health');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('CORS and CSRF', () => {
  it('answers a preflight from an allowed origin, and refuses any other', async () => {
    const preflight = (origin: string) =>
      raw(server.url, {
        method: 'OPTIONS',
        path: '/api/v1/events',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight(ALLOWED_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(ok.headers['access-control-allow-methods']).toContain('POST');
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${server.port}.evil.example`]) {
      const res = await preflight(origin);
      expectError(res, 403, 'origin_not_allowed');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('never sends * nor null, and echoes only listed origins', async () => {
    const allowed = await get({ ...platform, origin: ALLOWED_ORIGIN });
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers['vary']).toMatch(/Origin/);
    for (const origin of ['https://evil.example', 'null']) {
      expect((await get({ ...platform, origin })).headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('refuses state-changing requests that are not JSON, even empty forms', async () => {
    const post = (headers: Record<string, string>, body?: string) =>
      raw(server.url, {
        method: 'POST',
        path: '/api/v1/events',
        headers: { ...platform, ...headers },
        ...(body === undefined ? {} : { body }),
      });
    expectError(
      await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'),
      415,
      'unsupported_media_type',
    );
    expectError(
      await post({ 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }),
      415,
      'unsupported_media_type',
    );
    expectError(await post({ 'content-type': 'text/plain' }, JSON.stringify(event)), 415, 'unsupported_media_type');
    expectError(
      await post({ 'content-type': 'multipart/form-data; boundary=x' }, '--x--'),
      415,
      'unsupported_media_type',
    );
    // A bodiless POST with no Content-Type still works.
    const activate = await raw(server.url, {
      method: 'POST',
      path: '/api/v1/tenants/acme/activate',
      headers: platform,
    });
    expect(activate.status, activate.text).toBe(200);
  });

  it('refuses a state-changing request from another origin, and takes the server’s own and listed ones', async () => {
    const post = (origin: string) =>
      raw(server.url, {
        method: 'POST',
        path: '/api/v1/events',
        headers: { ...platform, origin, 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
    expectError(await post('https://evil.example'), 403, 'origin_not_allowed');
    expectError(await post('null'), 403, 'origin_not_allowed');
    expect((await post(`http://127.0.0.1:${server.port}`)).status).toBe(201);
    expect((await post(ALLOWED_ORIGIN)).status).toBe(201);
  });
});

describe('/api/v1/security/rate-limits', () => {
  it('lists every tenant for a platform admin and only its own for a tenant admin, with adaptive stats', async () => {
    const all = await api(server.url, '/api/v1/security/rate-limits', { headers: platform });
    expect(all.status, all.text).toBe(200);
    expect(all.body.rate_limits.map((r: { tenant_id: string }) => r.tenant_id)).toEqual(
      expect.arrayContaining(['default', 'acme', 'globex']),
    );
    const own = await api(server.url, '/api/v1/security/rate-limits', { headers: acme });
    expect(own.body.rate_limits).toHaveLength(1);
    expect(own.body.rate_limits[0]).toMatchObject({
      tenant_id: 'acme',
      tier: 'professional',
      source: 'config',
      requests_per_minute: 100_000,
      adaptive: { enabled: true, base_limit: 100_000, anomaly: false, system_load: expect.any(Object) },
    });
    expect((await api(server.url, '/api/v1/security/rate-limits/acme', { headers: acme })).status).toBe(200);
    expectError(await api(server.url, '/api/v1/security/rate-limits/globex', { headers: acme }), 404, 'not_found');
    expectError(await api(server.url, '/api/v1/security/rate-limits', { headers: acmeDeveloper }), 403, 'forbidden');
  });

  it('sets overrides and tiers for platform admins only', async () => {
    const put = (tenant: string, json: unknown, as = platform) =>
      api(server.url, `/api/v1/security/rate-limits/${tenant}`, { method: 'PUT', json, headers: as });
    const override = await put('globex', { requests_per_minute: 5000, burst_size: 50 });
    expect(override.status, override.text).toBe(200);
    expect(override.body).toMatchObject({
      tenant_id: 'globex',
      source: 'override',
      requests_per_minute: 5000,
      burst_size: 50,
    });
    const tier = await put('globex', { tier: 'free' });
    expect(tier.body).toMatchObject({ tier: 'free', source: 'config' }); // the test config's tier still replaces tiers
    expect((await api(server.url, '/api/v1/tenants/globex', { headers: platform })).body.rate_tier).toBe('free');
    expectError(await put('acme', { tier: 'unlimited' }, acme), 403, 'forbidden');
    expectError(await put('nobody', { tier: 'free' }), 404, 'not_found');
  });
});

describe('/api/v1/security/ip-rules', () => {
  it('creates, lists and deletes rules by scope and permission', async () => {
    const tenantRule = await addRule(acme, { list: 'allow', scope: 'tenant', cidr: '2001:db8::/32', note: 'office' });
    const list = await api(server.url, '/api/v1/security/ip-rules', { headers: acme });
    expect(list.body.ip_rules).toEqual([
      expect.objectContaining({
        id: tenantRule,
        scope: 'tenant',
        tenant_id: 'acme',
        list: 'allow',
        cidr: '2001:db8::/32',
        note: 'office',
      }),
    ]);
    expect((await api(server.url, '/api/v1/security/ip-rules', { headers: globex })).body.ip_rules).toEqual([]);
    expectError(
      await api(server.url, '/api/v1/security/ip-rules', {
        json: { scope: 'global', list: 'block', cidr: '10.0.0.0/8' },
        headers: acme,
      }),
      403,
      'forbidden',
    );
    expectError(
      await api(server.url, '/api/v1/security/ip-rules', {
        json: { scope: 'tenant', tenant_id: 'globex', list: 'block', cidr: '10.0.0.0/8' },
        headers: acme,
      }),
      403,
      'forbidden',
    );
    expectError(
      await api(server.url, `/api/v1/security/ip-rules/${tenantRule}`, { method: 'DELETE', headers: globex }),
      404,
      'not_found',
    );
    expectError(
      await api(server.url, '/api/v1/security/ip-rules', {
        json: { scope: 'tenant', list: 'allow', cidr: '2001:db8:0::/32' },
        headers: acme,
      }),
      409,
      'conflict',
    );
    expect(
      (await api(server.url, `/api/v1/security/ip-rules/${tenantRule}`, { method: 'DELETE', headers: acme })).status,
    ).toBe(200);
    expectError(
      await api(server.url, `/api/v1/security/ip-rules/${tenantRule}`, { method: 'DELETE', headers: acme }),
      404,
      'not_found',
    );
  });

  it('refuses a rule or a default that would block the admin making it', async () => {
    const self = await api(server.url, '/api/v1/security/ip-rules', {
      json: { scope: 'global', list: 'block', cidr: '127.0.0.0/8' },
      headers: platform,
    });
    expectError(self, 409, 'conflict');
    expect(self.body.your_address).toBe('127.0.0.1');
    const settings = await api(server.url, '/api/v1/security/settings', {
      method: 'PUT',
      json: { default_ip_action: 'block' },
      headers: platform,
    });
    expectError(settings, 409, 'conflict');
  });
});

describe('/api/v1/security/settings', () => {
  it('shows and changes the settings, for platform admins only, effective at once', async () => {
    const before = await api(server.url, '/api/v1/security/settings', { headers: platform });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      enable_hsts: true,
      hsts_max_age: 31_536_000,
      cors_origins: [ALLOWED_ORIGIN],
      default_ip_action: 'allow',
      dev_mode: false,
      tls: false,
      trusted_proxies: ['127.0.0.1'],
      allowed_hosts: ['allsource.test'],
      rate_limit_tier: 'dev_mode',
      adaptive: { enabled: true, min_rate_limit: 10, max_rate_limit: 10_000 },
    });
    const put = await api(server.url, '/api/v1/security/settings', {
      method: 'PUT',
      json: {
        enable_hsts: false,
        cors_origins: [ALLOWED_ORIGIN, 'http://localhost:5173'],
        adaptive: { adjustment_factor: 0.2 },
      },
      headers: platform,
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.adaptive).toMatchObject({ adjustment_factor: 0.2, enabled: true });
    const after = await get({ origin: 'http://localhost:5173' }, '/health');
    expect(after.headers['strict-transport-security']).toBeUndefined();
    expect(after.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    await api(server.url, '/api/v1/security/settings', {
      method: 'PUT',
      json: { enable_hsts: true },
      headers: platform,
    });
    expectError(await api(server.url, '/api/v1/security/settings', { headers: acme }), 403, 'forbidden');
    expectError(
      await api(server.url, '/api/v1/security/settings', {
        method: 'PUT',
        json: { enable_hsts: false },
        headers: acme,
      }),
      403,
      'forbidden',
    );
  });
});

describe('bad input on the security routes: 4xx JSON, and the server stays up', () => {
  const cases: Array<[string, string, unknown, number]> = [
    ['POST', '/api/v1/security/ip-rules', { scope: 'global', list: 'block', cidr: 'not-an-ip' }, 400],
    ['POST', '/api/v1/security/ip-rules', { scope: 'global', list: 'block', cidr: '10.0.0.1/8' }, 400],
    ['POST', '/api/v1/security/ip-rules', { scope: 'global', list: 'block', cidr: '::/129' }, 400],
    ['POST', '/api/v1/security/ip-rules', { scope: 'planet', list: 'block', cidr: '10.0.0.0/8' }, 400],
    ['POST', '/api/v1/security/ip-rules', { scope: 'global', list: 'block', cidr: '10.0.0.0/8', extra: 1 }, 400],
    ['POST', '/api/v1/security/ip-rules', { scope: 'global', list: 'block', cidr: '1'.repeat(10_000) }, 400],
    ['POST', '/api/v1/security/ip-rules', [1, 2, 3], 400],
    ['POST', '/api/v1/security/ip-rules', null, 400],
    [
      'POST',
      '/api/v1/security/ip-rules',
      { scope: 'tenant', tenant_id: 'nobody', list: 'allow', cidr: '10.0.0.0/8' },
      404,
    ],
    ['PUT', '/api/v1/security/rate-limits/acme', { requests_per_minute: 0, burst_size: 1 }, 400],
    ['PUT', '/api/v1/security/rate-limits/acme', { requests_per_minute: 1e12, burst_size: 1 }, 400],
    ['PUT', '/api/v1/security/rate-limits/acme', { requests_per_minute: 1.5, burst_size: 1 }, 400],
    ['PUT', '/api/v1/security/rate-limits/acme', { tier: 'platinum' }, 400],
    ['PUT', '/api/v1/security/rate-limits/acme', { tier: 'free', burst_size: 3 }, 400],
    ['PUT', '/api/v1/security/rate-limits/acme', {}, 400],
    ['PUT', `/api/v1/security/rate-limits/${'x'.repeat(500)}`, { tier: 'free' }, 404],
    ['PUT', '/api/v1/security/rate-limits/..%2F..%2Fetc', { tier: 'free' }, 404],
    ['PUT', '/api/v1/security/settings', { dev_mode: true }, 400],
    ['PUT', '/api/v1/security/settings', { csp_api: "default-src 'none'\r\nX-Evil: 1" }, 400],
    ['PUT', '/api/v1/security/settings', { cors_origins: ['*'] }, 400],
    ['PUT', '/api/v1/security/settings', { cors_origins: 'https://a.example' }, 400],
    ['PUT', '/api/v1/security/settings', { hsts_max_age: -1 }, 400],
    ['PUT', '/api/v1/security/settings', { adaptive: { min_rate_limit: 50_000 } }, 400],
    ['PUT', '/api/v1/security/settings', { default_ip_action: 'maybe' }, 400],
    ['DELETE', '/api/v1/security/ip-rules/%E0%A4%A', undefined, 400],
    ['DELETE', `/api/v1/security/ip-rules/${'z'.repeat(5000)}`, undefined, 404],
    ['GET', '/api/v1/security/rate-limits/%00', undefined, 404],
  ];

  it.each(cases)('%s %s %j → %i', async (method, path, json, status) => {
    const res = await api(server.url, path, { method, headers: platform, ...(json === undefined ? {} : { json }) });
    expect(res.status, res.text).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof res.body.error).toBe('string');
  });

  it('refuses malformed JSON, oversized bodies and non-JSON bodies', async () => {
    const send = (body: string, type = 'application/json') =>
      raw(server.url, {
        method: 'POST',
        path: '/api/v1/security/ip-rules',
        headers: { ...platform, 'content-type': type },
        body,
      });
    expectError(await send('{"scope":'), 400, 'invalid_request');
    expectError(await send(JSON.stringify({ cidr: 'x'.repeat(2 * 1024 * 1024) })), 413, 'payload_too_large');
    expectError(await send('scope=global', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
  });

  it('refuses every route without a credential, and stays healthy', async () => {
    for (const path of ['/api/v1/security/rate-limits', '/api/v1/security/ip-rules', '/api/v1/security/settings']) {
      expectError(await api(server.url, path, { anonymous: true }), 401, 'unauthorized');
    }
    expect((await api(server.url, '/health')).status).toBe(200);
  });
});

describe('persistence', () => {
  it('keeps overrides, rules and settings across a restart', async () => {
    const own = await startServer();
    const key = xApiKey(own.apiKey);
    await createTenant(own.url, 'kept');
    const put = await api(own.url, '/api/v1/security/rate-limits/kept', {
      method: 'PUT',
      json: { requests_per_minute: 120, burst_size: 7 },
      headers: key,
    });
    expect(put.status, put.text).toBe(200);
    const rule = await api(own.url, '/api/v1/security/ip-rules', {
      json: { scope: 'global', list: 'block', cidr: '198.18.0.0/15' },
      headers: key,
    });
    expect(rule.status, rule.text).toBe(201);
    await api(own.url, '/api/v1/security/settings', {
      method: 'PUT',
      json: { frame_options: 'SAMEORIGIN' },
      headers: key,
    });
    await own.close();
    const again = await startServer({ dataDir: own.dataDir, masterKeyHex: own.masterKeyHex, apiKey: own.apiKey });
    try {
      const limits = await api(again.url, '/api/v1/security/rate-limits/kept', { headers: key });
      expect(limits.body).toMatchObject({ source: 'override', requests_per_minute: 120, burst_size: 7 });
      const rules = await api(again.url, '/api/v1/security/ip-rules', { headers: key });
      expect(rules.body.ip_rules).toEqual([
        expect.objectContaining({ cidr: '198.18.0.0/15', list: 'block', scope: 'global' }),
      ]);
      expect((await api(again.url, '/health')).headers.get('x-frame-options')).toBe('SAMEORIGIN');
    } finally {
      await again.dispose();
    }
  });

  it('deletes a tenant’s override and rules with the tenant', async () => {
    await createTenant(server.url, 'short-lived');
    await api(server.url, '/api/v1/security/rate-limits/short-lived', {
      method: 'PUT',
      json: { requests_per_minute: 9, burst_size: 9 },
      headers: platform,
    });
    await addRule(platform, { scope: 'tenant', tenant_id: 'short-lived', list: 'block', cidr: '10.9.0.0/16' });
    const deleted = await api(server.url, '/api/v1/tenants/short-lived', { method: 'DELETE', headers: platform });
    expect(deleted.status, deleted.text).toBe(200);
    const rules = await api(server.url, '/api/v1/security/ip-rules', { headers: platform });
    expect(rules.body.ip_rules.filter((r: { tenant_id: string }) => r.tenant_id === 'short-lived')).toEqual([]);
  });
});

describe('dev mode', () => {
  it('has no rate limits, but keeps the Host check and the headers', async () => {
    const dev = await startServer({ env: { ALLSOURCE_DEV_MODE: 'true' }, apiKey: newApiKey() });
    try {
      const res = await raw(dev.url, { path: '/api/v1/stats' });
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const limits = await api(dev.url, '/api/v1/security/rate-limits', { anonymous: true });
      expect(limits.body.enabled).toBe(false);
      expectError(
        await raw(dev.url, { path: '/health', headers: { host: 'rebound.example' } }),
        403,
        'host_not_allowed',
      );
    } finally {
      await dev.dispose();
    }
  });
});
