import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createKey, createTenant, createUser, type Headers, type TestUser } from '../support/identity.js';
import { api, startServer, type TestServer } from '../support/server.js';

/**
 * Bad input on the identity and tenant routes (issue 3): each request gets a clear 4xx with a
 * JSON {error, message} body, creates or changes nothing (the user, key and tenant lists stay
 * as they were), leaks no password, key, token, stack frame or path, and the server lives on.
 */

const MIB = 1024 * 1024;
/** The password every request carries: no error body may ever repeat it. */
const PASSWORD = 'marker-passphrase-7f3a9c-never-echoed';
const UNKNOWN_V4 = '5f2b8c3e-1d4a-4e6b-9c7d-0a1b2c3d4e5f';

/** Who sends the request: the platform admin key (default), acme's admin user, or nobody. */
type As = 'platform' | 'acme' | 'anonymous';

interface Req {
  method: string;
  path: string | (() => string);
  as?: As;
  contentType?: string;
  body?: string;
}
/** [name, request, expected status, expected error code] */
type Case = [string, Req, number, string];

const send = (method: string, path: string | (() => string), body: unknown, as: As = 'platform'): Req => ({
  method,
  path,
  as,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const rawBody = (method: string, path: string, body: string, contentType: string, as: As = 'platform'): Req => ({
  method,
  path,
  as,
  body,
  contentType,
});

// Odd strings, each a separate case.
const LONE_HIGH = 'ab\ud800cd';
const LONE_LOW = '\udc00abcd';
const NUL = 'ab\u0000cd';
const RTL_OVERRIDE = 'abc\u202egpj.exe';
const RTL_SCRIPT = 'שלום-مرحبا';
const C1 = 'ab\u0085cd';
const TEN_KB = 'u'.repeat(10 * 1024);

// ---------------------------------------------------------------------------------------------
// Bodies that are not usable JSON objects, on every route that takes a body.

const bodyCases = (method: string, path: string | (() => string), as: As = 'platform'): Case[] => {
  const p = typeof path === 'string' ? path : '';
  return [
    ['malformed JSON: truncated', send(method, path, '{"name":', as), 400, 'invalid_request'],
    ['malformed JSON: single quotes', send(method, path, "{'name': 'x'}", as), 400, 'invalid_request'],
    ['malformed JSON: trailing comma', send(method, path, '{"name": "x",}', as), 400, 'invalid_request'],
    ['malformed JSON: two documents', send(method, path, '{}{}', as), 400, 'invalid_request'],
    ['JSON null', send(method, path, 'null', as), 400, 'invalid_request'],
    ['JSON array', send(method, path, '[]', as), 400, 'invalid_request'],
    ['JSON string', send(method, path, '"admin"', as), 400, 'invalid_request'],
    ['JSON number', send(method, path, '42', as), 400, 'invalid_request'],
    ['an empty object', send(method, path, '{}', as), 400, 'invalid_request'],
    ['text/plain body', { ...rawBody(method, p, '{}', 'text/plain', as), path }, 415, 'unsupported_media_type'],
    [
      'form-urlencoded body',
      { ...rawBody(method, p, 'username=a&password=b', 'application/x-www-form-urlencoded', as), path },
      415,
      'unsupported_media_type',
    ],
    [
      'a body over the 1 MiB limit',
      send(method, path, { name: 'x'.repeat(MIB + 16), username: 'x', password: PASSWORD }, as),
      413,
      'payload_too_large',
    ],
    [
      '100,000 levels of nesting',
      send(method, path, '['.repeat(100_000) + ']'.repeat(100_000), as),
      400,
      'invalid_request',
    ],
  ];
};

// ---------------------------------------------------------------------------------------------
// POST /api/v1/auth/login (public)

const login = (body: unknown): Req => send('POST', '/api/v1/auth/login', body, 'anonymous');
const loginCases: Case[] = [
  ...bodyCases('POST', '/api/v1/auth/login', 'anonymous'),
  ['username missing', login({ password: PASSWORD }), 400, 'invalid_request'],
  ['password missing', login({ username: 'ann' }), 400, 'invalid_request'],
  ['username a number', login({ username: 42, password: PASSWORD }), 400, 'invalid_request'],
  ['username null', login({ username: null, password: PASSWORD }), 400, 'invalid_request'],
  ['password an array', login({ username: 'ann', password: [PASSWORD] }), 400, 'invalid_request'],
  ['password an object', login({ username: 'ann', password: { value: PASSWORD } }), 400, 'invalid_request'],
  ['username empty', login({ username: '', password: PASSWORD }), 400, 'invalid_request'],
  ['password empty', login({ username: 'ann', password: '' }), 400, 'invalid_request'],
  ['a 10 KB username', login({ username: TEN_KB, password: PASSWORD }), 400, 'invalid_request'],
  ['a 10 KB password', login({ username: 'ann', password: TEN_KB }), 400, 'invalid_request'],
  // Well-formed but odd usernames are simply nobody's: the same 401 as any failed login.
  ['a username with a lone surrogate', login({ username: LONE_HIGH, password: PASSWORD }), 401, 'unauthorized'],
  ['a username with NUL', login({ username: NUL, password: PASSWORD }), 401, 'unauthorized'],
  ['a username with an RTL override', login({ username: RTL_OVERRIDE, password: PASSWORD }), 401, 'unauthorized'],
  ['ann’s name with a NUL after it', login({ username: 'ann\u0000', password: PASSWORD }), 401, 'unauthorized'],
];

// ---------------------------------------------------------------------------------------------
// POST /api/v1/auth/register (platform admin)

const user = (changes: Record<string, unknown>) => {
  const body: Record<string, unknown> = {
    username: 'newcomer',
    email: 'newcomer@example.test',
    password: PASSWORD,
    role: 'developer',
    ...changes,
  };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete body[key];
  return send('POST', '/api/v1/auth/register', body);
};

const registerCases: Case[] = [
  ...bodyCases('POST', '/api/v1/auth/register'),
  ['username missing', user({ username: undefined }), 400, 'invalid_request'],
  ['email missing', user({ email: undefined }), 400, 'invalid_request'],
  ['password missing', user({ password: undefined }), 400, 'invalid_request'],
  ['username a number', user({ username: 12345 }), 400, 'invalid_request'],
  ['username an array', user({ username: ['newcomer'] }), 400, 'invalid_request'],
  ['email a boolean', user({ email: true }), 400, 'invalid_request'],
  ['password a number', user({ password: 12345678 }), 400, 'invalid_request'],
  ['a 10 KB username', user({ username: TEN_KB }), 400, 'invalid_request'],
  ['a username of 65 characters', user({ username: 'u'.repeat(65) }), 400, 'invalid_request'],
  ['a username of 2 characters', user({ username: 'ab' }), 400, 'invalid_request'],
  ['a username with a space', user({ username: 'new comer' }), 400, 'invalid_request'],
  ['a username with a slash', user({ username: '../admin' }), 400, 'invalid_request'],
  ['a username with a lone high surrogate', user({ username: LONE_HIGH }), 400, 'invalid_request'],
  ['a username with a lone low surrogate', user({ username: LONE_LOW }), 400, 'invalid_request'],
  ['a username with NUL', user({ username: NUL }), 400, 'invalid_request'],
  ['a username with a C1 control', user({ username: C1 }), 400, 'invalid_request'],
  ['a username with an RTL override', user({ username: RTL_OVERRIDE }), 400, 'invalid_request'],
  ['a username in RTL script', user({ username: RTL_SCRIPT }), 400, 'invalid_request'],
  ['a username with a zero-width space', user({ username: 'new\u200bcomer' }), 400, 'invalid_request'],
  ['an email without @', user({ email: 'newcomer.example.test' }), 400, 'invalid_request'],
  ['an email without a domain dot', user({ email: 'newcomer@localhost' }), 400, 'invalid_request'],
  ['an email with a space', user({ email: 'new comer@example.test' }), 400, 'invalid_request'],
  ['an email with NUL', user({ email: 'new\u0000comer@example.test' }), 400, 'invalid_request'],
  ['an email with a C1 control', user({ email: 'new\u0085comer@example.test' }), 400, 'invalid_request'],
  ['an email with a lone surrogate', user({ email: 'new\ud800comer@example.test' }), 400, 'invalid_request'],
  ['an email of 10 KB', user({ email: `${TEN_KB}@example.test` }), 400, 'invalid_request'],
  ['role "Admin"', user({ role: 'Admin' }), 400, 'invalid_request'],
  ['role "root"', user({ role: 'root' }), 400, 'invalid_request'],
  ['role empty', user({ role: '' }), 400, 'invalid_request'],
  ['role null', user({ role: null }), 400, 'invalid_request'],
  ['role a number', user({ role: 1 }), 400, 'invalid_request'],
  ['role an array', user({ role: ['admin'] }), 400, 'invalid_request'],
  ['tenant_id upper case', user({ tenant_id: 'ACME' }), 400, 'invalid_request'],
  ['tenant_id of 65 characters', user({ tenant_id: 't'.repeat(65) }), 400, 'invalid_request'],
  ['tenant_id "../x"', user({ tenant_id: '../x' }), 400, 'invalid_request'],
  ['tenant_id empty', user({ tenant_id: '' }), 400, 'invalid_request'],
  ['tenant_id with NUL', user({ tenant_id: 'ac\u0000me' }), 400, 'invalid_request'],
  ['tenant_id with a lone surrogate', user({ tenant_id: 'ac\ud800me' }), 400, 'invalid_request'],
  ['tenant_id with an RTL override', user({ tenant_id: 'acme\u202e' }), 400, 'invalid_request'],
  ['tenant_id a number', user({ tenant_id: 7 }), 400, 'invalid_request'],
  ['tenant_id of no tenant', user({ tenant_id: 'no-such-tenant' }), 404, 'not_found'],
  ['a username already taken', user({ username: 'ann', tenant_id: 'acme' }), 409, 'conflict'],
  ['a username taken but for case', user({ username: 'ANN' }), 409, 'conflict'],
];

// ---------------------------------------------------------------------------------------------
// PUT /api/v1/auth/password (acme's admin)

const password = (body: unknown): Req => send('PUT', '/api/v1/auth/password', body, 'acme');
const passwordCases: Case[] = [
  ...bodyCases('PUT', '/api/v1/auth/password', 'acme'),
  ['current_password missing', password({ new_password: PASSWORD }), 400, 'invalid_request'],
  ['new_password missing', password({ current_password: PASSWORD }), 400, 'invalid_request'],
  ['new_password a number', password({ current_password: PASSWORD, new_password: 123456789 }), 400, 'invalid_request'],
  ['new_password null', password({ current_password: PASSWORD, new_password: null }), 400, 'invalid_request'],
  ['new_password of 10 KB', password({ current_password: PASSWORD, new_password: TEN_KB }), 400, 'invalid_request'],
  ['new_password too short', password({ current_password: PASSWORD, new_password: 'abc' }), 400, 'invalid_request'],
  [
    'new_password of 129 characters',
    password({ current_password: PASSWORD, new_password: 'p'.repeat(129) }),
    400,
    'invalid_request',
  ],
  [
    'new_password common',
    password({ current_password: PASSWORD, new_password: 'password123' }),
    400,
    'invalid_request',
  ],
  [
    'new_password the username in other case',
    password({ current_password: PASSWORD, new_password: 'ANN' }),
    400,
    'invalid_request',
  ],
  [
    'a wrong current_password',
    password({ current_password: 'wrong one', new_password: PASSWORD + '2' }),
    403,
    'forbidden',
  ],
];

// ---------------------------------------------------------------------------------------------
// POST /api/v1/auth/api-keys (platform admin)

const key = (changes: Record<string, unknown>) => {
  const body: Record<string, unknown> = { name: 'ci', ...changes };
  for (const [k, value] of Object.entries(changes)) if (value === undefined) delete body[k];
  return send('POST', '/api/v1/auth/api-keys', body);
};
const apiKeyCases: Case[] = [
  ...bodyCases('POST', '/api/v1/auth/api-keys'),
  ['name missing', key({ name: undefined }), 400, 'invalid_request'],
  ['name empty', key({ name: '' }), 400, 'invalid_request'],
  ['name a number', key({ name: 5 }), 400, 'invalid_request'],
  ['name of 101 characters', key({ name: 'n'.repeat(101) }), 400, 'invalid_request'],
  ['name of 10 KB', key({ name: TEN_KB }), 400, 'invalid_request'],
  ['name with NUL', key({ name: NUL }), 400, 'invalid_request'],
  ['name with a newline', key({ name: 'ci\nadmin' }), 400, 'invalid_request'],
  ['name with a C1 control', key({ name: C1 }), 400, 'invalid_request'],
  ['name with a lone high surrogate', key({ name: LONE_HIGH }), 400, 'invalid_request'],
  ['name with a lone low surrogate', key({ name: LONE_LOW }), 400, 'invalid_request'],
  ['role "Admin"', key({ role: 'Admin' }), 400, 'invalid_request'],
  ['role "superuser"', key({ role: 'superuser' }), 400, 'invalid_request'],
  ['role null', key({ role: null }), 400, 'invalid_request'],
  ['expires_in_days 0', key({ expires_in_days: 0 }), 400, 'invalid_request'],
  ['expires_in_days -1', key({ expires_in_days: -1 }), 400, 'invalid_request'],
  ['expires_in_days 3651', key({ expires_in_days: 3651 }), 400, 'invalid_request'],
  ['expires_in_days 1.5', key({ expires_in_days: 1.5 }), 400, 'invalid_request'],
  ['expires_in_days "7"', key({ expires_in_days: '7' }), 400, 'invalid_request'],
  ['expires_in_days null', key({ expires_in_days: null }), 400, 'invalid_request'],
  ['expires_in_days true', key({ expires_in_days: true }), 400, 'invalid_request'],
  [
    'expires_in_days 1e400',
    send('POST', '/api/v1/auth/api-keys', '{"name":"ci","expires_in_days":1e400}'),
    400,
    'invalid_request',
  ],
  [
    'expires_in_days past 2^53',
    send('POST', '/api/v1/auth/api-keys', '{"name":"ci","expires_in_days":12345678901234567890}'),
    400,
    'invalid_request',
  ],
  [
    'a body over the limit without a credential (never parsed)',
    send('POST', '/api/v1/auth/api-keys', { name: 'x'.repeat(2 * MIB) }, 'anonymous'),
    401,
    'unauthorized',
  ],
];

// ---------------------------------------------------------------------------------------------
// PUT /api/v1/auth/users/:id/role (acme's admin, on acme's developer)

let ann: TestUser; // acme admin
let dev: TestUser; // acme developer
const role = (body: unknown, id: () => string = () => dev.id): Req =>
  send('PUT', () => `/api/v1/auth/users/${id()}/role`, body, 'acme');
const roleCases: Case[] = [
  ...bodyCases('PUT', () => `/api/v1/auth/users/${dev.id}/role`, 'acme'),
  ['role missing', role({}), 400, 'invalid_request'],
  ['role "Admin"', role({ role: 'Admin' }), 400, 'invalid_request'],
  ['role "owner"', role({ role: 'owner' }), 400, 'invalid_request'],
  ['role empty', role({ role: '' }), 400, 'invalid_request'],
  ['role a number', role({ role: 0 }), 400, 'invalid_request'],
  ['role of 10 KB', role({ role: TEN_KB }), 400, 'invalid_request'],
  ['role with NUL', role({ role: 'admin\u0000' }), 400, 'invalid_request'],
  ['an id that is not a UUID', role({ role: 'admin' }, () => 'not-a-uuid'), 404, 'not_found'],
  ['an unknown id', role({ role: 'admin' }, () => UNKNOWN_V4), 404, 'not_found'],
  ['an id with NUL', role({ role: 'admin' }, () => 'a%00b'), 404, 'not_found'],
  ['an id with bad percent-encoding', role({ role: 'admin' }, () => '%ZZ'), 400, 'invalid_request'],
];

// ---------------------------------------------------------------------------------------------
// POST /api/v1/tenants, PUT /api/v1/tenants/:id (platform admin)

const tenant = (changes: Record<string, unknown>) => {
  const body: Record<string, unknown> = { tenant_id: 'newco', name: 'New Co', ...changes };
  for (const [k, value] of Object.entries(changes)) if (value === undefined) delete body[k];
  return send('POST', '/api/v1/tenants', body);
};
const tenantCreateCases: Case[] = [
  ...bodyCases('POST', '/api/v1/tenants'),
  ['tenant_id missing', tenant({ tenant_id: undefined }), 400, 'invalid_request'],
  ['name missing', tenant({ name: undefined }), 400, 'invalid_request'],
  ['tenant_id upper case', tenant({ tenant_id: 'NewCo' }), 400, 'invalid_request'],
  ['tenant_id of 65 characters', tenant({ tenant_id: 'n'.repeat(65) }), 400, 'invalid_request'],
  ['tenant_id of 10 KB', tenant({ tenant_id: TEN_KB }), 400, 'invalid_request'],
  ['tenant_id "../x"', tenant({ tenant_id: '../x' }), 400, 'invalid_request'],
  ['tenant_id "a/b"', tenant({ tenant_id: 'a/b' }), 400, 'invalid_request'],
  ['tenant_id with a dot', tenant({ tenant_id: 'new.co' }), 400, 'invalid_request'],
  ['tenant_id with a space', tenant({ tenant_id: 'new co' }), 400, 'invalid_request'],
  ['tenant_id empty', tenant({ tenant_id: '' }), 400, 'invalid_request'],
  ['tenant_id with NUL', tenant({ tenant_id: 'new\u0000co' }), 400, 'invalid_request'],
  ['tenant_id with a lone surrogate', tenant({ tenant_id: 'newco\ud800' }), 400, 'invalid_request'],
  ['tenant_id with an RTL override', tenant({ tenant_id: 'newco\u202e' }), 400, 'invalid_request'],
  ['tenant_id in RTL script', tenant({ tenant_id: RTL_SCRIPT }), 400, 'invalid_request'],
  ['tenant_id with accents', tenant({ tenant_id: 'nëwcö' }), 400, 'invalid_request'],
  ['tenant_id a number', tenant({ tenant_id: 7 }), 400, 'invalid_request'],
  ['tenant_id null', tenant({ tenant_id: null }), 400, 'invalid_request'],
  ['name empty', tenant({ name: '' }), 400, 'invalid_request'],
  ['name of 201 characters', tenant({ name: 'n'.repeat(201) }), 400, 'invalid_request'],
  ['name of 10 KB', tenant({ name: TEN_KB }), 400, 'invalid_request'],
  ['name with NUL', tenant({ name: NUL }), 400, 'invalid_request'],
  ['name with a C1 control', tenant({ name: C1 }), 400, 'invalid_request'],
  ['name with a lone high surrogate', tenant({ name: LONE_HIGH }), 400, 'invalid_request'],
  ['name with a lone low surrogate', tenant({ name: LONE_LOW }), 400, 'invalid_request'],
  ['name a number', tenant({ name: 1 }), 400, 'invalid_request'],
  ['rate_tier unknown', tenant({ rate_tier: 'gold' }), 400, 'invalid_request'],
  ['rate_tier upper case', tenant({ rate_tier: 'FREE' }), 400, 'invalid_request'],
  ['an existing tenant_id', tenant({ tenant_id: 'acme' }), 409, 'conflict'],
  ['the platform tenant’s id', tenant({ tenant_id: 'default' }), 409, 'conflict'],
];

const update = (body: unknown, id = 'acme'): Req => send('PUT', `/api/v1/tenants/${id}`, body);
const tenantUpdateCases: Case[] = [
  ...bodyCases('PUT', '/api/v1/tenants/acme').filter(([name]) => name !== 'an empty object'),
  ['an unknown field', update({ name: 'Acme', colour: 'red' }), 400, 'invalid_request'],
  ['a status field (use activate/deactivate)', update({ status: 'suspended' }), 400, 'invalid_request'],
  ['a tenant_id field (ids never change)', update({ tenant_id: 'other' }), 400, 'invalid_request'],
  ['name empty', update({ name: '' }), 400, 'invalid_request'],
  ['name of 10 KB', update({ name: TEN_KB }), 400, 'invalid_request'],
  ['name with NUL', update({ name: NUL }), 400, 'invalid_request'],
  ['name with a lone surrogate', update({ name: LONE_HIGH }), 400, 'invalid_request'],
  ['name null', update({ name: null }), 400, 'invalid_request'],
  ['rate_tier unknown', update({ rate_tier: 'platinum' }), 400, 'invalid_request'],
  ['an unknown tenant', update({ name: 'x' }, 'no-such-tenant'), 404, 'not_found'],
  ['a tenant id "..%2Fx"', update({ name: 'x' }, '..%2Fx'), 404, 'not_found'],
  ['a tenant id with bad percent-encoding', update({ name: 'x' }, '%ZZ'), 400, 'invalid_request'],
];

const tenantPathCases: Case[] = [
  ['GET an upper-case tenant id', send('GET', '/api/v1/tenants/ACME', undefined), 404, 'not_found'],
  ['GET "..%2Fx"', send('GET', '/api/v1/tenants/..%2Fx', undefined), 404, 'not_found'],
  ['GET a 10 KB id', send('GET', `/api/v1/tenants/${TEN_KB}`, undefined), 404, 'not_found'],
  ['POST activate an unknown tenant', send('POST', '/api/v1/tenants/nope/activate', undefined), 404, 'not_found'],
  ['POST deactivate an unknown tenant', send('POST', '/api/v1/tenants/nope/deactivate', undefined), 404, 'not_found'],
  ['DELETE the platform tenant', send('DELETE', '/api/v1/tenants/default', undefined), 409, 'conflict'],
  ['DELETE a tenant that holds users', send('DELETE', '/api/v1/tenants/acme', undefined), 409, 'tenant_not_empty'],
  [
    'DELETE an API key id that is not a UUID',
    send('DELETE', '/api/v1/auth/api-keys/nope', undefined),
    404,
    'not_found',
  ],
  ['DELETE a user id of 10 KB', send('DELETE', `/api/v1/auth/users/${TEN_KB}`, undefined), 404, 'not_found'],
];

// ---------------------------------------------------------------------------------------------

let server: TestServer;
/** Every secret in play: none may ever appear in an error body. */
const secrets: string[] = [];

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'acme', 'Acme');
  ann = await createUser(server.url, { username: 'ann', tenant_id: 'acme', role: 'admin', password: PASSWORD });
  dev = await createUser(server.url, { username: 'devon', tenant_id: 'acme', role: 'developer' });
  const ci = await createKey(server.url, {}, { name: 'existing' });
  secrets.push(server.apiKey, server.apiKey.slice(4), ci.key, ci.key.slice(4), ann.token, dev.token, dev.password);
});

