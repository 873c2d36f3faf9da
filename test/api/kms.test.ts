import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createKey, createTenant, createUser, xApiKey, type Headers } from '../support/identity.js';
import { api, startServer, type TestServer } from '../support/server.js';

/**
 * The Transit-style KMS routes (DESIGN.md, "KMS, protection, audit"; issue 4, items 2 and 5):
 * per-tenant keys, encrypt/decrypt/rewrap/datakey, rotation and min versions, disable and destroy,
 * manage_keys and decrypt, tenant isolation, bad input, and nothing secret in any answer.
 */

let server: TestServer;
let acme: Headers;
let globex: Headers;
let acmeDeveloper: Headers;
let acmeReadonly: Headers;
let acmeReadonlyKey: Headers;

const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');
const unb64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'acme', 'Acme');
  await createTenant(server.url, 'globex', 'Globex');
  acme = bearer((await createUser(server.url, { username: 'kms-ann', tenant_id: 'acme', role: 'admin' })).token);
  globex = bearer((await createUser(server.url, { username: 'kms-gus', tenant_id: 'globex', role: 'admin' })).token);
  acmeDeveloper = bearer(
    (await createUser(server.url, { username: 'kms-dev', tenant_id: 'acme', role: 'developer' })).token,
  );
  acmeReadonly = bearer(
    (await createUser(server.url, { username: 'kms-reader', tenant_id: 'acme', role: 'readonly' })).token,
  );
  acmeReadonlyKey = xApiKey((await createKey(server.url, acme, { name: 'reader', role: 'readonly' })).key);
});

afterAll(async () => {
  await server?.dispose();
});

type Res = Awaited<ReturnType<typeof api>>;

function call(method: string, path: string, as: Headers, json?: unknown, base = server.url): Promise<Res> {
  return api(base, `/api/v1/kms${path}`, { method, headers: as, ...(json === undefined ? {} : { json }) });
}

function expectError(res: Res, status: number, code: string): void {
  expect({ status: res.status, error: res.body?.error }, res.text).toEqual({ status, error: code });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body.message).toEqual(expect.any(String));
}

async function newKey(as: Headers, name: string, base = server.url): Promise<Res> {
  const res = await call('POST', '/keys', as, { name }, base);
  expect(res.status, res.text).toBe(201);
  return res;
}

async function encrypt(as: Headers, name: string, plaintext: string, context?: string): Promise<string> {
  const res = await call('POST', `/keys/${name}/encrypt`, as, {
    plaintext: b64(plaintext),
    ...(context === undefined ? {} : { context: b64(context) }),
  });
  expect(res.status, res.text).toBe(200);
  expect(res.body.ciphertext).toMatch(/^as:v\d+:[A-Za-z0-9+/=_-]+$/);
  return res.body.ciphertext as string;
}

function decrypt(as: Headers, name: string, ciphertext: string, context?: string): Promise<Res> {
  return call('POST', `/keys/${name}/decrypt`, as, {
    ciphertext,
    ...(context === undefined ? {} : { context: b64(context) }),
  });
}

async function expectDecrypts(as: Headers, name: string, ciphertext: string, plaintext: string, context?: string) {
  const res = await decrypt(as, name, ciphertext, context);
  expect(res.status, res.text).toBe(200);
  expect(unb64(res.body.plaintext)).toBe(plaintext);
}

/** Flips one character of the base64 part of a ciphertext to another valid base64 character. */
function tamper(ciphertext: string, at: number): string {
  const i = ciphertext.lastIndexOf(':') + 1 + at;
  const c = ciphertext[i]!;
  const replacement = c === 'A' ? 'B' : 'A';
  return ciphertext.slice(0, i) + replacement + ciphertext.slice(i + 1);
}

