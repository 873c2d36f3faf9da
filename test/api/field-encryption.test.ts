import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CIPHER_PAGE_SIZE, openEncryptedFile } from '../../src/server/db/index.js';
import { FIELDS_KEY } from '../../src/server/fields/index.js';
import { wrapContext } from '../../src/server/fields/subject-keys.js';
import { deriveKey, type DerivedKey, type MasterKey } from '../../src/server/kms/index.js';
import { bearer, createKey, createTenant, createUser, xApiKey, type Headers } from '../support/identity.js';
import { api, startServer, type TestServer } from '../support/server.js';
import { openSse } from '../support/sse.js';
import { all, closeZetetic, openWithKey } from '../support/zetetic.js';

/**
 * Field-level encryption and crypto-shredding over HTTP (issue 4, items 3 to 5): policies, the
 * three views on every read path (event, query, entity state, SSE, WebSocket), forget, rewrap,
 * permissions, tenant isolation, bad input, and the file read from outside.
 */

let server: TestServer;
let admin: Headers; // acme admin: has decrypt
let developer: Headers; // acme developer: reads, writes, no decrypt
let readonlyKey: Headers;
let globex: Headers;

const SSN = 'SSN-7d1f-unique-123-45-6789';
const CARD = 'CARD-4111-2222-unique-0007';

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'acme', 'Acme');
  await createTenant(server.url, 'globex', 'Globex');
  admin = bearer((await createUser(server.url, { username: 'fe-ann', tenant_id: 'acme', role: 'admin' })).token);
  developer = bearer(
    (await createUser(server.url, { username: 'fe-dev', tenant_id: 'acme', role: 'developer' })).token,
  );
  readonlyKey = xApiKey((await createKey(server.url, admin, { name: 'fe-reader', role: 'readonly' })).key);
  globex = bearer((await createUser(server.url, { username: 'fe-gus', tenant_id: 'globex', role: 'admin' })).token);
});

afterAll(async () => {
  await server?.dispose();
});

type Res = Awaited<ReturnType<typeof api>>;

function call(method: string, path: string, as: Headers, json?: unknown, base = server.url): Promise<Res> {
  return api(base, `/api/v1${path}`, { method, headers: as, ...(json === undefined ? {} : { json }) });
}