afterAll(async () => {
  await server?.dispose();
});

function headersFor(as: As): Headers {
  if (as === 'acme') return bearer(ann.token);
  return {};
}

async function sendReq(req: Req) {
  const headers: Headers = { ...headersFor(req.as ?? 'platform') };
  if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  return api(server.url, typeof req.path === 'string' ? req.path : req.path(), {
    method: req.method,
    headers,
    anonymous: req.as === 'anonymous',
    ...(req.body === undefined ? {} : { body: req.body }),
  });
}

/** Everything a bad request could create or change. */
async function state() {
  const get = async (path: string, headers: Headers = {}) => {
    const res = await api(server.url, path, { headers });
    expect(res.status, `${path}: ${res.text}`).toBe(200);
    return res.body;
  };
  const keys = (list: { api_keys: any[] }) => list.api_keys.map((k) => [k.id, k.name, k.role, k.revoked]);
  return {
    tenants: await get('/api/v1/tenants'),
    platformUsers: await get('/api/v1/auth/users'),
    platformKeys: keys(await get('/api/v1/auth/api-keys')),
    acmeUsers: await get('/api/v1/auth/users', bearer(ann.token)),
    acmeKeys: keys(await get('/api/v1/auth/api-keys', bearer(ann.token))),
  };
}