describe('KMS round trip', () => {
  it('creates, lists, gets, encrypts, decrypts, rewraps and makes data keys', async () => {
    const created = await newKey(acme, 'orders');
    expect(created.body).toMatchObject({
      name: 'orders',
      latest_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 1,
      disabled: false,
      destroyed: false,
    });
    expect(created.body.created_at).toEqual(expect.any(String));

    const list = await call('GET', '/keys', acme);
    expect(list.status).toBe(200);
    expect(list.body.keys.map((k: { name: string }) => k.name)).toContain('orders');
    const got = await call('GET', '/keys/orders', acme);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const ciphertext = await encrypt(acme, 'orders', 'card 4111 1111 1111 1111');
    expect(ciphertext.startsWith('as:v1:')).toBe(true);
    expect(ciphertext).not.toContain(b64('card 4111 1111 1111 1111'));
    await expectDecrypts(acme, 'orders', ciphertext, 'card 4111 1111 1111 1111');

    // Empty plaintext and binary plaintext round-trip too.
    const empty = await call('POST', '/keys/orders/encrypt', acme, { plaintext: '' });
    expect(empty.status, empty.text).toBe(200);
    const emptyBack = await decrypt(acme, 'orders', empty.body.ciphertext);
    expect(emptyBack.body).toEqual({ plaintext: '' });
    const binary = randomBytes(1000);
    const binaryCt = await call('POST', '/keys/orders/encrypt', acme, { plaintext: binary.toString('base64') });
    const binaryBack = await decrypt(acme, 'orders', binaryCt.body.ciphertext);
    expect(Buffer.from(binaryBack.body.plaintext, 'base64').equals(binary)).toBe(true);

    // Context is bound.
    const withContext = await encrypt(acme, 'orders', 'secret', 'user-1');
    await expectDecrypts(acme, 'orders', withContext, 'secret', 'user-1');
    expectError(await decrypt(acme, 'orders', withContext, 'user-2'), 400, 'invalid_ciphertext');
    expectError(await decrypt(acme, 'orders', withContext), 400, 'invalid_ciphertext');
    expectError(await decrypt(acme, 'orders', ciphertext, 'user-1'), 400, 'invalid_ciphertext');

    // Rewrap without rotation keeps the version and never returns plaintext.
    const rewrapped = await call('POST', '/keys/orders/rewrap', acme, {
      ciphertext: withContext,
      context: b64('user-1'),
    });
    expect(rewrapped.status, rewrapped.text).toBe(200);
    expect(Object.keys(rewrapped.body)).toEqual(['ciphertext']);
    await expectDecrypts(acme, 'orders', rewrapped.body.ciphertext, 'secret', 'user-1');

    // Data keys: plaintext + wrapped, or wrapped only; the wrapped one decrypts to the plaintext.
    const dataKey = await call('POST', '/keys/orders/datakey', acme, {});
    expect(dataKey.status, dataKey.text).toBe(200);
    const plain = Buffer.from(dataKey.body.plaintext, 'base64');
    expect(plain.length).toBe(32);
    const unwrapped = await decrypt(acme, 'orders', dataKey.body.ciphertext);
    expect(unwrapped.body.plaintext).toBe(dataKey.body.plaintext);
    const wrappedOnly = await call('POST', '/keys/orders/datakey', acme, { wrapped_only: true });
    expect(wrappedOnly.status).toBe(200);
    expect(Object.keys(wrappedOnly.body)).toEqual(['ciphertext']);
    const withCtx = await call('POST', '/keys/orders/datakey', acme, { wrapped_only: true, context: b64('entity-9') });
    expect((await decrypt(acme, 'orders', withCtx.body.ciphertext, 'entity-9')).status).toBe(200);
    expectError(await decrypt(acme, 'orders', withCtx.body.ciphertext), 400, 'invalid_ciphertext');
  });

  it('refuses a duplicate name with 409 and an unknown key with 404', async () => {
    await newKey(acme, 'dup');
    expectError(await call('POST', '/keys', acme, { name: 'dup' }), 409, 'conflict');
    expectError(await call('GET', '/keys/nope', acme), 404, 'not_found');
    expectError(await call('POST', '/keys/nope/encrypt', acme, { plaintext: b64('x') }), 404, 'not_found');
    expectError(await call('POST', '/keys/nope/rotate', acme), 404, 'not_found');
  });
});

