import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { deriveKey, parseMasterKeyHex } from '../../src/server/kms/index.js';
import {
  bearer,
  createKey,
  createTenant,
  createUser,
  login,
  rawAuthorization,
  strongPassword,
  xApiKey,
  type Headers,
  type TestKey,
  type TestUser,
} from '../support/identity.js';
import { api, newApiKey, startServer, tempDir, type TestServer } from '../support/server.js';

/**
 * Authentication and authorization over HTTP (issue 3): logins, logout, password changes and
 * policy, JWT attacks, the three credential forms, 401 against 403, suspended tenants, revoked
 * and expired keys, dev mode and the bootstrap key.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

type Reply = Awaited<ReturnType<typeof api>>;

function expectUnauthorized(res: Reply): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status: 401, error: 'unauthorized' });
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
}

function expectForbidden(res: Reply, code = 'forbidden'): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status: 403, error: code });
  expect(res.headers.get('www-authenticate')).toBeNull();
}

const me = (base: string, headers: Headers) => api(base, '/api/v1/auth/me', { headers });

/** A clock the test moves by hand; the server reads it for tokens, keys and event timestamps. */
function manualClock(start = Date.now()) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const servers: TestServer[] = [];
async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
afterAll(async () => {
  for (const s of servers) {
    await s.dispose();
    rmSync(dirname(s.config.adminPasswordFile), { recursive: true, force: true });
  }
});

/** The server of the first block: no dev mode. */
let plain: TestServer;

