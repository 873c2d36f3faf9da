import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditRecord } from '../../src/server/audit/index.js';
import { exactlyOne } from '../support/audit.js';
import {
  bearer,
  createKey,
  createTenant,
  createUser,
  strongPassword,
  xApiKey,
  type Headers,
  type TestUser,
} from '../support/identity.js';
import { api, startServer, type TestServer } from '../support/server.js';
import { all, closeZetetic, openWithKey } from '../support/zetetic.js';

/**
 * Issue 6, item 1: every audited action leaves exactly one record, with its actor, outcome and
 * resource; and no password, key, token, plaintext or passphrase appears in any record.
 */

let server: TestServer;
let ann: TestUser;
let acme: Headers;
let acmeDev: Headers;
let acmeKey: { id: string; key: string };
const secrets: string[] = [];
const b64 = (text: string) => Buffer.from(text).toString('base64');

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'acme', 'Acme');
  await createTenant(server.url, 'globex', 'Globex');
  ann = await createUser(server.url, { username: 'aud-ann', tenant_id: 'acme', role: 'admin' });
  acme = bearer(ann.token);
  const dev = await createUser(server.url, { username: 'aud-dev', tenant_id: 'acme', role: 'developer' });
  acmeDev = bearer(dev.token);
  acmeKey = await createKey(server.url, acme, { name: 'aud-service', role: 'admin' });
  secrets.push(ann.password, ann.token, dev.password, dev.token, acmeKey.key, server.apiKey);
  await api(server.url, '/api/v1/kms/keys', { json: { name: 'orders' }, headers: acme });
  await api(server.url, '/api/v1/events', {
    json: { event_type: 'order.placed', entity_id: 'order-1', payload: { total: 1 } },
    headers: acme,
  });
});

afterAll(async () => {
  await server?.dispose();
});

interface Case {
  name: string;
  action: string;
  outcome?: AuditRecord['outcome'];
  tenant?: string;
  status: number;
  /** Requests the case needs first (they leave their own records, not counted). */
  setup?: () => Promise<void>;
  run: () => Promise<{ status: number; text: string; body: any }>;
  check?: (record: AuditRecord, body: any) => void;
}

const call = (method: string, path: string, headers: Headers, json?: unknown) =>
  api(server.url, `/api/v1${path}`, { method, headers, ...(json === undefined ? {} : { json }) });

let newKeyId = '';
let ciphertext = '';
let userId = '';
let ipRuleId = '';
let other: TestUser;
let eventId = '';
let nextPassword = '';