describe('rotation and min versions', () => {
  it('old ciphertexts still decrypt after a rotation and rewrap moves them to the latest version', async () => {
    await newKey(acme, 'rot');
    const v1 = await encrypt(acme, 'rot', 'first');
    const rotated = await call('POST', '/keys/rot/rotate', acme);
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.latest_version).toBe(2);
    await expectDecrypts(acme, 'rot', v1, 'first');
    const v2 = await encrypt(acme, 'rot', 'second');
    expect(v2.startsWith('as:v2:')).toBe(true);
    const rewrapped = await call('POST', '/keys/rot/rewrap', acme, { ciphertext: v1 });
    expect(rewrapped.status, rewrapped.text).toBe(200);
    expect(rewrapped.body.ciphertext.startsWith('as:v2:')).toBe(true);
    await expectDecrypts(acme, 'rot', rewrapped.body.ciphertext, 'first');
  });

  it('key_version picks the encryption version, and min_encryption_version bounds it', async () => {
    await newKey(acme, 'encver');
    await call('POST', '/keys/encver/rotate', acme);
    await call('POST', '/keys/encver/rotate', acme);
    const pinned = await call('POST', '/keys/encver/encrypt', acme, { plaintext: b64('pinned'), key_version: 2 });
    expect(pinned.status, pinned.text).toBe(200);
    expect(pinned.body.ciphertext.startsWith('as:v2:')).toBe(true);
    await expectDecrypts(acme, 'encver', pinned.body.ciphertext, 'pinned');
    expect((await call('PUT', '/keys/encver/config', acme, { min_encryption_version: 3 })).status).toBe(200);
    const below = await call('POST', '/keys/encver/encrypt', acme, { plaintext: b64('x'), key_version: 2 });
    expectError(below, 400, 'invalid_request');
    expect(below.body.details[0].path).toBe('/key_version');
    expectError(
      await call('POST', '/keys/encver/encrypt', acme, { plaintext: b64('x'), key_version: 4 }),
      400,
      'invalid_request',
    );
    expectError(
      await call('POST', '/keys/encver/encrypt', acme, { plaintext: b64('x'), key_version: '3' }),
      400,
      'invalid_request',
    );
    const latest = await call('POST', '/keys/encver/encrypt', acme, { plaintext: b64('x'), key_version: 3 });
    expect(latest.body.ciphertext.startsWith('as:v3:')).toBe(true);
    // Old ciphertexts stay readable: min_encryption_version governs encryption only.
    await expectDecrypts(acme, 'encver', pinned.body.ciphertext, 'pinned');
  });

  it('min_decryption_version blocks older versions with 400 key_version_disabled', async () => {
    await newKey(acme, 'minver');
    const v1 = await encrypt(acme, 'minver', 'old');
    await call('POST', '/keys/minver/rotate', acme);
    const v2 = await encrypt(acme, 'minver', 'new');
    const configured = await call('PUT', '/keys/minver/config', acme, { min_decryption_version: 2 });
    expect(configured.status, configured.text).toBe(200);
    expect(configured.body).toMatchObject({ min_decryption_version: 2, latest_version: 2 });
    expectError(await decrypt(acme, 'minver', v1), 400, 'key_version_disabled');
    expectError(await call('POST', '/keys/minver/rewrap', acme, { ciphertext: v1 }), 400, 'key_version_disabled');
    await expectDecrypts(acme, 'minver', v2, 'new');
    // Out of range settings are refused.
    expectError(await call('PUT', '/keys/minver/config', acme, { min_decryption_version: 3 }), 400, 'invalid_request');
    expectError(await call('PUT', '/keys/minver/config', acme, { min_decryption_version: 0 }), 400, 'invalid_request');
    expectError(
      await call('PUT', '/keys/minver/config', acme, { min_encryption_version: 1.5 }),
      400,
      'invalid_request',
    );
    expectError(
      await call('PUT', '/keys/minver/config', acme, { min_decryption_version: '2' }),
      400,
      'invalid_request',
    );
    // Lowering it again lets v1 decrypt.
    expect((await call('PUT', '/keys/minver/config', acme, { min_decryption_version: 1 })).status).toBe(200);
    await expectDecrypts(acme, 'minver', v1, 'old');
  });
});