function expectError(res: Res, status: number, code: string): void {
  expect({ status: res.status, error: res.body?.error }, res.text).toEqual({ status, error: code });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

async function putPolicy(as: Headers, type: string, fields: string[], base = server.url): Promise<Res> {
  const res = await call('PUT', `/encryption/policies/${type}`, as, { fields }, base);
  expect([200, 201], res.text).toContain(res.status);
  return res;
}

async function append(as: Headers, event: Record<string, unknown>, base = server.url): Promise<string> {
  const res = await call('POST', '/events', as, event, base);
  expect(res.status, res.text).toBe(201);
  return res.body.event_id as string;
}

const patient = (entity: string, ssn = SSN) => ({
  event_type: 'patient.admitted',
  entity_id: entity,
  payload: { name: 'Ann', ssn, card: { number: CARD, brand: 'visa' }, ward: 7 },
});

const marker = (version = 1) => ({ $encrypted: true, key: 'allsource.fields', version });

describe('encryption policies', () => {
  it('creates, replaces, reads, lists and deletes a policy; manage_keys to change, read to look', async () => {
    const created = await call('PUT', '/encryption/policies/policy.crud', admin, { fields: ['/a'] });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({ event_type: 'policy.crud', fields: ['/a'], updated_at: expect.any(String) });
    const replaced = await call('PUT', '/encryption/policies/policy.crud', admin, { fields: ['/b', '/c/d'] });
    expect(replaced.status).toBe(200);
    expect((await call('GET', '/encryption/policies/policy.crud', readonlyKey)).body.fields).toEqual(['/b', '/c/d']);
    const listed = await call('GET', '/encryption/policies', developer);
    expect(listed.body.policies.map((p: { event_type: string }) => p.event_type)).toContain('policy.crud');

    expectError(await call('PUT', '/encryption/policies/policy.crud', developer, { fields: ['/x'] }), 403, 'forbidden');
    expectError(await call('DELETE', '/encryption/policies/policy.crud', readonlyKey), 403, 'forbidden');
    expectError(
      await api(server.url, '/api/v1/encryption/policies/policy.crud', { anonymous: true }),
      401,
      'unauthorized',
    );

    expect((await call('DELETE', '/encryption/policies/policy.crud', admin)).body).toEqual({ deleted: true });
    expectError(await call('GET', '/encryption/policies/policy.crud', admin), 404, 'not_found');
    expectError(await call('DELETE', '/encryption/policies/policy.crud', admin), 404, 'not_found');
  });

  it('refuses bad pointers, naming each one', async () => {
    const bad: [unknown, string][] = [
      [{ fields: [] }, '/fields'],
      [{ fields: 'ssn' }, '/fields'],
      [{ fields: ['ssn'] }, '/fields/0'],
      [{ fields: [''] }, '/fields/0'],
      [{ fields: ['/a', 7] }, '/fields/1'],
      [{ fields: ['/a', '/a'] }, '/fields/1'],
      [{ fields: ['/a/b', '/a'] }, '/fields/0'],
      [{ fields: ['/a//b'] }, '/fields/0'],
      [{ fields: ['/a~2'] }, '/fields/0'],
      [{ fields: ['/a\u0000'] }, '/fields/0'],
      [{ fields: ['/\ud800'] }, '/fields/0'],
      [{ fields: [`/${'x'.repeat(600)}`] }, '/fields/0'],
      [{ fields: Array.from({ length: 65 }, (_, i) => `/f${i}`) }, '/fields'],
      [{ fields: ['/a'], extra: true }, '/'],
      [null, '/'],
      [[], '/'],
    ];
    for (const [body, path] of bad) {
      const res = await call('PUT', '/encryption/policies/bad.input', admin, body);
      expectError(res, 400, 'invalid_request');
      expect(JSON.stringify(res.body.details), JSON.stringify(body)?.slice(0, 80)).toContain(`"path":"${path}`);
    }
    expectError(await call('GET', '/encryption/policies/bad.input', admin), 404, 'not_found');
  });

  it('refuses an invalid event type in the path, malformed JSON, a non-JSON body and an oversized one', async () => {
    expectError(
      await call('PUT', `/encryption/policies/${'t'.repeat(300)}`, admin, { fields: ['/a'] }),
      400,
      'invalid_request',
    );
    expectError(await call('GET', '/encryption/policies/%20bad%20type', admin), 400, 'invalid_request');
    const malformed = await api(server.url, '/api/v1/encryption/policies/x.y', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: '{"fields": ["/a"',
    });
    expectError(malformed, 400, 'invalid_request');
    const form = await api(server.url, '/api/v1/encryption/policies/x.y', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'fields=/a',
    });
    expect(form.status).toBe(415);
    const huge = await call('PUT', '/encryption/policies/x.y', admin, {
      fields: ['/a'],
      pad: 'x'.repeat(2 * 1024 * 1024),
    });
    expectError(huge, 413, 'payload_too_large');
    expect((await api(server.url, '/health', { anonymous: true })).status).toBe(200);
  });

  it('keeps a tenant that holds policies from being deleted until they are removed', async () => {
    await createTenant(server.url, 'with-policy');
    const owner = bearer(
      (await createUser(server.url, { username: 'fe-owner', tenant_id: 'with-policy', role: 'admin' })).token,
    );
    await putPolicy(owner, 'secret.kept', ['/secret']);
    const platform = { 'x-api-key': server.apiKey };
    const refused = await call('DELETE', '/tenants/with-policy', platform);
    expectError(refused, 409, 'tenant_not_empty');
    expect(refused.body.holds).toContain('encryption_policies');
    expect((await call('GET', '/encryption/policies/secret.kept', owner)).status).toBe(200);
    await call('DELETE', '/encryption/policies/secret.kept', owner);
    // Still refused (its admin remains), but no longer for the policy.
    expect((await call('DELETE', '/tenants/with-policy', platform)).body.holds).not.toContain('encryption_policies');
  });

  it('keeps each tenant to its own policies', async () => {
    await putPolicy(admin, 'iso.type', ['/secret']);
    expectError(await call('GET', '/encryption/policies/iso.type', globex), 404, 'not_found');
    expectError(await call('DELETE', '/encryption/policies/iso.type', globex), 404, 'not_found');
    expect((await call('GET', '/encryption/policies/iso.type', admin)).status).toBe(200);
    // A tenant_id for another tenant is refused, not followed.
    expectError(
      await call('PUT', '/encryption/policies/iso.type?tenant_id=acme', globex, { fields: ['/x'] }),
      403,
      'forbidden',
    );
  });
});