const cases: Case[] = [
  {
    name: 'a successful login, as the user, in its tenant',
    action: 'login',
    status: 200,
    run: () =>
      api(server.url, '/api/v1/auth/login', { json: { username: 'aud-ann', password: ann.password }, anonymous: true }),
    check: (record, body) => {
      secrets.push(body.token);
      expect(record.actor).toMatchObject({ type: 'user', id: ann.id, name: 'aud-ann' });
    },
  },
  {
    name: 'a wrong password, anonymously, in the platform tenant',
    action: 'login',
    outcome: 'failure',
    tenant: 'default',
    status: 401,
    run: () => {
      secrets.push('not-the-password-of-ann');
      return api(server.url, '/api/v1/auth/login', {
        json: { username: 'aud-ann', password: 'not-the-password-of-ann' },
        anonymous: true,
      });
    },
    check: (record) => {
      expect(record.actor.type).toBe('anonymous');
      expect(record.actor.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(record.metadata['username']).toBe('aud-ann');
    },
  },
  {
    name: 'an unknown user',
    action: 'login',
    outcome: 'failure',
    tenant: 'default',
    status: 401,
    run: () =>
      api(server.url, '/api/v1/auth/login', { json: { username: 'nobody', password: 'whatever-1' }, anonymous: true }),
  },
  {
    name: 'logout',
    action: 'logout',
    status: 200,
    setup: async () => {
      other = await createUser(server.url, { username: 'aud-leaver', tenant_id: 'acme', role: 'readonly' });
      secrets.push(other.password, other.token);
    },
    run: () => call('POST', '/auth/logout', bearer(other.token)),
  },
  {
    name: 'password change',
    action: 'password_change',
    status: 200,
    setup: async () => {
      other = await createUser(server.url, { username: 'aud-pw', tenant_id: 'acme', role: 'readonly' });
      nextPassword = strongPassword();
      secrets.push(other.password, other.token, nextPassword);
    },
    run: () =>
      call('PUT', '/auth/password', bearer(other.token), {
        current_password: other.password,
        new_password: nextPassword,
      }),
  },
  {
    name: 'API key created',
    action: 'api_key_created',
    status: 201,
    run: () => call('POST', '/auth/api-keys', acme, { name: 'aud-new', role: 'readonly' }),
    check: (record, body) => {
      newKeyId = body.id;
      secrets.push(body.key);
      expect(record.resource).toBe(body.id);
    },
  },
  {
    name: 'API key revoked',
    action: 'api_key_revoked',
    status: 200,
    run: () => call('DELETE', `/auth/api-keys/${newKeyId}`, acme),
    check: (record) => expect(record.resource).toBe(newKeyId),
  },
  {
    name: 'a request with an API key: its actor is the key',
    action: 'read_stats',
    status: 200,
    run: () => call('GET', '/stats', xApiKey(acmeKey.key)),
    check: (record) => expect(record.actor).toMatchObject({ type: 'api_key', id: acmeKey.id, name: 'aud-service' }),
  },
  {
    name: 'permission denied',
    action: 'permission_denied',
    outcome: 'failure',
    status: 403,
    run: () => call('POST', '/kms/keys', acmeDev, { name: 'nope' }),
    check: (record) => {
      expect(record.metadata).toMatchObject({ required_permission: 'manage_keys', attempted_action: 'kms_create_key' });
    },
  },
  {
    name: 'cross-tenant attempt',
    action: 'cross_tenant_attempt',
    outcome: 'failure',
    status: 403,
    run: () => call('GET', '/events/query?tenant_id=globex', acme),
    check: (record) => expect(record.metadata['named_tenant']).toBe('globex'),
  },
  {
    name: 'create user',
    action: 'create_user',
    status: 201,
    run: () => {
      const password = strongPassword();
      secrets.push(password);
      return call('POST', '/auth/register', acme, {
        username: 'aud-new-user',
        email: 'n@example.test',
        password,
        role: 'readonly',
      });
    },
    check: (record, body) => {
      userId = body.id;
      expect(record.resource).toBe(body.id);
    },
  },
  {
    name: 'role change',
    action: 'change_permissions',
    status: 200,
    run: () => call('PUT', `/auth/users/${userId}/role`, acme, { role: 'developer' }),
    check: (record) => expect(record.metadata['role']).toBe('developer'),
  },
  { name: 'delete user', action: 'delete_user', status: 200, run: () => call('DELETE', `/auth/users/${userId}`, acme) },
  {
    name: 'ingest one event',
    action: 'ingest_event',
    status: 201,
    run: () =>
      call('POST', '/events', acme, { event_type: 'order.paid', entity_id: 'order-1', payload: { secret_note: 'x' } }),
    check: (record) => expect(record.metadata).toMatchObject({ count: 1, ingested: 1, event_types: ['order.paid'] }),
  },
  {
    name: 'ingest a batch: one record for the request',
    action: 'ingest_event',
    status: 201,
    run: () =>
      call('POST', '/events/batch', acme, {
        events: [
          { event_type: 'order.placed', entity_id: 'order-2', payload: {} },
          { event_type: 'order.placed', entity_id: 'order-3', payload: {} },
          { event_type: 'order.shipped', entity_id: 'order-2', payload: {} },
        ],
      }),
    check: (record) => expect(record.metadata).toMatchObject({ count: 3, batch: true }),
  },
  {
    name: 'a refused append',
    action: 'ingest_event',
    outcome: 'failure',
    status: 409,
    run: () =>
      call('POST', '/events', acme, {
        event_type: 'order.paid',
        entity_id: 'order-1',
        payload: {},
        expected_version: 1,
      }),
    check: (record) => expect(record.metadata['error']).toBe('version_conflict'),
  },
  {
    name: 'query events, with the count returned',
    action: 'query_events',
    status: 200,
    run: () => call('GET', '/events/query?event_type=order.placed&limit=10', acme),
    check: (record, body) => {
      expect(record.metadata['count']).toBe(body.count);
      expect(record.metadata['filters']).toMatchObject({ event_type: 'order.placed', limit: '10' });
    },
  },
  {
    name: 'read one event',
    action: 'read_event',
    status: 200,
    setup: async () => {
      eventId = (await call('GET', '/events/query?limit=1', acme)).body.events[0].id;
    },
    run: () => call('GET', `/events/${eventId}`, acme),
  },
  {
    name: 'entity state',
    action: 'read_entity_state',
    status: 200,
    run: () => call('GET', '/entities/order-1/state', acme),
  },
  {
    name: 'subscribe',
    action: 'subscribe',
    status: 200,
    run: async () => {
      const controller = new AbortController();
      const response = await fetch(`${server.url}/api/v1/events/subscribe`, {
        headers: acme,
        signal: controller.signal,
      });
      controller.abort();
      return { status: response.status, text: '', body: undefined };
    },
  },
  { name: 'list streams', action: 'list_streams', status: 200, run: () => call('GET', '/streams', acme) },
  { name: 'list event types', action: 'list_event_types', status: 200, run: () => call('GET', '/event-types', acme) },
  { name: 'me', action: 'read_profile', status: 200, run: () => call('GET', '/auth/me', acme) },
  { name: 'list users', action: 'list_users', status: 200, run: () => call('GET', '/auth/users', acme) },
  { name: 'list keys', action: 'list_api_keys', status: 200, run: () => call('GET', '/auth/api-keys', acme) },
  {
    name: 'create tenant (platform admin, recorded in its tenant)',
    action: 'create_tenant',
    tenant: 'default',
    status: 201,
    run: () => call('POST', '/tenants', {}, { tenant_id: 'aud-tmp', name: 'Temp' }),
    check: (record) => expect(record.resource).toBe('aud-tmp'),
  },
  {
    name: 'list tenants',
    action: 'list_tenants',
    tenant: 'default',
    status: 200,
    run: () => call('GET', '/tenants', {}),
  },
  {
    name: 'read tenant',
    action: 'read_tenant',
    tenant: 'default',
    status: 200,
    run: () => call('GET', '/tenants/aud-tmp', {}),
  },
  {
    name: 'modify tenant',
    action: 'modify_tenant',
    tenant: 'default',
    status: 200,
    run: () => call('PUT', '/tenants/aud-tmp', {}, { name: 'Renamed' }),
  },
  {
    name: 'suspend tenant',
    action: 'suspend_tenant',
    tenant: 'default',
    status: 200,
    run: () => call('POST', '/tenants/aud-tmp/deactivate', {}),
  },
  {
    name: 'activate tenant',
    action: 'activate_tenant',
    tenant: 'default',
    status: 200,
    run: () => call('POST', '/tenants/aud-tmp/activate', {}),
  },
  {
    name: 'delete tenant',
    action: 'delete_tenant',
    tenant: 'default',
    status: 200,
    run: () => call('DELETE', '/tenants/aud-tmp', {}),
  },
  {
    name: 'update security settings',
    action: 'update_security_settings',
    tenant: 'default',
    status: 200,
    run: () => call('PUT', '/security/settings', {}, { rate_limits_enabled: true }),
  },
  {
    name: 'read security settings',
    action: 'read_security_settings',
    tenant: 'default',
    status: 200,
    run: () => call('GET', '/security/settings', {}),
  },
  {
    name: 'update rate limits',
    action: 'update_rate_limits',
    tenant: 'default',
    status: 200,
    run: () => call('PUT', '/security/rate-limits/globex', {}, { tier: 'professional' }),
  },
  {
    name: 'read rate limits',
    action: 'read_rate_limits',
    status: 200,
    run: () => call('GET', '/security/rate-limits', acme),
  },
  {
    name: 'add IP rule',
    action: 'add_ip_rule',
    status: 201,
    run: () => call('POST', '/security/ip-rules', acme, { scope: 'tenant', list: 'block', cidr: '203.0.113.0/24' }),
    check: (record, body) => {
      ipRuleId = body.id;
      expect(record.resource).toBe(body.id);
    },
  },
  { name: 'list IP rules', action: 'list_ip_rules', status: 200, run: () => call('GET', '/security/ip-rules', acme) },
  {
    name: 'list anomaly findings',
    action: 'list_anomalies',
    status: 200,
    run: () => call('GET', '/security/anomalies', acme),
  },
  {
    name: 'read an unknown finding (a failure, still one record)',
    action: 'read_anomaly',
    outcome: 'failure',
    status: 404,
    run: () => call('GET', '/security/anomalies/no-such-finding', acme),
  },
  {
    name: 'list enforcement actions',
    action: 'list_anomaly_actions',
    status: 200,
    run: () => call('GET', '/security/anomalies/actions', acme),
  },
  {
    name: 'remove IP rule',
    action: 'remove_ip_rule',
    status: 200,
    run: () => call('DELETE', `/security/ip-rules/${ipRuleId}`, acme),
  },
  {
    name: 'KMS create key',
    action: 'kms_create_key',
    status: 201,
    run: () => call('POST', '/kms/keys', acme, { name: 'aud-key' }),
  },
  { name: 'KMS list keys', action: 'kms_list_keys', status: 200, run: () => call('GET', '/kms/keys', acme) },
  { name: 'KMS read key', action: 'kms_read_key', status: 200, run: () => call('GET', '/kms/keys/aud-key', acme) },
  {
    name: 'KMS rotate',
    action: 'kms_rotate',
    status: 200,
    run: () => call('POST', '/kms/keys/aud-key/rotate', acme, {}),
  },
  {
    name: 'KMS encrypt',
    action: 'kms_encrypt',
    status: 200,
    run: () => {
      secrets.push('top secret plaintext', b64('top secret plaintext'));
      return call('POST', '/kms/keys/aud-key/encrypt', acme, { plaintext: b64('top secret plaintext') });
    },
    check: (record, body) => {
      ciphertext = body.ciphertext;
      secrets.push(body.ciphertext);
      expect(record.resource).toBe('aud-key');
    },
  },
  {
    name: 'KMS decrypt',
    action: 'kms_decrypt',
    status: 200,
    run: () => call('POST', '/kms/keys/aud-key/decrypt', acme, { ciphertext }),
  },
  {
    name: 'KMS rewrap',
    action: 'kms_rewrap',
    status: 200,
    run: () => call('POST', '/kms/keys/aud-key/rewrap', acme, { ciphertext }),
    check: (_record, body) => secrets.push(body.ciphertext),
  },
  {
    name: 'KMS data key',
    action: 'kms_datakey',
    status: 200,
    run: () => call('POST', '/kms/keys/aud-key/datakey', acme, {}),
    check: (_record, body) => secrets.push(body.plaintext, body.ciphertext),
  },
  {
    name: 'KMS configure',
    action: 'kms_configure_key',
    status: 200,
    run: () => call('PUT', '/kms/keys/aud-key/config', acme, { min_decryption_version: 1 }),
  },
  {
    name: 'KMS disable',
    action: 'kms_disable_key',
    status: 200,
    run: () => call('POST', '/kms/keys/aud-key/disable', acme, {}),
  },
  {
    name: 'KMS enable',
    action: 'kms_enable_key',
    status: 200,
    run: () => call('POST', '/kms/keys/aud-key/enable', acme, {}),
  },
  {
    name: 'KMS destroy',
    action: 'kms_destroy_key',
    status: 200,
    setup: async () => void (await call('POST', '/kms/keys/aud-key/disable', acme, {})),
    run: () => call('DELETE', '/kms/keys/aud-key', acme, { confirm: 'aud-key' }),
  },
  {
    name: 'field policy put',
    action: 'put_encryption_policy',
    status: 201,
    run: () => call('PUT', '/encryption/policies/user.created', acme, { fields: ['/email'] }),
  },
  {
    name: 'field policies list',
    action: 'list_encryption_policies',
    status: 200,
    run: () => call('GET', '/encryption/policies', acme),
  },
  {
    name: 'field policy read',
    action: 'read_encryption_policy',
    status: 200,
    run: () => call('GET', '/encryption/policies/user.created', acme),
  },
  {
    name: 'rewrap start',
    action: 'start_rewrap',
    status: 202,
    run: () => call('POST', '/encryption/rewrap', acme, {}),
  },
  {
    name: 'rewrap status',
    action: 'read_rewrap_status',
    status: 200,
    run: () => call('GET', '/encryption/rewrap', acme),
  },
  {
    name: 'forget subject',
    action: 'forget_subject',
    status: 200,
    run: () => call('POST', '/subjects/user-1/forget', acme, {}),
  },
  {
    name: 'field policy delete',
    action: 'delete_encryption_policy',
    status: 200,
    run: () => call('DELETE', '/encryption/policies/user.created', acme),
  },
  {
    name: "an application's own event",
    action: 'audit_event',
    status: 201,
    run: () =>
      call('POST', '/audit/events', acme, {
        action: 'invoice_approved',
        resource: 'invoice-7',
        metadata: { amount: 12 },
      }),
    check: (record) => {
      expect(record.metadata).toEqual({ application_action: 'invoice_approved', details: { amount: 12 } });
      expect(record.resource).toBe('invoice-7');
      expect(record.actor.id).toBe(ann.id);
    },
  },
  {
    name: 'query the trail',
    action: 'query_audit',
    status: 200,
    run: () => call('GET', '/audit/events?limit=5', acme),
  },
  { name: 'export the trail', action: 'export_audit', status: 200, run: () => call('GET', '/audit/export', acme) },
  { name: 'verify the trail', action: 'verify_audit', status: 200, run: () => call('GET', '/audit/verify', acme) },
  {
    name: 'list checkpoints',
    action: 'read_audit_checkpoints',
    status: 200,
    run: () => call('GET', '/audit/checkpoints', acme),
  },
];

describe('every audited action leaves exactly one record', () => {
  it.each(cases)('$name → $action', async (testCase) => {
    let response: Awaited<ReturnType<Case['run']>> | undefined;
    await testCase.setup?.();
    const record = await exactlyOne(server, async () => {
      response = await testCase.run();
    });
    expect(response!.status, response!.text).toBe(testCase.status);
    expect(record).toMatchObject({
      action: testCase.action,
      outcome: testCase.outcome ?? 'success',
      tenant_id: testCase.tenant ?? 'acme',
    });
    expect(record.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(new Date(record.timestamp).toISOString()).toBe(record.timestamp);
    testCase.check?.(record, response!.body);
  });
});

describe('WebSocket subscriptions', () => {
  it('leave one subscribe record each, with the actor, before the socket opens', async () => {
    let ws: WebSocket | undefined;
    const record = await exactlyOne(server, async () => {
      ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/events/stream`, { headers: acme });
      await new Promise((resolve, reject) => {
        ws!.once('open', resolve);
        ws!.once('error', reject);
      });
    });
    ws?.close();
    expect(record).toMatchObject({
      tenant_id: 'acme',
      action: 'subscribe',
      outcome: 'success',
      actor: { type: 'user', id: ann.id, name: 'aud-ann' },
      metadata: { transport: 'websocket' },
    });
  });
});

describe('records', () => {
  it('carry the request id the response carried', async () => {
    const response = await api(server.url, '/api/v1/stats', { headers: { ...acme, 'x-request-id': 'trace-42' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    const [record] = server.app.audit.query('acme', { action: 'read_stats' }, { limit: 1, offset: 0 }).events;
    expect(record!.request_id).toBe('trace-42');
  });

  it('hold no password, API key, token, plaintext or ciphertext (all rows searched as text)', async () => {
    const db = await openWithKey(server.app.databaseFile, server.databaseKeyHex);
    try {
      const rows = await all<Record<string, unknown>>(db, 'SELECT * FROM audit_log');
      expect(rows.length).toBeGreaterThan(cases.length);
      const text = JSON.stringify(rows);
      const checked = secrets.filter((secret) => typeof secret === 'string' && secret.length >= 8);
      expect(checked.length).toBeGreaterThan(15);
      for (const secret of checked) expect(text.includes(secret), 'a secret is in the audit log').toBe(false);
    } finally {
      await closeZetetic(db);
    }
  });
});