describe('tampered and foreign ciphertexts are 400 invalid_ciphertext, never 500', () => {
  it('any flipped character of the body', async () => {
    await newKey(acme, 'tamper');
    const ciphertext = await encrypt(acme, 'tamper', 'do not change me');
    const body = ciphertext.slice(ciphertext.lastIndexOf(':') + 1);
    for (let at = 0; at < body.length; at += 3) {
      const res = await decrypt(acme, 'tamper', tamper(ciphertext, at));
      expect(res.status, `at ${at}: ${res.text}`).toBe(400);
      expect(['invalid_ciphertext']).toContain(res.body.error);
      expect(res.text).not.toContain('do not change me');
    }
    for (const bad of [
      'garbage',
      'as:v1:',
      'as:v1:!!!!',
      'as:v99:' + body,
      'as:v0:' + body,
      'as:v-1:' + body,
      'as:vx:' + body,
      'vault:v1:' + body,
      ciphertext + 'A',
      ciphertext.slice(0, -4),
      'as:v1:' + body.slice(0, 10),
      'as:v1:' + Buffer.alloc(200).toString('base64'),
    ]) {
      const res = await decrypt(acme, 'tamper', bad);
      expect(res.status, `${bad}: ${res.text}`).toBe(400);
      expect(res.body.error).toBe('invalid_ciphertext');
      const rewrap = await call('POST', '/keys/tamper/rewrap', acme, { ciphertext: bad });
      expect(rewrap.status, rewrap.text).toBe(400);
    }
  });

  it("another tenant's ciphertext under a key of the same name", async () => {
    await newKey(acme, 'shared-name');
    await newKey(globex, 'shared-name');
    const fromAcme = await encrypt(acme, 'shared-name', 'acme only');
    expectError(await decrypt(globex, 'shared-name', fromAcme), 400, 'invalid_ciphertext');
    expectError(
      await call('POST', '/keys/shared-name/rewrap', globex, { ciphertext: fromAcme }),
      400,
      'invalid_ciphertext',
    );
    // And another key of the same tenant.
    await newKey(acme, 'other-key');
    expectError(await decrypt(acme, 'other-key', fromAcme), 400, 'invalid_ciphertext');
    await expectDecrypts(acme, 'shared-name', fromAcme, 'acme only');
  });
});