/** A stack frame, a path or a secret must never reach a client. */
function expectNoLeaks(text: string): void {
  expect(text).not.toMatch(/\n\s*at\s/);
  expect(text).not.toMatch(/\bat \S+ \(|\bat (?:file|node):|\(\/[^)]*:\d+:\d+\)/);
  for (const fragment of ['/work', 'node_modules', 'file://', server.dataDir, '/tmp/', 'Error:', 'argon2', PASSWORD]) {
    expect(text).not.toContain(fragment);
  }
  for (const secret of secrets) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/eyJ[\w-]{10,}/); // no JWT of any kind
  expect(text).not.toMatch(/ask_[\w-]{20,}/); // no API key of any kind
}

async function expectRejected(req: Req, status: number, code: string) {
  const before = await state();
  const res = await sendReq(req);
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { error: code } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body.message).toEqual(expect.any(String));
  expect(res.body.message.length).toBeGreaterThan(0);
  expectNoLeaks(res.text);
  expect(await state()).toEqual(before);
  // Nothing was changed for acme's admin either: its token (and so its password) still stands.
  expect((await api(server.url, '/api/v1/auth/me', { headers: bearer(ann.token) })).body).toMatchObject({
    id: ann.id,
    role: 'admin',
  });
  const health = await api(server.url, '/health', { anonymous: true });
  expect(health.body).toMatchObject({ status: 'healthy' });
  return res;
}