describe('reads: plaintext with decrypt, markers without, on every path', () => {
  let eventId: string;

  beforeAll(async () => {
    await putPolicy(admin, 'patient.admitted', ['/ssn', '/card/number']);
    eventId = await append(developer, patient('patient-1'));
  });

  it('GET /events/:id', async () => {
    const plain = await call('GET', `/events/${eventId}`, admin);
    expect(plain.body.event.payload).toEqual(patient('patient-1').payload);
    for (const reader of [developer, readonlyKey]) {
      const redacted = await call('GET', `/events/${eventId}`, reader);
      expect(redacted.body.event.payload).toEqual({
        name: 'Ann',
        ssn: marker(),
        card: { number: marker(), brand: 'visa' },
        ward: 7,
      });
      expect(redacted.text).not.toContain(SSN);
      expect(redacted.text).not.toContain(CARD);
      expect(redacted.text).not.toContain('asf:');
    }
  });

  it('GET /events/query and the entity state', async () => {
    const plain = await call('GET', '/events/query?entity_id=patient-1', admin);
    expect(plain.body.events[0].payload.ssn).toBe(SSN);
    const redacted = await call('GET', '/events/query?entity_id=patient-1', readonlyKey);
    expect(redacted.body.events[0].payload.ssn).toEqual(marker());
    expect(redacted.text).not.toContain(SSN);

    const state = await call('GET', '/entities/patient-1/state', admin);
    expect(state.body.current_state.ssn).toBe(SSN);
    const hidden = await call('GET', '/entities/patient-1/state', developer);
    expect(hidden.body.current_state.ssn).toEqual(marker());
    expect(hidden.text).not.toContain(SSN);
  });

  it('SSE: catch-up and live, each subscriber in its own view', async () => {
    const url = `${server.url}/api/v1/events/subscribe?entity_id=patient-sse`;
    const plain = await openSse(url, admin);
    const redacted = await openSse(url, readonlyKey);
    try {
      await append(admin, patient('patient-sse'));
      const [p] = await plain.waitFor(1);
      const [r] = await redacted.waitFor(1);
      expect(JSON.parse(p!.data).payload.ssn).toBe(SSN);
      expect(JSON.parse(r!.data).payload.ssn).toEqual(marker());
      expect(r!.data).not.toContain(SSN);
    } finally {
      plain.close();
      redacted.close();
    }
  });

  it('WebSocket: each client in its own view', async () => {
    const open = (headers: Headers) =>
      new Promise<{ ws: WebSocket; next: Promise<string> }>((resolve, reject) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/events/stream`, { headers });
        const next = new Promise<string>((got) => ws.once('message', (data) => got(data.toString())));
        ws.once('open', () => resolve({ ws, next }));
        ws.once('error', reject);
      });
    const plain = await open(admin);
    const redacted = await open(developer);
    try {
      await append(admin, patient('patient-ws'));
      expect(JSON.parse(await plain.next).payload.ssn).toBe(SSN);
      const text = await redacted.next;
      expect(JSON.parse(text).payload.card.number).toEqual(marker());
      expect(text).not.toContain(CARD);
    } finally {
      plain.ws.close();
      redacted.ws.close();
    }
  });
});

describe('crypto-shredding', () => {
  it('forget: the subject values read $shredded for everyone, for good, and the events stay', async () => {
    await putPolicy(admin, 'patient.admitted', ['/ssn', '/card/number']);
    const first = await append(admin, patient('patient-forget'));
    await append(admin, patient('patient-forget', 'second'));
    const neighbour = await append(admin, patient('patient-stays'));

    expectError(await call('POST', '/subjects/patient-forget/forget', developer), 403, 'forbidden');
    const forgotten = await call('POST', '/subjects/patient-forget/forget', admin);
    expect(forgotten.status, forgotten.text).toBe(200);
    expect(forgotten.body).toEqual({
      entity_id: 'patient-forget',
      forgotten: true,
      keys_destroyed: 1,
      forgotten_at: expect.any(String),
    });

    for (const reader of [admin, readonlyKey]) {
      const res = await call('GET', `/events/${first}`, reader);
      expect(res.body.event.payload).toEqual({
        name: 'Ann',
        ssn: { $shredded: true },
        card: { number: { $shredded: true }, brand: 'visa' },
        ward: 7,
      });
    }
    const history = await call('GET', '/events/query?entity_id=patient-forget', admin);
    expect(history.body.count).toBe(2);
    expect(history.text).not.toContain(SSN);
    expect((await call('GET', `/events/${neighbour}`, admin)).body.event.payload.ssn).toBe(SSN);

    // Idempotent, and another tenant's forget of the same id touches nothing here.
    expect((await call('POST', '/subjects/patient-forget/forget', admin)).body.keys_destroyed).toBe(0);
    await call('POST', '/subjects/patient-stays/forget', globex);
    expect((await call('GET', `/events/${neighbour}`, admin)).body.event.payload.ssn).toBe(SSN);
  });

  it('refuses a bad entity id or a body on forget', async () => {
    expectError(await call('POST', `/subjects/${'e'.repeat(300)}/forget`, admin), 400, 'invalid_request');
    expectError(await call('POST', '/subjects/x/forget', admin, { everything: true }), 400, 'invalid_request');
    expectError(await call('POST', '/subjects/x/forget', admin, [1]), 400, 'invalid_request');
  });
});

describe('rewrap over HTTP', () => {
  it('after a rotation, moves every subject key to the new version, with progress; old values still read', async () => {
    await putPolicy(globex, 'rewrap.me', ['/secret']);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push(await append(globex, { event_type: 'rewrap.me', entity_id: `r-${i}`, payload: { secret: `s-${i}` } }));
    expect((await call('GET', '/encryption/rewrap', globex)).body).toEqual({ status: 'never_run', remaining: 0 });
    expect((await call('POST', '/kms/keys/allsource.fields/rotate', globex)).body.latest_version).toBe(2);
    expect((await call('GET', '/encryption/rewrap', globex)).body.remaining).toBe(5);

    const started = await call('POST', '/encryption/rewrap', globex);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', target_version: 2, total: 5 });
    let status = started.body;
    for (let tries = 0; status.status === 'running' && tries < 200; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      status = (await call('GET', '/encryption/rewrap', globex)).body;
    }
    expect(status).toMatchObject({ status: 'completed', done: 5, remaining: 0 });

    const retire = await call('PUT', '/kms/keys/allsource.fields/config', globex, { min_decryption_version: 2 });
    expect(retire.status, retire.text).toBe(200);
    for (const [i, id] of ids.entries()) {
      expect((await call('GET', `/events/${id}`, globex)).body.event.payload.secret).toBe(`s-${i}`);
    }
    expectError(await call('POST', '/encryption/rewrap', globex, { now: true }), 400, 'invalid_request');
    expectError(await call('GET', '/encryption/rewrap', developer), 403, 'forbidden');
  });
});

describe('the file, read from outside', () => {
  it("holds none of the sealed plaintext, before or after forget: Zetetic's SQLCipher reads every table", async () => {
    const own = await startServer();
    try {
      const key = own.apiKey;
      const headers = xApiKey(key);
      await putPolicy(headers, 'patient.admitted', ['/ssn', '/card/number'], own.url);
      await append(headers, patient('at-rest-1'), own.url);
      await append(headers, patient('at-rest-2', 'SSN-second-unique-999'), own.url);
      const wrappedBefore = await subjectKeyDump(own);
      // Key material that must never be in the file in clear: a live subject key, the master key and
      // the keys derived from it.
      const liveDataKey = own.app.keyring.decrypt(
        'default',
        FIELDS_KEY,
        wrappedBefore['at-rest-2']!,
        wrapContext('at-rest-2', 1),
      );
      const masterKey = Buffer.from(own.masterKeyHex, 'hex') as MasterKey;
      const secrets = [liveDataKey, masterKey, databaseKey(own), deriveKey(masterKey, 'allsource/keyring')];
      expect((await call('POST', '/subjects/at-rest-1/forget', headers, undefined, own.url)).status).toBe(200);
      await own.close();

      const file = join(own.dataDir, 'allsource.db');
      const db = await openWithKey(file, own.databaseKeyHex);
      let text = '';
      try {
        const tables = await all<{ name: string }>(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
        for (const { name } of tables) text += JSON.stringify(await all(db, `SELECT * FROM "${name}"`));
        // The event still stands; its sealed values are ciphertext.
        expect(text).toContain('at-rest-1');
      } finally {
        await closeZetetic(db);
      }
      for (const secret of [SSN, CARD, 'SSN-second-unique-999']) expect(text).not.toContain(secret);
      expect(text).not.toContain(wrappedBefore['at-rest-1']!.slice(8, 48));

      // Every page decrypted, free pages too: the forgotten wrapped key is nowhere, not even in free space.
      const pages = decryptedPages(own);
      expect(pages.includes(Buffer.from(wrappedBefore['at-rest-1']!.slice(8, 48)))).toBe(false);
      expect(pages.includes(Buffer.from(wrappedBefore['at-rest-2']!.slice(8, 48)))).toBe(true);
      expect(pages.includes(Buffer.from(SSN))).toBe(false);
      for (const [i, secret] of secrets.entries()) expect(pages.includes(secret), `key material ${i}`).toBe(false);
    } finally {
      await own.dispose();
    }
  });
});

/** The subject keys' wrapped forms, by entity, read through a second (read-only) connection. */
async function subjectKeyDump(own: TestServer): Promise<Record<string, string>> {
  const db = openEncryptedFile(join(own.dataDir, 'allsource.db'), databaseKey(own), { readonly: true });
  try {
    const rows = db
      .prepare<[], { entity_id: string; wrapped_key: string }>('SELECT entity_id, wrapped_key FROM subject_keys')
      .all();
    return Object.fromEntries(rows.map((row) => [row.entity_id, row.wrapped_key]));
  } finally {
    db.close();
  }
}

const databaseKey = (own: TestServer) => Buffer.from(own.databaseKeyHex, 'hex') as DerivedKey;

/**
 * Every page of the file decrypted by hand, free pages and free space inside pages included: SQLCipher 4
 * with a raw key encrypts each page with AES-256-CBC under that key, the IV in the page's reserved tail
 * (16 bytes of IV, then a 64-byte HMAC); page 1 starts with the 16-byte salt in clear.
 */
function decryptedPages(own: TestServer): Buffer {
  const file = readFileSync(join(own.dataDir, 'allsource.db'));
  const key = databaseKey(own);
  const reserve = 16 + 64;
  const pages: Buffer[] = [];
  for (let offset = 0; offset < file.length; offset += CIPHER_PAGE_SIZE) {
    const page = file.subarray(offset, offset + CIPHER_PAGE_SIZE);
    const start = offset === 0 ? 16 : 0;
    const iv = page.subarray(CIPHER_PAGE_SIZE - reserve, CIPHER_PAGE_SIZE - reserve + 16);
    const decipher = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    pages.push(decipher.update(page.subarray(start, CIPHER_PAGE_SIZE - reserve)), decipher.final());
  }
  const plain = Buffer.concat(pages);
  // Proof that this really is the decrypted file: the SQLite header's payload fractions (offsets 21 to
  // 23, here 16 bytes earlier because the salt replaced the header's first 16) read 64, 32, 32.
  expect([...plain.subarray(5, 8)]).toEqual([64, 32, 32]);
  return plain;
}