describe('disable, enable and destroy', () => {
  it('a disabled key refuses every use with 409 until enabled', async () => {
    await newKey(acme, 'pause');
    const ciphertext = await encrypt(acme, 'pause', 'hello');
    const disabled = await call('POST', '/keys/pause/disable', acme);
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.body.disabled).toBe(true);
    expectError(await call('POST', '/keys/pause/encrypt', acme, { plaintext: b64('x') }), 409, 'key_disabled');
    expectError(await decrypt(acme, 'pause', ciphertext), 409, 'key_disabled');
    expectError(await call('POST', '/keys/pause/rewrap', acme, { ciphertext }), 409, 'key_disabled');
    expectError(await call('POST', '/keys/pause/datakey', acme, {}), 409, 'key_disabled');
    const enabled = await call('POST', '/keys/pause/enable', acme);
    expect(enabled.status).toBe(200);
    expect(enabled.body.disabled).toBe(false);
    await expectDecrypts(acme, 'pause', ciphertext, 'hello');
  });

  it('destroy needs the right confirmation, then every use is 410, also after a restart', async () => {
    const own = await startServer();
    const base = own.url;
    const as: Headers = { 'x-api-key': own.apiKey };
    let reopened: TestServer | undefined;
    try {
      await newKey(as, 'doomed', base);
      const ciphertext = (await call('POST', '/keys/doomed/encrypt', as, { plaintext: b64('bye') }, base)).body
        .ciphertext as string;
      expectError(await call('DELETE', '/keys/doomed', as, undefined, base), 400, 'invalid_request');
      expectError(await call('DELETE', '/keys/doomed', as, {}, base), 400, 'invalid_request');
      expectError(await call('DELETE', '/keys/doomed', as, { confirm: 'Doomed' }, base), 400, 'invalid_request');
      expectError(await call('DELETE', '/keys/doomed', as, { confirm: 'other' }, base), 400, 'invalid_request');
      expectError(await call('DELETE', '/keys/doomed', as, { confirm: 1 }, base), 400, 'invalid_request');
      expect((await call('POST', '/keys/doomed/decrypt', as, { ciphertext }, base)).status).toBe(200);

      const destroyed = await call('DELETE', '/keys/doomed', as, { confirm: 'doomed' }, base);
      expect(destroyed.status, destroyed.text).toBe(200);
      expect(destroyed.body).toMatchObject({ name: 'doomed', destroyed: true });

      const expectAllGone = async (url: string) => {
        const uses: Array<[string, string, unknown]> = [
          ['POST', '/keys/doomed/encrypt', { plaintext: b64('x') }],
          ['POST', '/keys/doomed/decrypt', { ciphertext }],
          ['POST', '/keys/doomed/rewrap', { ciphertext }],
          ['POST', '/keys/doomed/datakey', {}],
          ['POST', '/keys/doomed/datakey', { wrapped_only: true }],
          ['POST', '/keys/doomed/rotate', undefined],
          ['PUT', '/keys/doomed/config', { min_decryption_version: 1 }],
          ['POST', '/keys/doomed/disable', undefined],
          ['POST', '/keys/doomed/enable', undefined],
        ];
        for (const [method, path, json] of uses)
          expectError(await call(method, path, as, json, url), 410, 'key_destroyed');
        const meta = await call('GET', '/keys/doomed', as, undefined, url);
        expect(meta.body).toMatchObject({ destroyed: true });
        // The name stays taken.
        expectError(await call('POST', '/keys', as, { name: 'doomed' }, url), 409, 'conflict');
      };
      await expectAllGone(base);
      await own.close();
      reopened = await startServer({ dataDir: own.dataDir, masterKeyHex: own.masterKeyHex, apiKey: own.apiKey });
      await expectAllGone(reopened.url);
    } finally {
      if (reopened) await reopened.dispose();
      else await own.dispose();
    }
  });

  it('keys and ciphertexts survive a restart', async () => {
    const own = await startServer();
    const as: Headers = { 'x-api-key': own.apiKey };
    let reopened: TestServer | undefined;
    try {
      await newKey(as, 'lasting', own.url);
      const ct = (await call('POST', '/keys/lasting/encrypt', as, { plaintext: b64('kept') }, own.url)).body.ciphertext;
      await own.close();
      reopened = await startServer({ dataDir: own.dataDir, masterKeyHex: own.masterKeyHex, apiKey: own.apiKey });
      const res = await call('POST', '/keys/lasting/decrypt', as, { ciphertext: ct }, reopened.url);
      expect(res.status, res.text).toBe(200);
      expect(unb64(res.body.plaintext)).toBe('kept');
    } finally {
      if (reopened) await reopened.dispose();
      else await own.dispose();
    }
  });
});

describe('permissions', () => {
  const routes: Array<[string, string, unknown]> = [
    ['POST', '/keys', { name: 'perm-new' }],
    ['GET', '/keys', undefined],
    ['GET', '/keys/perm', undefined],
    ['DELETE', '/keys/perm', { confirm: 'perm' }],
    ['POST', '/keys/perm/rotate', undefined],
    ['PUT', '/keys/perm/config', { min_decryption_version: 1 }],
    ['POST', '/keys/perm/disable', undefined],
    ['POST', '/keys/perm/enable', undefined],
    ['POST', '/keys/perm/encrypt', { plaintext: b64('x') }],
    ['POST', '/keys/perm/decrypt', { ciphertext: 'as:v1:AAAA' }],
    ['POST', '/keys/perm/rewrap', { ciphertext: 'as:v1:AAAA' }],
    ['POST', '/keys/perm/datakey', {}],
    ['POST', '/keys/perm/datakey', { wrapped_only: true }],
  ];

  it('developer and readonly principals get 403 on every KMS route and change nothing', async () => {
    await newKey(acme, 'perm');
    const before = await call('GET', '/keys', acme);
    for (const who of [acmeDeveloper, acmeReadonly, acmeReadonlyKey]) {
      for (const [method, path, json] of routes) {
        const res = await call(method, path, who, json);
        expectError(res, 403, 'forbidden');
      }
    }
    expect(await call('GET', '/keys', acme)).toMatchObject({ body: before.body });
  });

  it('anonymous requests get 401', async () => {
    for (const [method, path, json] of routes) {
      const res = await api(server.url, `/api/v1/kms${path}`, {
        method,
        anonymous: true,
        ...(json === undefined ? {} : { json }),
      });
      expectError(res, 401, 'unauthorized');
    }
  });
});