const groups: Array<{ route: string; cases: Case[] }> = [
  { route: 'POST /api/v1/auth/login', cases: loginCases },
  { route: 'POST /api/v1/auth/register', cases: registerCases },
  { route: 'PUT /api/v1/auth/password', cases: passwordCases },
  { route: 'POST /api/v1/auth/api-keys', cases: apiKeyCases },
  { route: 'PUT /api/v1/auth/users/:id/role', cases: roleCases },
  { route: 'POST /api/v1/tenants', cases: tenantCreateCases },
  { route: 'PUT /api/v1/tenants/:id', cases: tenantUpdateCases },
  { route: 'tenant, key and user ids in paths', cases: tenantPathCases },
];

describe('bad input to the identity routes is refused with a clear 4xx and creates nothing', () => {
  describe.each(groups)('$route', ({ cases }) => {
    it.each(cases)('%s', async (_name, req, status, code) => {
      await expectRejected(req, status, code);
    });
  });

  it('field errors name the field by JSON pointer', async () => {
    const res = await expectRejected(user({ email: 'nope' }), 400, 'invalid_request');
    expect(res.body.details).toEqual([expect.objectContaining({ path: '/email' })]);
    const days = await expectRejected(key({ expires_in_days: 0 }), 400, 'invalid_request');
    expect(days.body.details).toEqual([expect.objectContaining({ path: '/expires_in_days' })]);
    const id = await expectRejected(tenant({ tenant_id: '../x' }), 400, 'invalid_request');
    expect(id.body.details).toEqual([expect.objectContaining({ path: '/tenant_id' })]);
  });

  it('no bad request was answered with a 500', async () => {
    const metrics = await api(server.url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).not.toMatch(/allsource_http_requests_total\{[^}]*status="5\d\d"/);
  });
});

