import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { upgradeStatus } from '../support/websocket.js';
import { LockedError } from '../../src/server/locked/index.js';
import { WrongPassphraseError } from '../../src/server/kms/index.js';
import { raw } from '../support/raw-http.js';
import { api, newApiKey, passphraseFileOf, startServer, tempDir, type TestServer } from '../support/server.js';

/**
 * A server whose master key is protected by a passphrase and that was given none starts LOCKED:
 * /health says so and nothing else, every other route (and WebSocket upgrades) answers 503
 * `locked`, until POST /api/v1/unlock with the right passphrase opens the store.
 */

const PASSPHRASE = 'tulip lantern harbour 9';
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.dispose()));
});

async function locked(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const server = await startServer({ passphrase: PASSPHRASE, locked: true, ...options });
  servers.push(server);
  return server;
}

const unlock = (s: TestServer, body: unknown, init: RequestInit = {}) =>
  api(s.url, '/api/v1/unlock', { method: 'POST', json: body, ...init });

/** Every kind of route, public and authenticated, with and without a body. */
const ROUTES: [string, string, unknown?][] = [
  ['GET', '/api/v1/events/query'],
  ['POST', '/api/v1/events', { event_type: 'a.b', entity_id: 'e', payload: {} }],
  ['POST', '/api/v1/events/batch', { events: [] }],
  ['GET', '/api/v1/streams'],
  ['GET', '/api/v1/stats'],
  ['GET', '/api/v1/events/stream'],
  ['GET', '/api/v1/kms/keys'],
  ['POST', '/api/v1/kms/keys', { name: 'k' }],
  ['POST', '/api/v1/auth/login', { username: 'admin', password: 'whatever-it-is' }],
  ['GET', '/api/v1/auth/me'],
  ['GET', '/api/v1/tenants'],
  ['GET', '/api/v1/encryption/policies/a.b'],
  ['GET', '/metrics'],
  ['GET', '/'],
  ['GET', '/no/such/path'],
  ['DELETE', '/api/v1/unknown'],
];