describe('tenant isolation', () => {
  it("a tenant can neither see nor count another tenant's keys", async () => {
    await newKey(acme, 'acme-private');
    const globexList = await call('GET', '/keys', globex);
    expect(globexList.status).toBe(200);
    expect(globexList.body.keys.map((k: { name: string }) => k.name)).not.toContain('acme-private');
    expect(globexList.body.keys.every((k: { name: string }) => k.name === 'shared-name')).toBe(true);
    expectError(await call('GET', '/keys/acme-private', globex), 404, 'not_found');
    expectError(await call('POST', '/keys/acme-private/encrypt', globex, { plaintext: b64('x') }), 404, 'not_found');
    expectError(await call('DELETE', '/keys/acme-private', globex, { confirm: 'acme-private' }), 404, 'not_found');
    // The platform tenant sees none of acme's keys either.
    const platform = await call('GET', '/keys', {});
    expect(platform.body.keys.map((k: { name: string }) => k.name)).not.toContain('acme-private');
    // A tenant_id in the body or query naming another tenant is refused.
    expectError(await call('POST', '/keys', globex, { name: 'x', tenant_id: 'acme' }), 403, 'forbidden');
    const viaQuery = await api(server.url, '/api/v1/kms/keys?tenant_id=acme', { headers: globex });
    expectError(viaQuery, 403, 'forbidden');
    expect((await call('GET', '/keys/acme-private', acme)).status).toBe(200);
  });
});

describe('metadata never carries key material', () => {
  it('no answer but a ciphertext or a requested data key holds a 32-byte base64 blob', async () => {
    await newKey(acme, 'meta');
    await call('POST', '/keys/meta/rotate', acme);
    const texts = [
      (await call('GET', '/keys', acme)).text,
      (await call('GET', '/keys/meta', acme)).text,
      (await call('POST', '/keys/meta/rotate', acme)).text,
      (await call('PUT', '/keys/meta/config', acme, { min_encryption_version: 1 })).text,
      (await call('POST', '/keys/meta/disable', acme)).text,
      (await call('POST', '/keys/meta/enable', acme)).text,
    ];
    const allowed = new Set([
      'name',
      'latest_version',
      'min_decryption_version',
      'min_encryption_version',
      'created_at',
      'rotated_at',
      'disabled',
      'destroyed',
    ]);
    for (const text of texts) {
      // 32 bytes are 43 or 44 base64 characters (either alphabet), or 64 hex characters.
      expect(text).not.toMatch(/[A-Za-z0-9+/_-]{40,}/);
      expect(text).not.toMatch(/[0-9a-f]{64}/i);
      const body = JSON.parse(text) as { keys?: object[] };
      for (const key of body.keys ?? [body]) {
        for (const field of Object.keys(key)) expect(allowed).toContain(field);
      }
    }
  });
});