describe('odd but valid unicode in names is accepted and round-trips exactly', () => {
  const names: Array<[string, string]> = [
    ['right-to-left script', RTL_SCRIPT],
    ['an RTL override', RTL_OVERRIDE],
    ['emoji and a ZWJ sequence', 'Acme 🧾 👨‍👩‍👧‍👦'],
    ['combining marks and astral CJK', 'e\u0301-𠜎𠜱'],
    ['200 emoji (the limit in characters)', '😀'.repeat(200)],
  ];

  it.each(names.map(([what, name], i) => [what, name, `odd-${i}`] as const))(
    'a tenant name with %s',
    async (_what, name, id) => {
      const created = await api(server.url, '/api/v1/tenants', { json: { tenant_id: id, name } });
      expect(created.status, created.text).toBe(201);
      expect(created.body.name).toBe(name);
      expect((await api(server.url, `/api/v1/tenants/${id}`)).body.name).toBe(name);
      const listed = (await api(server.url, '/api/v1/tenants')).body.tenants.find((t: any) => t.tenant_id === id);
      expect(listed.name).toBe(name);
    },
  );

  it.each(names.filter(([, name]) => [...name].length <= 100))('an API key name with %s', async (_what, name) => {
    const created = await api(server.url, '/api/v1/auth/api-keys', { json: { name } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.name).toBe(name);
    const listed = (await api(server.url, '/api/v1/auth/api-keys')).body.api_keys.find(
      (k: any) => k.id === created.body.id,
    );
    expect(listed.name).toBe(name);
  });
});
