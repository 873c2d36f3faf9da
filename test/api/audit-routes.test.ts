import { verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointMessage } from '../../src/server/audit/index.js';
import { publicKeyOf } from '../../src/server/kms/index.js';
import { bearer, createTenant, createUser, type Headers } from '../support/identity.js';
import { api, startServer, type TestServer } from '../support/server.js';

/**
 * Issue 6, item 4: the audit routes. Filters and pages, streamed NDJSON and CSV (formula cells
 * defused), applications' own events, signed checkpoints, read_audit, tenant isolation, and
 * 4xx JSON for every kind of bad input with the server still up.
 */

let server: TestServer;
let acme: Headers;
let globex: Headers;
let acmeDev: Headers;

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'acme');
  await createTenant(server.url, 'globex');
  acme = bearer((await createUser(server.url, { username: 'ar-ann', tenant_id: 'acme', role: 'admin' })).token);
  globex = bearer((await createUser(server.url, { username: 'ar-gus', tenant_id: 'globex', role: 'admin' })).token);
  acmeDev = bearer((await createUser(server.url, { username: 'ar-dev', tenant_id: 'acme', role: 'developer' })).token);
  for (let i = 0; i < 5; i++) {
    await api(server.url, '/api/v1/events', {
      json: { event_type: 'tick', entity_id: `e-${i}`, payload: { i } },
      headers: acme,
    });
  }
  await api(server.url, '/api/v1/audit/events', {
    json: { action: 'formula_test', resource: '=HYPERLINK("http://evil.test")', metadata: { note: '+1' } },
    headers: acme,
  });
});

afterAll(async () => {
  await server?.dispose();
});

describe('GET /api/v1/audit/events', () => {
  it('filters by action, outcome and actor, newest first, with total and has_more', async () => {
    const res = await api(server.url, '/api/v1/audit/events?action=ingest_event&limit=2', { headers: acme });
    expect(res.status, res.text).toBe(200);
    expect(res.body.total).toBe(5);
    expect(res.body.events).toHaveLength(2);
    expect(res.body.has_more).toBe(true);
    expect(res.body.events[0].seq).toBeGreaterThan(res.body.events[1].seq);
    const page3 = await api(server.url, '/api/v1/audit/events?action=ingest_event&limit=2&offset=4', { headers: acme });
    expect(page3.body).toMatchObject({ total: 5, has_more: false });
    expect(page3.body.events).toHaveLength(1);
    const byActor = await api(server.url, '/api/v1/audit/events?actor=ar-ann&outcome=success&limit=1000', {
      headers: acme,
    });
    expect(byActor.body.events.every((r: any) => r.actor.name === 'ar-ann' && r.outcome === 'success')).toBe(true);
  });

  it('filters by time', async () => {
    const future = await api(server.url, '/api/v1/audit/events?since=2999-01-01T00:00:00Z', { headers: acme });
    expect(future.body).toMatchObject({ total: 0, events: [] });
    const past = await api(server.url, '/api/v1/audit/events?until=2000-01-01T00:00:00Z', { headers: acme });
    expect(past.body.total).toBe(0);
    const all = await api(server.url, '/api/v1/audit/events?since=2000-01-01T00:00:00Z', { headers: acme });
    expect(all.body.total).toBeGreaterThan(5);
  });

  it('shows only the caller’s tenant', async () => {
    const res = await api(server.url, '/api/v1/audit/events?limit=1000', { headers: globex });
    expect(res.body.events.length).toBeGreaterThan(0);
    expect(res.body.events.every((r: any) => r.tenant_id === 'globex')).toBe(true);
    expect(JSON.stringify(res.body)).not.toContain('ar-ann');
    const foreign = await api(server.url, '/api/v1/audit/events?tenant_id=acme', { headers: globex });
    expect(foreign.status).toBe(403);
    const exported = await api(server.url, '/api/v1/audit/export', { headers: globex });
    const lines = exported.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.every((record) => record.tenant_id === 'globex')).toBe(true);
    expect(exported.text).not.toContain('ar-ann');
  });

  it('needs read_audit (a developer lacks it), and that refusal is itself recorded', async () => {
    const res = await api(server.url, '/api/v1/audit/events', { headers: acmeDev });
    expect(res.status).toBe(403);
    expect(res.body.required_permission).toBe('read_audit');
    const denied = server.app.audit.query('acme', { action: 'permission_denied' }, { limit: 1, offset: 0 }).events[0];
    expect(denied?.metadata).toMatchObject({ required_permission: 'read_audit', attempted_action: 'query_audit' });
  });
});

