import sqlcipher from '@journeyapps/sqlcipher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIPHER_PAGE_SIZE } from '../../src/server/db/index.js';
import { bearer, createTenant, createUser, strongPassword, type Headers } from '../support/identity.js';
import { upgradeStatus } from '../support/websocket.js';
import { api, startServer, type TestServer } from '../support/server.js';
import { closeZetetic, exec, openZetetic } from '../support/zetetic.js';

/**
 * Issue 6, item 3: when the audit record cannot be written (here: the table renamed away through
 * a second SQLCipher connection), the request fails with 503 JSON, nothing it would have changed
 * is stored, no data is sent, and the server keeps serving once the trail is back.
 */

let server: TestServer;
let acme: Headers;
let outside: sqlcipher.Database;
const b64 = (text: string) => Buffer.from(text).toString('base64');

async function hideTrail(hidden: boolean): Promise<void> {
  await exec(
    outside,
    hidden ? 'ALTER TABLE audit_log RENAME TO audit_log_hidden' : 'ALTER TABLE audit_log_hidden RENAME TO audit_log',
  );
}

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'acme');
  acme = bearer((await createUser(server.url, { username: 'fc-admin', tenant_id: 'acme', role: 'admin' })).token);
  await api(server.url, '/api/v1/kms/keys', { json: { name: 'k' }, headers: acme });
  await api(server.url, '/api/v1/events', {
    json: { event_type: 'seen', entity_id: 'e-1', payload: { n: 1 } },
    headers: acme,
  });
  // Kept open until the server is gone (see audit-tamper.test.ts: two SQLite libraries, one process).
  outside = await openZetetic(server.app.databaseFile, sqlcipher.OPEN_READWRITE);
  await exec(outside, `PRAGMA key = "x'${server.databaseKeyHex}'";`);
  await exec(outside, `PRAGMA cipher_page_size = ${CIPHER_PAGE_SIZE};`);
  await exec(outside, 'PRAGMA busy_timeout = 5000;');
});

afterAll(async () => {
  await server?.dispose();
  if (outside) await closeZetetic(outside);
});

describe('fail closed', () => {
  it('an append fails with 503 and stores nothing; then works again', async () => {
    const before = server.app.store.stats('acme').total_events;
    await hideTrail(true);
    try {
      const single = await api(server.url, '/api/v1/events', {
        json: { event_type: 'lost', entity_id: 'e-2', payload: {} },
        headers: acme,
      });
      expect(single.status, single.text).toBe(503);
      expect(single.body.error).toBe('audit_unavailable');
      const batch = await api(server.url, '/api/v1/events/batch', {
        json: { events: [{ event_type: 'lost', entity_id: 'e-3', payload: {} }] },
        headers: acme,
      });
      expect(batch.status).toBe(503);
      expect(server.app.store.stats('acme').total_events).toBe(before);
    } finally {
      await hideTrail(false);
    }
    const again = await api(server.url, '/api/v1/events', {
      json: { event_type: 'kept', entity_id: 'e-2', payload: {} },
      headers: acme,
    });
    expect(again.status, again.text).toBe(201);
    expect(server.app.store.stats('acme').total_events).toBe(before + 1);
  });

  it('a WebSocket subscription is refused (503) before the socket opens', async () => {
    await hideTrail(true);
    try {
      const status = await upgradeStatus(server.url, acme);
      expect(status).toBe(503);
    } finally {
      await hideTrail(false);
    }
  });

  it('a read sends no data, a decrypt no plaintext', async () => {
    const encrypted = await api(server.url, '/api/v1/kms/keys/k/encrypt', {
      json: { plaintext: b64('hidden words') },
      headers: acme,
    });
    await hideTrail(true);
    try {
      const query = await api(server.url, '/api/v1/events/query', { headers: acme });
      expect(query.status).toBe(503);
      expect(query.text).not.toContain('"events"');
      const decrypt = await api(server.url, '/api/v1/kms/keys/k/decrypt', {
        json: { ciphertext: encrypted.body.ciphertext },
        headers: acme,
      });
      expect(decrypt.status).toBe(503);
      expect(decrypt.text).not.toContain(b64('hidden words'));
    } finally {
      await hideTrail(false);
    }
  });

  it('a synchronous write (a KMS key) and one after argon2 (a user) are undone', async () => {
    await hideTrail(true);
    try {
      const key = await api(server.url, '/api/v1/kms/keys', { json: { name: 'never' }, headers: acme });
      expect(key.status).toBe(503);
      const user = await api(server.url, '/api/v1/auth/register', {
        json: { username: 'fc-never', email: 'n@example.test', password: strongPassword() },
        headers: acme,
      });
      expect(user.status).toBe(503);
      const denied = await api(server.url, '/api/v1/stats', { headers: acme });
      expect(denied.status).toBe(503);
    } finally {
      await hideTrail(false);
    }
    expect((await api(server.url, '/api/v1/kms/keys/never', { headers: acme })).status).toBe(404);
    const users = await api(server.url, '/api/v1/auth/users', { headers: acme });
    expect(users.body.users.map((user: { username: string }) => user.username)).not.toContain('fc-never');
    expect((await api(server.url, '/health')).status).toBe(200);
    expect((await api(server.url, '/api/v1/audit/verify', { headers: acme })).body.valid).toBe(true);
  });
});