describe('on one server', () => {
  let s: TestServer;
  let ann: TestUser; // admin of acme
  let dave: TestUser; // developer of acme
  let rita: TestUser; // readonly of acme
  let annKey: TestKey;
  let readonlyKey: TestKey;
  let serviceKey: TestKey;

  beforeAll(async () => {
    s = plain = await server();
    await createTenant(s.url, 'acme');
    ann = await createUser(s.url, { username: 'ann', tenant_id: 'acme', role: 'admin' });
    dave = await createUser(s.url, { username: 'dave', tenant_id: 'acme', role: 'developer' });
    rita = await createUser(s.url, { username: 'rita', tenant_id: 'acme', role: 'readonly' });
    annKey = await createKey(s.url, bearer(ann.token), { name: 'ann-admin' });
    readonlyKey = await createKey(s.url, bearer(ann.token), { name: 'ro', role: 'readonly' });
    serviceKey = await createKey(s.url, bearer(ann.token), { name: 'svc', role: 'serviceaccount' });
  });

  describe('login and logout', () => {
    it('login answers 200 {token, user} and never shows a password hash', async () => {
      const res = await api(s.url, '/api/v1/auth/login', {
        json: { username: 'ann', password: ann.password },
        anonymous: true,
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        user: {
          id: ann.id,
          username: 'ann',
          email: 'ann@example.test',
          role: 'admin',
          tenant_id: 'acme',
          created_at: expect.any(String),
        },
      });
      expect(res.text).not.toContain('argon2');
      expect(res.text).not.toContain(ann.password);
    });

    it('a wrong password, an unknown user and an over-long username get the same 401 body', async () => {
      const attempt = (username: string, password: string) =>
        api(s.url, '/api/v1/auth/login', { json: { username, password }, anonymous: true });
      const wrong = await attempt('ann', 'not the right passphrase');
      const unknown = await attempt('nobody-at-all', 'not the right passphrase');
      const tooLong = await attempt('a'.repeat(200), 'not the right passphrase');
      const caseOnly = await attempt('ann', ann.password.toUpperCase());
      for (const res of [wrong, unknown, tooLong, caseOnly]) {
        expectUnauthorized(res);
        expect(res.body).toEqual(wrong.body);
        expect(res.text).not.toContain('not the right passphrase');
      }
      expect(wrong.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
    });

    it('logout revokes the token it is sent with (then 401), and only that token', async () => {
      const first = await login(s.url, 'dave', dave.password);
      const second = await login(s.url, 'dave', dave.password);
      expect((await me(s.url, bearer(first))).status).toBe(200);
      const out = await api(s.url, '/api/v1/auth/logout', { method: 'POST', headers: bearer(first) });
      expect(out.status).toBe(200);
      expect(out.body).toEqual({ logged_out: true });
      expectUnauthorized(await me(s.url, bearer(first)));
      expectUnauthorized(await api(s.url, '/api/v1/auth/logout', { method: 'POST', headers: bearer(first) }));
      expect((await me(s.url, bearer(second))).status).toBe(200);
    });

    it('logout with an API key is a 400: keys are revoked, not logged out', async () => {
      const res = await api(s.url, '/api/v1/auth/logout', { method: 'POST', headers: xApiKey(readonlyKey.key) });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect((await me(s.url, xApiKey(readonlyKey.key))).status).toBe(200);
    });
  });

  describe('passwords', () => {
    it('a password change ends every earlier token; the new password and its token work', async () => {
      const user = await createUser(s.url, { username: 'paula', tenant_id: 'acme', role: 'developer' });
      const other = await login(s.url, 'paula', user.password);
      const next = strongPassword();
      const res = await api(s.url, '/api/v1/auth/password', {
        method: 'PUT',
        headers: bearer(user.token),
        json: { current_password: user.password, new_password: next },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ changed: true });
      expectUnauthorized(await me(s.url, bearer(user.token)));
      expectUnauthorized(await me(s.url, bearer(other)));
      expectUnauthorized(
        await api(s.url, '/api/v1/auth/login', {
          json: { username: 'paula', password: user.password },
          anonymous: true,
        }),
      );
      const fresh = await login(s.url, 'paula', next);
      expect((await me(s.url, bearer(fresh))).body).toMatchObject({ id: user.id, username: 'paula' });
    });

    it('a wrong current password is refused (403) and ends nothing; the same password again is a 400', async () => {
      const user = await createUser(s.url, { username: 'quinn', tenant_id: 'acme', role: 'developer' });
      const wrong = await api(s.url, '/api/v1/auth/password', {
        method: 'PUT',
        headers: bearer(user.token),
        json: { current_password: 'not my passphrase at all', new_password: strongPassword() },
      });
      expectForbidden(wrong);
      expect((await me(s.url, bearer(user.token))).status).toBe(200);
      const same = await api(s.url, '/api/v1/auth/password', {
        method: 'PUT',
        headers: bearer(user.token),
        json: { current_password: user.password, new_password: user.password },
      });
      expect(same.status).toBe(400);
      expect(same.text).not.toContain(user.password);
      expect((await me(s.url, bearer(user.token))).status).toBe(200);
    });

    const policy: Array<[string, string, string, RegExp]> = [
      ['too short (7 characters)', 'carol', 'Zq7#vK2', /8 to 128 characters/],
      ['too long (129 characters)', 'carol', 'x'.repeat(129), /8 to 128 characters/],
      ['equal to the username', 'carolina', 'carolina', /must not be the username/],
      ['equal to the username but for case', 'carolina', 'CaRoLiNa', /must not be the username/],
      ['a common password', 'carol', 'password123', /commonly used password/],
      ['a common password in upper case', 'carol', 'PASSWORD123', /commonly used password/],
    ];

    it.each(policy)(
      'register with a password %s → 400 with a clear message',
      async (_name, username, password, why) => {
        const res = await api(s.url, '/api/v1/auth/register', {
          headers: bearer(ann.token),
          json: { username, email: `${username}@example.test`, password, role: 'developer' },
        });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^password: /) });
        expect(res.body.message).toMatch(why);
        expect(res.text).not.toContain(password);
        expect((await api(s.url, '/api/v1/auth/users', { headers: bearer(ann.token) })).text).not.toContain(
          `"${username}"`,
        );
      },
    );

    it.each(policy.filter(([, username]) => username === 'carol'))(
      'a new password %s → 400 on PUT /auth/password too',
      async (_name, _username, password, why) => {
        const res = await api(s.url, '/api/v1/auth/password', {
          method: 'PUT',
          headers: bearer(rita.token),
          json: { current_password: rita.password, new_password: password },
        });
        expect(res.status).toBe(400);
        expect(res.body.message).toMatch(/^new_password: /);
        expect(res.body.message).toMatch(why);
        expect((await me(s.url, bearer(rita.token))).status).toBe(200);
      },
    );

    it('the limits themselves are accepted: 8 and 128 characters', async () => {
      for (const [username, password] of [
        ['eight', 'Zq7#vK2!'],
        ['onetwentyeight', 'y'.repeat(127) + 'z'],
      ] as const) {
        const res = await api(s.url, '/api/v1/auth/register', {
          headers: bearer(ann.token),
          json: { username, email: `${username}@example.test`, password },
        });
        expect(res.status, res.text).toBe(201);
        expect(await login(s.url, username, password)).toMatch(/\./);
      }
    });
  });

  describe('JWT attacks over HTTP', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    const secret = () => deriveKey(parseMasterKeyHex(s.masterKeyHex, 'test'), 'allsource/jwt');

    /** The claims of a real token of `user`, with changes. */
    const claimsOf = (user: TestUser, changes: Record<string, unknown> = {}) => {
      const claims = { ...decode(user.token.split('.')[1]!), ...changes };
      for (const [name, value] of Object.entries(changes)) if (value === undefined) delete claims[name];
      return claims;
    };

    /** Signed with jose, by default with the server's real key and header. */
    const sign = (
      claims: Record<string, unknown>,
      header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
      key: Uint8Array = secret(),
    ) => new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);

    it('the forging helper is right: the real claims re-signed with the real key are accepted', async () => {
      const token = await sign(claimsOf(ann));
      expect((await me(s.url, bearer(token))).body).toMatchObject({ id: ann.id, tenant_id: 'acme' });
    });

    const now = () => Math.floor(Date.now() / 1000);
    const attacks: Array<[string, () => Promise<string> | string]> = [
      ['alg none, no signature', () => `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claimsOf(ann))}.`],
      [
        'alg none, keeping the real signature',
        () => `${encode({ alg: 'none' })}.${encode(claimsOf(ann))}.${ann.token.split('.')[2]}`,
      ],
      ['alg "None"', () => `${encode({ alg: 'None', typ: 'JWT' })}.${encode(claimsOf(ann))}.`],
      ['HS256 with a wrong secret', () => sign(claimsOf(ann), undefined, randomBytes(32))],
      ['HS256 with an empty-ish secret', () => sign(claimsOf(ann), undefined, new Uint8Array(32))],
      ['HS512 with the right secret', () => sign(claimsOf(ann), { alg: 'HS512', typ: 'JWT' })],
      ['HS384 with the right secret', () => sign(claimsOf(ann), { alg: 'HS384', typ: 'JWT' })],
      ['expired (right secret)', () => sign(claimsOf(ann, { iat: now() - 7200, exp: now() - 3600 }))],
      ['wrong issuer (right secret)', () => sign(claimsOf(ann, { iss: 'someone-else' }))],
      ['no issuer (right secret)', () => sign(claimsOf(ann, { iss: undefined }))],
      ['wrong audience (right secret)', () => sign(claimsOf(ann, { aud: 'another-api' }))],
      ['no audience (right secret)', () => sign(claimsOf(ann, { aud: undefined }))],
      ['no jti (right secret)', () => sign(claimsOf(ann, { jti: undefined }))],
      ['a jti that is not a UUIDv7 (right secret)', () => sign(claimsOf(ann, { jti: 'abc' }))],
      ['an unknown role (right secret)', () => sign(claimsOf(ann, { role: 'root' }))],
      ['not yet valid (right secret)', () => sign(claimsOf(ann, { nbf: now() + 3600 }))],
      [
        'role edited without re-signing',
        () => {
          const [h, , sig] = rita.token.split('.');
          return `${h}.${encode(claimsOf(rita, { role: 'admin' }))}.${sig}`;
        },
      ],
      [
        'tenant_id edited without re-signing',
        () => {
          const [h, , sig] = ann.token.split('.');
          return `${h}.${encode(claimsOf(ann, { tenant_id: 'default' }))}.${sig}`;
        },
      ],
      [
        'exp extended without re-signing',
        () => {
          const [h, , sig] = ann.token.split('.');
          return `${h}.${encode(claimsOf(ann, { exp: now() + 10 * 365 * 86400 }))}.${sig}`;
        },
      ],
      [
        're-signed with the right secret: tenant_id of another tenant, sub a user of acme',
        () => sign(claimsOf(ann, { tenant_id: 'default' })),
      ],
      ['re-signed with the right secret: sub of a user that does not exist', () => sign(claimsOf(ann, { sub: 'x' }))],
      ['a kid header (right secret)', () => sign(claimsOf(ann), { alg: 'HS256', typ: 'JWT', kid: 'other-key' })],
      [
        'a jku header (right secret)',
        () => sign(claimsOf(ann), { alg: 'HS256', typ: 'JWT', jku: 'https://evil.example/keys' }),
      ],
      ['a typ other than JWT (right secret)', () => sign(claimsOf(ann), { alg: 'HS256', typ: 'at+jwt' })],
      ['the signature cut off', () => ann.token.split('.').slice(0, 2).join('.')],
      ['two tokens glued', () => `${ann.token}.${ann.token}`],
      ['a 5,000-character token', () => `${ann.token}${'A'.repeat(5000)}`],
    ];

    it.each(attacks)('%s → 401 with WWW-Authenticate', async (_name, make) => {
      const token = await make();
      for (const headers of [bearer(token), rawAuthorization(token)]) {
        const res = await me(s.url, headers);
        expectUnauthorized(res);
        expect(res.text).not.toContain(token.split('.')[1]!.slice(0, 40));
        expectUnauthorized(await api(s.url, '/api/v1/events/query', { headers }));
      }
    });

    it('a role claim re-signed with the right secret grants nothing: the user’s stored role counts', async () => {
      const token = await sign(claimsOf(rita, { role: 'admin' }));
      expect((await me(s.url, bearer(token))).body).toMatchObject({ id: rita.id, role: 'readonly' });
      const res = await api(s.url, '/api/v1/auth/users', { headers: bearer(token) });
      expectForbidden(res);
      expect(res.body.required_permission).toBe('admin');
    });
  });

  describe('credentials in all three forms', () => {
    const forms: Array<[string, () => Headers, () => string]> = [
      ['a token as Authorization: Bearer', () => bearer(ann.token), () => ann.id],
      ['a token as Authorization: bearer (lower case)', () => ({ authorization: `bearer ${ann.token}` }), () => ann.id],
      ['a token as a raw Authorization', () => rawAuthorization(ann.token), () => ann.id],
      ['an API key as Authorization: Bearer', () => bearer(annKey.key), () => annKey.id],
      ['an API key as a raw Authorization', () => rawAuthorization(annKey.key), () => annKey.id],
      ['an API key as X-API-Key', () => xApiKey(annKey.key), () => annKey.id],
    ];
    it.each(forms)('%s works', async (_name, headers, id) => {
      const res = await me(s.url, headers());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: id(), tenant_id: 'acme' });
      const write = await api(s.url, '/api/v1/events', {
        headers: headers(),
        json: { event_type: 'form.checked', entity_id: 'forms', payload: {} },
      });
      expect(write.status).toBe(201);
    });
  });

  describe('401 and 403 are never confused', () => {
    const protectedRoutes: Array<[string, string, unknown?]> = [
      ['POST', '/api/v1/events', { event_type: 'a', entity_id: 'b', payload: {} }],
      ['POST', '/api/v1/events/batch', { events: [] }],
      ['GET', '/api/v1/events/query'],
      ['GET', '/api/v1/events/0190a6e0-0000-7000-8000-000000000000'],
      ['GET', '/api/v1/events/subscribe'],
      ['GET', '/api/v1/streams'],
      ['GET', '/api/v1/event-types'],
      ['GET', '/api/v1/stats'],
      ['GET', '/api/v1/entities/x/state'],
      ['GET', '/metrics'],
      ['GET', '/api/v1/auth/me'],
      ['POST', '/api/v1/auth/logout'],
      ['PUT', '/api/v1/auth/password', { current_password: 'a', new_password: 'b' }],
      ['POST', '/api/v1/auth/register', { username: 'x', email: 'x@y.z', password: 'p' }],
      ['POST', '/api/v1/auth/api-keys', { name: 'x' }],
      ['GET', '/api/v1/auth/api-keys'],
      ['DELETE', '/api/v1/auth/api-keys/x'],
      ['GET', '/api/v1/auth/users'],
      ['PUT', '/api/v1/auth/users/x/role', { role: 'admin' }],
      ['DELETE', '/api/v1/auth/users/x'],
      ['POST', '/api/v1/tenants', { tenant_id: 'x', name: 'x' }],
      ['GET', '/api/v1/tenants'],
      ['GET', '/api/v1/tenants/default'],
      ['PUT', '/api/v1/tenants/default', { name: 'x' }],
      ['DELETE', '/api/v1/tenants/x'],
      ['POST', '/api/v1/tenants/x/activate'],
      ['POST', '/api/v1/tenants/x/deactivate'],
    ];
    const badCredentials: Array<[string, Headers]> = [
      ['no credential', {}],
      ['an empty Bearer', { authorization: 'Bearer ' }],
      ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['garbage', { authorization: 'Bearer not-a-token' }],
      ['a malformed API key', xApiKey('ask_short')],
      ['a well-formed API key nobody issued', xApiKey(newApiKey())],
    ];
    const cases = protectedRoutes.flatMap(([method, path, json]) =>
      badCredentials.map(([who, headers]) => [`${method} ${path} with ${who}`, method, path, json, headers] as const),
    );

    it.each(cases)('%s → 401', async (_name, method, path, json, headers) => {
      const res = await api(s.url, path, {
        method,
        headers,
        anonymous: true,
        ...(json === undefined ? {} : { json }),
      });
      expectUnauthorized(res);
      expect(res.body.message).toEqual(expect.any(String));
    });

    const denied: Array<[string, () => Headers, string, string, unknown, string]> = [
      [
        'a readonly key',
        () => xApiKey(readonlyKey.key),
        'POST',
        '/api/v1/events',
        { event_type: 'a', entity_id: 'b', payload: {} },
        'write',
      ],
      [
        'a readonly user',
        () => bearer(rita.token),
        'POST',
        '/api/v1/events/batch',
        { events: [{ event_type: 'a', entity_id: 'b', payload: {} }] },
        'write',
      ],
      ['a serviceaccount key', () => xApiKey(serviceKey.key), 'GET', '/metrics', undefined, 'metrics'],
      ['a developer', () => bearer(dave.token), 'GET', '/api/v1/auth/users', undefined, 'admin'],
      ['a developer', () => bearer(dave.token), 'POST', '/api/v1/auth/api-keys', { name: 'mine' }, 'admin'],
      ['a readonly key', () => xApiKey(readonlyKey.key), 'POST', '/api/v1/auth/api-keys', { name: 'mine' }, 'admin'],
      [
        'a readonly user',
        () => bearer(rita.token),
        'POST',
        '/api/v1/auth/api-keys',
        { name: 'mine', role: 'readonly' },
        'admin',
      ],
      ['a developer', () => bearer(dave.token), 'DELETE', '/api/v1/auth/api-keys/x', undefined, 'admin'],
      ['a developer', () => bearer(dave.token), 'PUT', '/api/v1/auth/users/x/role', { role: 'admin' }, 'admin'],
      ['a tenant admin', () => bearer(ann.token), 'GET', '/api/v1/tenants', undefined, 'manage_tenants'],
      [
        'a tenant admin key',
        () => xApiKey(annKey.key),
        'POST',
        '/api/v1/tenants',
        { tenant_id: 'mine', name: 'x' },
        'manage_tenants',
      ],
    ];

    it.each(denied)('%s on %s %s → 403 naming the permission', async (_who, headers, method, path, json, perm) => {
      const before = (await api(s.url, '/api/v1/stats', { headers: bearer(ann.token) })).body;
      const res = await api(s.url, path, { method, headers: headers(), ...(json === undefined ? {} : { json }) });
      expectForbidden(res);
      expect(res.body.required_permission).toBe(perm);
      expect((await api(s.url, '/api/v1/stats', { headers: bearer(ann.token) })).body).toEqual(before);
    });

    it('a developer and a readonly user can still read; a serviceaccount can write', async () => {
      expect((await api(s.url, '/api/v1/stats', { headers: bearer(dave.token) })).status).toBe(200);
      expect((await api(s.url, '/metrics', { headers: bearer(rita.token) })).status).toBe(200);
      const write = await api(s.url, '/api/v1/events', {
        headers: xApiKey(serviceKey.key),
        json: { event_type: 'svc.wrote', entity_id: 'svc', payload: {} },
      });
      expect(write.status).toBe(201);
    });

    it('a bad credential on POST /auth/register is a 401, not a hang or a crash', async () => {
      for (const headers of [bearer('not-a-token'), xApiKey(newApiKey())]) {
        const res = await api(s.url, '/api/v1/auth/register', {
          headers,
          json: { username: 'sneaky', email: 'sneaky@example.test', password: strongPassword() },
          signal: AbortSignal.timeout(10_000),
        });
        expectUnauthorized(res);
      }
      expect((await api(s.url, '/health')).status).toBe(200);
    });
  });

  describe('suspended tenants', () => {
    it('a suspended tenant’s token, key and login get 403 tenant_suspended; reactivated, they work again', async () => {
      await createTenant(s.url, 'sleepy');
      const user = await createUser(s.url, { username: 'sam', tenant_id: 'sleepy', role: 'admin' });
      const key = await createKey(s.url, bearer(user.token), { name: 'sam-key' });
      // Used once: the key is now in the verified cache, which suspension must not bypass.
      expect((await me(s.url, xApiKey(key.key))).status).toBe(200);

      const off = await api(s.url, '/api/v1/tenants/sleepy/deactivate', { method: 'POST' });
      expect(off.body.status).toBe('suspended');
      for (const headers of [bearer(user.token), xApiKey(key.key), rawAuthorization(key.key)]) {
        for (const path of ['/api/v1/auth/me', '/api/v1/stats', '/api/v1/events/query']) {
          const res = await api(s.url, path, { headers });
          expectForbidden(res, 'tenant_suspended');
          expect(res.body.tenant_id).toBe('sleepy');
        }
      }
      const write = await api(s.url, '/api/v1/events', {
        headers: xApiKey(key.key),
        json: { event_type: 'a', entity_id: 'b', payload: {} },
      });
      expectForbidden(write, 'tenant_suspended');
      const relogin = await api(s.url, '/api/v1/auth/login', {
        json: { username: 'sam', password: user.password },
        anonymous: true,
      });
      expectForbidden(relogin, 'tenant_suspended');
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/events/stream`, { headers: bearer(user.token) });
      const [error] = (await once(ws, 'error')) as [Error];
      expect(error.message).toContain('403');

      const on = await api(s.url, '/api/v1/tenants/sleepy/activate', { method: 'POST' });
      expect(on.body.status).toBe('active');
      for (const headers of [bearer(user.token), xApiKey(key.key)]) {
        expect((await me(s.url, headers)).status).toBe(200);
      }
      expect(await login(s.url, 'sam', user.password)).toMatch(/\./);
      const stats = await api(s.url, '/api/v1/stats', { headers: xApiKey(key.key) });
      expect(stats.body.total_events).toBe(0);
    });
  });

  describe('API keys', () => {
    it('the raw key appears once, at creation; the list and /auth/me never show a secret', async () => {
      const res = await api(s.url, '/api/v1/auth/api-keys', {
        headers: bearer(ann.token),
        json: { name: 'shown-once', role: 'developer', expires_in_days: 30 },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'shown-once',
        role: 'developer',
        tenant_id: 'acme',
        key: expect.stringMatching(/^ask_[A-Za-z0-9_-]{64}$/),
        expires_at: expect.any(String),
      });
      const raw: string = res.body.key;
      const secretPart = raw.slice(4 + 22); // after the prefix and the key id's 16 bytes
      const list = await api(s.url, '/api/v1/auth/api-keys', { headers: bearer(ann.token) });
      const listed = list.body.api_keys.find((k: any) => k.id === res.body.id);
      expect(Object.keys(listed).sort()).toEqual(
        ['created_at', 'expires_at', 'id', 'last_used', 'name', 'revoked', 'role', 'tenant_id'].sort(),
      );
      const self = await me(s.url, xApiKey(raw));
      expect(self.body).toMatchObject({ id: res.body.id, name: 'shown-once', role: 'developer' });
      for (const text of [list.text, self.text]) {
        expect(text).not.toContain(raw);
        expect(text).not.toContain(raw.slice(4));
        expect(text).not.toContain(secretPart.slice(0, 16));
        expect(text).not.toContain('argon2');
        expect(text).not.toMatch(/"(key|secret|secret_hash|hash)"/);
      }
    });

    it('a revoked key is refused at once, even right after it was used (from the verified cache)', async () => {
      const key = await createKey(s.url, bearer(ann.token), { name: 'short-lived', role: 'developer' });
      for (let i = 0; i < 3; i++) expect((await me(s.url, xApiKey(key.key))).status).toBe(200);
      const revoked = await api(s.url, `/api/v1/auth/api-keys/${key.id}`, {
        method: 'DELETE',
        headers: bearer(ann.token),
      });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({ revoked: true });
      expectUnauthorized(await me(s.url, xApiKey(key.key)));
      expectUnauthorized(await me(s.url, bearer(key.key)));
      const list = await api(s.url, '/api/v1/auth/api-keys', { headers: bearer(ann.token) });
      expect(list.body.api_keys.find((k: any) => k.id === key.id)).toMatchObject({ revoked: true });
      // Revoking again: the key is still there (revoked), so this is not a 404.
      expect(
        (await api(s.url, `/api/v1/auth/api-keys/${key.id}`, { method: 'DELETE', headers: bearer(ann.token) })).status,
      ).toBe(200);
    });

    it('a key whose id is known but whose secret is wrong is a 401, also after the right key was cached', async () => {
      expect((await me(s.url, xApiKey(annKey.key))).status).toBe(200);
      const bytes = Buffer.from(annKey.key.slice(4), 'base64url');
      bytes[bytes.length - 1]! ^= 0xff;
      expectUnauthorized(await me(s.url, xApiKey(`ask_${bytes.toString('base64url')}`)));
    });
  });
});

describe('with a clock the test moves', () => {
  it('a token expires after ALLSOURCE_TOKEN_TTL_SECONDS; an API key after expires_in_days, even when cached', async () => {
    const clock = manualClock();
    const s = await server({ now: clock.now, env: { ALLSOURCE_TOKEN_TTL_SECONDS: '60' } });
    await createTenant(s.url, 'timed');
    const user = await createUser(s.url, { username: 'tim', tenant_id: 'timed', role: 'admin' });
    expect((await me(s.url, bearer(user.token))).status).toBe(200);
    clock.advance(59_000);
    expect((await me(s.url, bearer(user.token))).status).toBe(200);
    clock.advance(2_000);
    const expired = await me(s.url, bearer(user.token));
    expectUnauthorized(expired);
    expect(expired.body.message).toMatch(/expired/);

    const token = await login(s.url, 'tim', user.password);
    const key = await createKey(s.url, bearer(token), { name: 'one-day', role: 'readonly', expires_in_days: 1 });
    expect((await me(s.url, xApiKey(key.key))).status).toBe(200);
    // A minute before expiry: verified again and cached.
    clock.advance(DAY - MINUTE);
    expect((await me(s.url, xApiKey(key.key))).status).toBe(200);
    clock.advance(MINUTE + 1);
    const gone = await me(s.url, xApiKey(key.key));
    expectUnauthorized(gone);
    expect(gone.body.message).toMatch(/expired/);
    clock.advance(DAY);
    expectUnauthorized(await me(s.url, xApiKey(key.key)));
  });
});

describe('restarts', () => {
  it('logout survives a restart, and the bootstrap key is registered once, idempotently', async () => {
    const dataDir = tempDir();
    const masterKeyHex = randomBytes(32).toString('hex');
    const apiKey = newApiKey();
    const first = await startServer({ dataDir, masterKeyHex, apiKey });
    await createTenant(first.url, 'keep');
    const user = await createUser(first.url, { username: 'kim', tenant_id: 'keep', role: 'developer' });
    const kept = await login(first.url, 'kim', user.password);
    expect((await api(first.url, '/api/v1/auth/logout', { method: 'POST', headers: bearer(user.token) })).status).toBe(
      200,
    );
    await first.close();

    const second = await server({ dataDir, masterKeyHex, apiKey });
    expectUnauthorized(await me(second.url, bearer(user.token)));
    expect((await me(second.url, bearer(kept))).body).toMatchObject({ id: user.id });
    const keys = await api(second.url, '/api/v1/auth/api-keys', { headers: xApiKey(apiKey) });
    expect(keys.status).toBe(200);
    expect(keys.body.api_keys.map((k: any) => [k.name, k.role, k.tenant_id, k.revoked])).toEqual([
      ['bootstrap', 'admin', 'default', false],
    ]);
  });

  it('POST /auth/register without a credential is refused once a key or a user exists', async () => {
    // A bootstrap key exists (no user).
    const withKey = await server();
    const body = { username: 'intruder', email: 'i@example.test', password: strongPassword() };
    expectUnauthorized(await api(withKey.url, '/api/v1/auth/register', { json: body, anonymous: true }));

    // No bootstrap key: the first start created the admin account (its password is in a 0600 file).
    const withAdmin = await server({ env: { ALLSOURCE_BOOTSTRAP_API_KEY: '' } });
    expectUnauthorized(await api(withAdmin.url, '/api/v1/auth/register', { json: body, anonymous: true }));
    const file = readFileSync(withAdmin.config.adminPasswordFile, 'utf8');
    const password = /^password: (.+)$/m.exec(file)![1]!;
    const token = await login(withAdmin.url, 'admin', password);
    const created = await api(withAdmin.url, '/api/v1/auth/register', { json: body, headers: bearer(token) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'intruder', tenant_id: 'default', role: 'developer' });
  });
});

describe('dev mode', () => {
  let dev: TestServer;
  beforeAll(async () => {
    dev = await server({ env: { ALLSOURCE_DEV_MODE: 'true' } });
  });

  it('a request without a credential acts as dev-user of dev-tenant', async () => {
    const health = await api(dev.url, '/health', { anonymous: true });
    expect(health.body.dev_mode).toBe(true);
    const self = await api(dev.url, '/api/v1/auth/me', { anonymous: true });
    expect(self.status).toBe(200);
    expect(self.body).toMatchObject({ id: 'dev-user', username: 'dev-user', tenant_id: 'dev-tenant', role: 'admin' });
    const write = await api(dev.url, '/api/v1/events', {
      anonymous: true,
      json: { event_type: 'dev.tried', entity_id: 'dev-1', payload: {} },
    });
    expect(write.status).toBe(201);
    const read = await api(dev.url, '/api/v1/events/query', { anonymous: true });
    expect(read.body.events.map((e: any) => [e.id, e.tenant_id])).toEqual([[write.body.event_id, 'dev-tenant']]);
    const ws = new WebSocket(`${dev.url.replace('http', 'ws')}/api/v1/events/stream`);
    await once(ws, 'open');
    ws.close();
  });

  it('valid credentials still act as themselves; a bad one is a 401, never dev-user', async () => {
    const self = await api(dev.url, '/api/v1/auth/me', { headers: xApiKey(dev.apiKey) });
    expect(self.body).toMatchObject({ name: 'bootstrap', tenant_id: 'default' });
    const write = await api(dev.url, '/api/v1/events', {
      headers: xApiKey(dev.apiKey),
      json: { event_type: 'platform.tried', entity_id: 'p-1', payload: {} },
    });
    expect(write.status).toBe(201);
    const read = await api(dev.url, '/api/v1/events/query', { headers: xApiKey(dev.apiKey) });
    expect(read.body.events.map((e: any) => e.tenant_id)).toEqual(['default']);
    const devRead = await api(dev.url, '/api/v1/events/query', { anonymous: true });
    expect(devRead.body.events.map((e: any) => e.tenant_id)).toEqual(['dev-tenant']);
    for (const headers of [bearer('not-a-token'), xApiKey(newApiKey())]) {
      expectUnauthorized(await api(dev.url, '/api/v1/auth/me', { headers }));
    }
  });

  it('ALLSOURCE_DEV_MODE=1 also turns it on; without it, no credential is a 401', async () => {
    const one = await server({ env: { ALLSOURCE_DEV_MODE: '1' } });
    expect((await api(one.url, '/api/v1/stats', { anonymous: true })).status).toBe(200);
    expect((await api(plain.url, '/health', { anonymous: true })).body.dev_mode).toBe(false);
    expectUnauthorized(await api(plain.url, '/api/v1/stats', { anonymous: true }));
    expectUnauthorized(await api(plain.url, '/api/v1/auth/me', { anonymous: true }));
  });

  it('refuses to start on an address that is not loopback', async () => {
    const dataDir = tempDir();
    await expect(
      startServer({ dataDir, env: { ALLSOURCE_DEV_MODE: 'true', ALLSOURCE_HOST: '0.0.0.0' } }),
    ).rejects.toThrow(/dev mode/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