describe('bad input is a 4xx JSON answer and the server lives on', () => {
  const bad = (name: string, method: string, path: string, body: string | undefined, status: number, code: string) =>
    [name, method, path, body, status, code] as const;
  const json = JSON.stringify;
  const cases = [
    bad('create: malformed JSON', 'POST', '/keys', '{"name":', 400, 'invalid_request'),
    bad('create: JSON null', 'POST', '/keys', 'null', 400, 'invalid_request'),
    bad('create: JSON array', 'POST', '/keys', '[]', 400, 'invalid_request'),
    bad('create: missing name', 'POST', '/keys', '{}', 400, 'invalid_request'),
    bad('create: no body', 'POST', '/keys', undefined, 400, 'invalid_request'),
    bad('create: name a number', 'POST', '/keys', json({ name: 7 }), 400, 'invalid_request'),
    bad('create: name null', 'POST', '/keys', json({ name: null }), 400, 'invalid_request'),
    bad('create: name an object', 'POST', '/keys', json({ name: { a: 1 } }), 400, 'invalid_request'),
    bad('create: empty name', 'POST', '/keys', json({ name: '' }), 400, 'invalid_request'),
    bad('create: name with /', 'POST', '/keys', json({ name: 'a/b' }), 400, 'invalid_request'),
    bad('create: name ..', 'POST', '/keys', json({ name: '../x' }), 400, 'invalid_request'),
    bad('create: unicode name', 'POST', '/keys', json({ name: 'ключ' }), 400, 'invalid_request'),
    bad('create: RTL override', 'POST', '/keys', json({ name: 'abc\u202egpj' }), 400, 'invalid_request'),
    bad('create: NUL in name', 'POST', '/keys', json({ name: 'a\u0000b' }), 400, 'invalid_request'),
    bad('create: space in name', 'POST', '/keys', json({ name: 'a b' }), 400, 'invalid_request'),
    bad('create: 129 chars', 'POST', '/keys', json({ name: 'a'.repeat(129) }), 400, 'invalid_request'),
    bad('create: 10 KB name', 'POST', '/keys', json({ name: 'a'.repeat(10_000) }), 400, 'invalid_request'),
    bad('create: unknown field', 'POST', '/keys', json({ name: 'ok', extra: 1 }), 400, 'invalid_request'),
    bad('get: unicode name', 'GET', `/keys/${encodeURIComponent('ключ')}`, undefined, 400, 'invalid_request'),
    bad('get: 129 chars', 'GET', `/keys/${'a'.repeat(129)}`, undefined, 400, 'invalid_request'),
    bad('get: encoded slash', 'GET', '/keys/a%2Fb', undefined, 400, 'invalid_request'),
    bad('get: bad percent-encoding', 'GET', '/keys/%E0%A4%A', undefined, 400, 'invalid_request'),
    bad('get: slash in name', 'GET', '/keys/a/b', undefined, 404, 'not_found'),
    bad('encrypt: malformed JSON', 'POST', '/keys/bad/encrypt', "{'plaintext': 'x'}", 400, 'invalid_request'),
    bad('encrypt: missing plaintext', 'POST', '/keys/bad/encrypt', '{}', 400, 'invalid_request'),
    bad('encrypt: plaintext number', 'POST', '/keys/bad/encrypt', json({ plaintext: 12 }), 400, 'invalid_request'),
    bad('encrypt: plaintext array', 'POST', '/keys/bad/encrypt', json({ plaintext: ['a'] }), 400, 'invalid_request'),
    bad(
      'encrypt: not base64',
      'POST',
      '/keys/bad/encrypt',
      json({ plaintext: 'hello world!' }),
      400,
      'invalid_request',
    ),
    bad('encrypt: base64 no padding', 'POST', '/keys/bad/encrypt', json({ plaintext: 'aGk' }), 400, 'invalid_request'),
    bad('encrypt: base64url', 'POST', '/keys/bad/encrypt', json({ plaintext: '-_-_' }), 400, 'invalid_request'),
    bad('encrypt: loose bits', 'POST', '/keys/bad/encrypt', json({ plaintext: 'QR==' }), 400, 'invalid_request'),
    bad('encrypt: whitespace', 'POST', '/keys/bad/encrypt', json({ plaintext: 'aGVs bG8=' }), 400, 'invalid_request'),
    bad('encrypt: newline', 'POST', '/keys/bad/encrypt', json({ plaintext: 'aGVs\nbG8=' }), 400, 'invalid_request'),
    bad('encrypt: unicode', 'POST', '/keys/bad/encrypt', json({ plaintext: 'ÿÿÿÿ' }), 400, 'invalid_request'),
    bad(
      'encrypt: plaintext over 64 KiB',
      'POST',
      '/keys/bad/encrypt',
      json({ plaintext: Buffer.alloc(64 * 1024 + 1).toString('base64') }),
      400,
      'invalid_request',
    ),
    bad(
      'encrypt: context not base64',
      'POST',
      '/keys/bad/encrypt',
      json({ plaintext: '', context: '%%' }),
      400,
      'invalid_request',
    ),
    bad(
      'encrypt: context number',
      'POST',
      '/keys/bad/encrypt',
      json({ plaintext: '', context: 1 }),
      400,
      'invalid_request',
    ),
    bad('decrypt: missing ciphertext', 'POST', '/keys/bad/decrypt', '{}', 400, 'invalid_request'),
    bad('decrypt: ciphertext number', 'POST', '/keys/bad/decrypt', json({ ciphertext: 1 }), 400, 'invalid_request'),
    bad('decrypt: empty ciphertext', 'POST', '/keys/bad/decrypt', json({ ciphertext: '' }), 400, 'invalid_request'),
    bad(
      'decrypt: garbage ciphertext',
      'POST',
      '/keys/bad/decrypt',
      json({ ciphertext: '\u0000' }),
      400,
      'invalid_ciphertext',
    ),
    bad(
      'decrypt: huge ciphertext',
      'POST',
      '/keys/bad/decrypt',
      json({ ciphertext: 'a'.repeat(200_000) }),
      400,
      'invalid_request',
    ),
    bad('rewrap: ciphertext object', 'POST', '/keys/bad/rewrap', json({ ciphertext: {} }), 400, 'invalid_request'),
    bad(
      'datakey: wrapped_only string',
      'POST',
      '/keys/bad/datakey',
      json({ wrapped_only: 'true' }),
      400,
      'invalid_request',
    ),
    bad('datakey: JSON string', 'POST', '/keys/bad/datakey', '"x"', 400, 'invalid_request'),
    bad('config: negative', 'PUT', '/keys/bad/config', json({ min_decryption_version: -1 }), 400, 'invalid_request'),
    bad('config: unknown field', 'PUT', '/keys/bad/config', json({ latest_version: 9 }), 400, 'invalid_request'),
    bad('config: JSON array', 'PUT', '/keys/bad/config', '[1]', 400, 'invalid_request'),
    bad('delete: confirm array', 'DELETE', '/keys/bad', json({ confirm: ['bad'] }), 400, 'invalid_request'),
    bad('delete: malformed JSON', 'DELETE', '/keys/bad', '{', 400, 'invalid_request'),
    bad('rotate: unknown field', 'POST', '/keys/bad/rotate', json({ version: 3 }), 400, 'invalid_request'),
  ];

  beforeAll(async () => {
    await newKey(acme, 'bad');
  });

  it.each(cases)('%s', async (_name, method, path, body, status, code) => {
    const before = (await call('GET', '/keys', acme)).body;
    const res = await api(server.url, `/api/v1/kms${path}`, {
      method,
      headers: { ...acme, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    });
    expectError(res, status, code);
    expect(res.text).not.toMatch(/\n\s*at\s|node_modules|\/tmp\/|\/work/);
    expect((await call('GET', '/keys', acme)).body).toEqual(before);
    expect((await api(server.url, '/health', { anonymous: true })).body).toMatchObject({ status: 'healthy' });
  });

  it('a text/plain body is 415', async () => {
    const res = await api(server.url, '/api/v1/kms/keys/bad/encrypt', {
      method: 'POST',
      headers: { ...acme, 'content-type': 'text/plain' },
      body: '{"plaintext":""}',
    });
    expectError(res, 415, 'unsupported_media_type');
  });

  it('exactly 64 KiB of plaintext and a 128-character name are accepted', async () => {
    const name = 'a'.repeat(128);
    await newKey(acme, name);
    const big = randomBytes(64 * 1024);
    const ct = await call('POST', `/keys/${name}/encrypt`, acme, { plaintext: big.toString('base64') });
    expect(ct.status, ct.text).toBe(200);
    const back = await decrypt(acme, name, ct.body.ciphertext);
    expect(back.status).toBe(200);
    expect(Buffer.from(back.body.plaintext, 'base64').equals(big)).toBe(true);
  });
});