describe('a locked server', () => {
  it('says "locked" on /health and nothing more: no counts, no tenants, no storage details', async () => {
    const s = await locked();
    const health = await api(s.url, '/health', { anonymous: true });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'locked',
      service: 'allsource-core',
      version: expect.any(String),
      locked: true,
    });
    expect(s.app.locked).toBe(true);
  });

  it.each(ROUTES)('answers %s %s with 503 locked, with or without a credential', async (method, path, json) => {
    const s = await locked();
    for (const anonymous of [false, true]) {
      const res = await api(s.url, path, { method, anonymous, ...(json === undefined ? {} : { json }) });
      expect({ status: res.status, error: res.body?.error }, res.text).toEqual({ status: 503, error: 'locked' });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body.message).toMatch(/locked/);
    }
  });

  it('refuses a Host that does not name this server (DNS rebinding) before /health or unlock answer', async () => {
    const s = await locked();
    for (const [method, path, body] of [
      ['GET', '/health', undefined],
      ['POST', '/api/v1/unlock', JSON.stringify({ passphrase: PASSPHRASE })],
    ] as const) {
      const res = await raw(s.url, {
        method,
        path,
        headers: { host: `evil.example:${s.port}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body } : {}),
      });
      expect({ status: res.status, error: res.body?.error }, res.text).toEqual({
        status: 403,
        error: 'host_not_allowed',
      });
      expect(res.text).not.toContain('locked');
    }
    expect(s.app.locked).toBe(true);
    const own = await raw(s.url, { path: '/health', headers: { host: `localhost:${s.port}` } });
    expect(own.body.status).toBe('locked');
  });

  it('refuses WebSocket upgrades with 503', async () => {
    const s = await locked();
    const status = await upgradeStatus(s.url, { 'x-api-key': s.apiKey });
    expect(status).toBe(503);
  });

  it('keeps store, identity and keyring behind LockedError', async () => {
    const s = await locked();
    expect(() => s.app.store).toThrow(LockedError);
    expect(() => s.app.identity).toThrow(LockedError);
    expect(() => s.app.keyring).toThrow(LockedError);
  });

  it('a wrong passphrase is 401 wrong_passphrase; the right one opens the store; a second unlock is 409', async () => {
    const s = await locked();
    const before = readFileSync(passphraseFileOf(s.dataDir));
    const wrong = await unlock(s, { passphrase: 'not it at all' });
    expect({ status: wrong.status, error: wrong.body.error }).toEqual({ status: 401, error: 'wrong_passphrase' });
    expect(wrong.body.message).toBe('the passphrase is wrong');
    expect(readFileSync(passphraseFileOf(s.dataDir)).equals(before)).toBe(true);
    expect((await api(s.url, '/api/v1/stats')).status).toBe(503);

    const right = await unlock(s, { passphrase: PASSPHRASE });
    expect(right.status, right.text).toBe(200);
    expect(right.body).toEqual({ status: 'unlocked' });
    expect(s.app.locked).toBe(false);
    expect((await api(s.url, '/health')).body).toMatchObject({ status: 'healthy', locked: false });
    const appended = await api(s.url, '/api/v1/events', {
      json: { event_type: 'lock.test', entity_id: 'x', payload: {} },
    });
    expect(appended.status, appended.text).toBe(201);
    // The wrong passphrase could not be recorded while locked; the unlock's record counts it.
    const unlockRecord = s.app.audit.query('default', { action: 'unlock' }, { limit: 10, offset: 0 }).events;
    expect(unlockRecord).toHaveLength(1);
    expect(unlockRecord[0]).toMatchObject({ outcome: 'success', metadata: { failed_attempts_before: 1 } });
    expect((await api(s.url, '/metrics')).status).toBe(200);
    const again = await unlock(s, { passphrase: PASSPHRASE });
    expect({ status: again.status, error: again.body.error }).toEqual({ status: 409, error: 'already_unlocked' });
    // The rest of the API is the normal one again: an unknown path is a 404, not a 503.
    expect((await api(s.url, '/no/such/path')).status).toBe(404);
  });

  it('after a restart, events appended before are visible once unlocked, and the bootstrap key works', async () => {
    const dataDir = tempDir();
    const apiKey = newApiKey();
    const first = await startServer({ dataDir, apiKey, passphrase: PASSPHRASE });
    expect(first.app.locked).toBe(false);
    for (let i = 0; i < 5; i++) {
      const res = await api(first.url, '/api/v1/events', {
        json: { event_type: 'keep.me', entity_id: `e${i}`, payload: { i } },
      });
      expect(res.status).toBe(201);
    }
    await first.close();
    const second = await locked({ dataDir, apiKey });
    expect((await api(second.url, '/api/v1/stats')).status).toBe(503);
    expect((await unlock(second, { passphrase: PASSPHRASE })).status).toBe(200);
    expect((await api(second.url, '/api/v1/stats')).body.total_events).toBe(5);
    const query = await api(second.url, '/api/v1/events/query?event_type=keep.me');
    expect(query.status).toBe(200);
  });

  it('with the passphrase given at start (ALLSOURCE_PASSPHRASE) starts unlocked', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, passphrase: PASSPHRASE, locked: true });
    await first.close();
    const s = await startServer({
      dataDir,
      passphrase: PASSPHRASE,
      env: { ALLSOURCE_PASSPHRASE: PASSPHRASE },
      locked: true,
    });
    servers.push(s);
    expect(s.app.locked).toBe(false);
    expect((await api(s.url, '/api/v1/stats')).status).toBe(200);
  });

  it('a wrong ALLSOURCE_PASSPHRASE at start fails with "the passphrase is wrong" and changes no file', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, passphrase: PASSPHRASE });
    await first.close();
    const snapshot = () =>
      readdirSync(dataDir)
        .filter((name) => name !== 'allsource.lock')
        .map((name) => [name, readFileSync(join(dataDir, name)).toString('base64')]);
    const before = { data: snapshot(), key: readFileSync(passphraseFileOf(dataDir)) };
    const error = await startServer({
      dataDir,
      passphrase: 'definitely not right',
      env: { ALLSOURCE_PASSPHRASE: 'definitely not right' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongPassphraseError);
    expect((error as Error).message).toBe('the passphrase is wrong');
    expect(snapshot()).toEqual(before.data);
    expect(readFileSync(passphraseFileOf(dataDir)).equals(before.key)).toBe(true);
    // And the data directory is free again: the right passphrase opens it.
    const s = await startServer({ dataDir, passphrase: PASSPHRASE });
    servers.push(s);
    expect(s.app.locked).toBe(false);
  });
});

describe('POST /api/v1/unlock with bad input', () => {
  const fast = { unlockGate: { baseDelayMs: 1, maxDelayMs: 4 } };

  it.each([
    ['malformed JSON', '{"passphrase": ', 'application/json', 400, 'invalid_request'],
    ['an array', '["x"]', 'application/json', 400, 'invalid_request'],
    ['a bare string', '"tulip lantern harbour 9"', 'application/json', 400, 'invalid_request'],
    ['null', 'null', 'application/json', 400, 'invalid_request'],
    ['a number passphrase', '{"passphrase": 42}', 'application/json', 400, 'invalid_request'],
    ['an object passphrase', '{"passphrase": {"$ne": ""}}', 'application/json', 400, 'invalid_request'],
    ['a null passphrase', '{"passphrase": null}', 'application/json', 400, 'invalid_request'],
    ['no passphrase', '{}', 'application/json', 400, 'invalid_request'],
    ['an empty passphrase', '{"passphrase": ""}', 'application/json', 400, 'invalid_request'],
    ['an extra field', '{"passphrase": "x", "admin": true}', 'application/json', 400, 'invalid_request'],
    [
      'a passphrase over 1024 characters',
      JSON.stringify({ passphrase: 'p'.repeat(1025) }),
      'application/json',
      400,
      'invalid_request',
    ],
    [
      'an oversized body',
      JSON.stringify({ passphrase: 'p'.repeat(64 * 1024) }),
      'application/json',
      413,
      'payload_too_large',
    ],
    ['a form body', 'passphrase=x', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
    ['a text body', 'tulip lantern harbour 9', 'text/plain', 415, 'unsupported_media_type'],
  ])('refuses %s with a JSON %d and stays up, still locked', async (_name, body, type, status, code) => {
    const s = await locked(fast);
    const res = await api(s.url, '/api/v1/unlock', { method: 'POST', body, headers: { 'content-type': type } });
    expect({ status: res.status, error: res.body?.error }, res.text).toEqual({ status, error: code });
    expect(res.text).not.toContain('tulip');
    expect((await api(s.url, '/health')).body.status).toBe('locked');
  });

  it('treats hostile strings as just wrong passphrases, and still unlocks with the right one after them', async () => {
    const s = await locked(fast);
    for (const hostile of [
      "' OR 1=1 --",
      '\u0000\u0000',
      '\u202e\u2066evil',
      '../../../etc/passwd',
      '${jndi:ldap://x}',
      '😀'.repeat(300),
    ]) {
      const res = await unlock(s, { passphrase: hostile });
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'wrong_passphrase' });
      expect(res.text).not.toContain(hostile);
    }
    expect((await unlock(s, { passphrase: PASSPHRASE })).status).toBe(200);
  });

  it('GET on the unlock route is 405, and the route only ever accepts POST', async () => {
    const s = await locked(fast);
    const res = await api(s.url, '/api/v1/unlock');
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 405, error: 'method_not_allowed' });
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('a flood of attempts waits in one line: beyond the limit they get 429, and the server stays up', async () => {
    // A short backoff and a short line, so the test does not sit through seconds of doubling delays.
    const s = await locked({ unlockGate: { baseDelayMs: 50, maxDelayMs: 100, maxWaiting: 2 } });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => unlock(s, { passphrase: 'flooding attempt' }).then((r) => r.status)),
    );
    expect(results).toContain(429);
    expect(results.every((status) => status === 401 || status === 429)).toBe(true);
    expect((await api(s.url, '/health')).body.status).toBe('locked');
  });
});