describe('POST /api/v1/audit/events', () => {
  it('records an application event under the caller, never as a server action', async () => {
    const res = await api(server.url, '/api/v1/audit/events', {
      json: { action: 'document_signed', outcome: 'partial_success', metadata: { pages: 3 } },
      headers: acmeDev,
    });
    expect(res.status, res.text).toBe(201);
    const [record] = server.app.audit.query('acme', { action: 'audit_event' }, { limit: 1, offset: 0 }).events;
    expect(record).toMatchObject({
      outcome: 'partial_success',
      actor: { name: 'ar-dev' },
      metadata: { application_action: 'document_signed', details: { pages: 3 } },
    });
  });
});

describe('GET /api/v1/audit/export', () => {
  it('streams NDJSON, one chained record a line, oldest first', async () => {
    const res = await api(server.url, '/api/v1/audit/export?format=ndjson', { headers: acme });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = res.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThan(5);
    lines.forEach((record, i) => {
      expect(record.seq).toBe(i + 1);
      if (i > 0) expect(record.prev_hash).toBe(lines[i - 1].hash);
    });
  });

  it('streams CSV with formula cells defused', async () => {
    const res = await api(server.url, '/api/v1/audit/export?format=csv&action=audit_event', { headers: acme });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const [header, ...rows] = res.text.trim().split('\r\n');
    expect(header!.startsWith('seq,id,tenant_id')).toBe(true);
    expect(rows.length).toBeGreaterThan(0);
    expect(res.text).toContain(`"'=HYPERLINK(""http://evil.test"")"`);
    expect(res.text).not.toMatch(/(^|,)"=/m);
  });
});

describe('checkpoints', () => {
  it('lists signed checkpoints that verify with the published key', async () => {
    server.app.audit.checkpointNow();
    const res = await api(server.url, '/api/v1/audit/checkpoints', { headers: acme });
    expect(res.status).toBe(200);
    expect(res.body.total).toBeGreaterThan(0);
    const [checkpoint] = res.body.checkpoints;
    const key = res.body.public_keys.find((k: any) => k.key_id === checkpoint.key_id);
    const { signature, ...unsigned } = checkpoint;
    expect(
      verify(null, checkpointMessage(unsigned), publicKeyOf(key.public_key), Buffer.from(signature, 'base64')),
    ).toBe(true);
    expect(checkpoint.tenant_id).toBe('acme');
  });
});

describe('bad input: 4xx JSON, and the server stays up', () => {
  it.each([
    ['GET', '/audit/events?limit=0'],
    ['GET', '/audit/events?limit=abc'],
    ['GET', '/audit/events?limit=1001'],
    ['GET', '/audit/events?offset=-1'],
    ['GET', '/audit/events?outcome=maybe'],
    ['GET', '/audit/events?action=Not-Snake'],
    ['GET', '/audit/events?action=a&action=b'],
    ['GET', '/audit/events?actor='],
    ['GET', '/audit/events?since=yesterday'],
    ['GET', '/audit/events?until=2024-02-30T00:00:00Z'],
    ['GET', '/audit/export?format=xml'],
    ['GET', '/audit/export?since=soon'],
    ['GET', '/audit/checkpoints?limit=-5'],
    ['POST', '/audit/events', {}],
    ['POST', '/audit/events', { action: 'Bad Action' }],
    ['POST', '/audit/events', { action: 'x'.repeat(65) }],
    ['POST', '/audit/events', { action: 'ok', outcome: 'meh' }],
    ['POST', '/audit/events', { action: 'ok', actor: { type: 'system' } }],
    ['POST', '/audit/events', { action: 'ok', tenant_id: 'acme' }],
    ['POST', '/audit/events', { action: 'ok', metadata: [1, 2] }],
    ['POST', '/audit/events', { action: 'ok', metadata: { big: 'x'.repeat(9000) } }],
    ['POST', '/audit/events', { action: 'ok', resource: '' }],
    ['POST', '/audit/events', 'not json'],
    ['POST', '/audit/events', { action: 'ok', tenant_id: 'globex' }],
  ])('%s %s', async (method, path, body?: unknown) => {
    const res = await api(server.url, `/api/v1${path}`, {
      method,
      headers: { ...acme, ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}) },
      ...(typeof body === 'string' ? { body } : body === undefined ? {} : { json: body }),
    });
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(typeof res.body.error).toBe('string');
    expect((await api(server.url, '/health')).status).toBe(200);
  });
});
