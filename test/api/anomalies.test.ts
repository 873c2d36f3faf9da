import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createTenant, createUser, xApiKey, type TestUser } from '../support/identity.js';
import { openSse } from '../support/sse.js';
import { api, startServer, type TestServer } from '../support/server.js';

/**
 * Anomaly detection end to end (issue 6, item 5): real requests leave audit records, the
 * detectors judge them, findings appear at /api/v1/security/anomalies and on its SSE stream.
 */

async function failLogins(base: string, username: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const res = await api(base, '/api/v1/auth/login', {
      json: { username, password: `wrong password number ${i}` },
      anonymous: true,
    });
    expect(res.status).toBe(401);
  }
}

describe('anomaly detection over HTTP (enforcement off, the default)', () => {
  let server: TestServer;
  let acmeAdmin: TestUser;
  beforeAll(async () => {
    server = await startServer();
    await createTenant(server.url, 'acme');
    acmeAdmin = await createUser(server.url, { username: 'acme-admin', tenant_id: 'acme', role: 'admin' });
  });
  afterAll(() => server.dispose());

  it('real failed logins raise a brute-force finding, listed and pushed over SSE', async () => {
    const stream = await openSse(`${server.url}/api/v1/security/anomalies/stream`);
    expect(stream.status).toBe(200);
    await failLogins(server.url, 'nobody-here', 5);
    const [pushed] = await stream.waitFor(1, 10_000);
    stream.close();
    const anomaly = JSON.parse(pushed!.data);
    expect(anomaly).toMatchObject({ detector: 'brute_force', score: 0.7, tenant_id: 'default' });

    const res = await api(server.url, '/api/v1/security/anomalies?detector=brute_force');
    expect(res.status).toBe(200);
    const ids = res.body.anomalies.map((a: { id: string }) => a.id);
    expect(ids).toContain(anomaly.id);
    const listed = res.body.anomalies.find((a: { id: string }) => a.id === anomaly.id);
    for (const field of ['id', 'detector', 'score', 'recommended_action', 'actor', 'evidence', 'created_at']) {
      expect(listed).toHaveProperty(field);
    }
    // Loopback: Block is recommended for the address, but enforcement is off, so nothing acted.
    expect(res.body.anomalies.map((a: { recommended_action: string }) => a.recommended_action).sort()).toEqual([
      'Block',
      'RequireMFA',
    ]);
    expect(listed.enforcement).toBeNull();
    expect(JSON.stringify(res.body)).not.toContain('wrong password');
    // The server still answers: loopback is never blocked.
    expect((await api(server.url, '/api/v1/auth/me')).status).toBe(200);
  });

  it('resolves a finding once (admin), and filters by status', async () => {
    const list = await api(server.url, '/api/v1/security/anomalies?status=open&limit=1');
    const id = list.body.anomalies[0].id as string;
    const resolved = await api(server.url, `/api/v1/security/anomalies/${id}/resolve`, { json: { note: 'a test' } });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ id, status: 'resolved' });
    expect((await api(server.url, `/api/v1/security/anomalies/${id}/resolve`, { json: {} })).status).toBe(409);
    const open = await api(server.url, '/api/v1/security/anomalies?status=resolved');
    expect(open.body.anomalies.map((a: { id: string }) => a.id)).toEqual([id]);
  });

  it('is tenant-isolated: another tenant’s admin sees none of it, and cannot touch it', async () => {
    const mine = await api(server.url, '/api/v1/security/anomalies');
    const id = mine.body.anomalies[0].id as string;
    const as = { authorization: `Bearer ${acmeAdmin.token}` };
    const theirs = await api(server.url, '/api/v1/security/anomalies', { headers: as });
    expect(theirs.status).toBe(200);
    expect(theirs.body).toMatchObject({ anomalies: [], total: 0 });
    expect((await api(server.url, `/api/v1/security/anomalies/${id}`, { headers: as })).status).toBe(404);
    expect((await api(server.url, `/api/v1/security/anomalies/${id}/resolve`, { headers: as, json: {} })).status).toBe(
      404,
    );
    expect((await api(server.url, '/api/v1/security/anomalies?tenant_id=default', { headers: as })).status).toBe(403);
  });

  it('needs read_audit to read and admin to change', async () => {
    const reader = await createKey(server.url, {}, { name: 'reader', role: 'readonly' });
    const res = await api(server.url, '/api/v1/security/anomalies', { headers: xApiKey(reader.key) });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'forbidden', required_permission: 'read_audit' });
    expect((await api(server.url, '/api/v1/security/anomalies', { anonymous: true })).status).toBe(401);
    expect((await api(server.url, '/api/v1/security/anomalies/stream', { anonymous: true })).status).toBe(401);
  });

  it('answers bad input on every route with a 4xx JSON error, and stays up', async () => {
    const bad: Array<[string, RequestInit & { json?: unknown }, number]> = [
      ['/api/v1/security/anomalies?detector=bogus', {}, 400],
      ['/api/v1/security/anomalies?min_score=2', {}, 400],
      ['/api/v1/security/anomalies?min_score=abc', {}, 400],
      ['/api/v1/security/anomalies?since=yesterday', {}, 400],
      ['/api/v1/security/anomalies?until=2026-02-30T00:00:00Z', {}, 400],
      ['/api/v1/security/anomalies?limit=0', {}, 400],
      ['/api/v1/security/anomalies?limit=100000', {}, 400],
      ['/api/v1/security/anomalies?offset=-1', {}, 400],
      ['/api/v1/security/anomalies?status=maybe', {}, 400],
      ['/api/v1/security/anomalies?detector=velocity&detector=brute_force', {}, 400],
      ['/api/v1/security/anomalies/stream?detector=nope', {}, 400],
      ['/api/v1/security/anomalies/actions?limit=x', {}, 400],
      ['/api/v1/security/anomalies/no-such-id', {}, 404],
      [`/api/v1/security/anomalies/${'x'.repeat(5000)}`, {}, 404],
      ['/api/v1/security/anomalies/%E0%A4%A', {}, 400],
      ['/api/v1/security/anomalies/no-such-id/resolve', { method: 'POST', json: {} }, 404],
      ['/api/v1/security/anomalies/no-such-id/resolve', { method: 'POST', json: { note: 42 } }, 400],
      ['/api/v1/security/anomalies/no-such-id/resolve', { method: 'POST', json: { extra: true } }, 400],
      ['/api/v1/security/anomalies/no-such-id/resolve', { method: 'POST', json: [] }, 400],
      [
        '/api/v1/security/anomalies/no-such-id/resolve',
        { method: 'POST', body: '{"note":', headers: { 'content-type': 'application/json' } },
        400,
      ],
      [
        '/api/v1/security/anomalies/no-such-id/resolve',
        { method: 'POST', body: 'note=x', headers: { 'content-type': 'text/plain' } },
        415,
      ],
      ['/api/v1/security/anomalies/actions/no-such-id', { method: 'DELETE' }, 404],
      ['/api/v1/security/anomalies', { method: 'DELETE' }, 404],
    ];
    for (const [path, init, status] of bad) {
      const res = await api(server.url, path, { method: 'GET', ...init });
      expect(res.status, `${init.method ?? 'GET'} ${path.slice(0, 80)}: ${res.text.slice(0, 200)}`).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(typeof res.body.error).toBe('string');
    }
    expect((await api(server.url, '/health', { anonymous: true })).status).toBe(200);
  });
});

describe('anomaly enforcement on (ALLSOURCE_ANOMALY_ENFORCEMENT=true)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { ALLSOURCE_ANOMALY_ENFORCEMENT: 'true' } });
  });
  afterAll(() => server.dispose());

  it('revokes a key that probes admin routes: its next request is 401, the revocation is audited and reversible', async () => {
    const key = await createKey(server.url, {}, { name: 'prober', role: 'readonly' });
    const as = xApiKey(key.key);
    expect((await api(server.url, '/api/v1/stats', { headers: as })).status).toBe(200);
    const probes: Array<[string, RequestInit & { json?: unknown }]> = [
      ['/api/v1/auth/users', {}],
      ['/api/v1/kms/keys', {}],
      ['/api/v1/audit/events', {}],
      ['/api/v1/kms/keys/k/decrypt', { method: 'POST', json: { ciphertext: 'as:v1:AAAA' } }],
      ['/api/v1/auth/api-keys', {}],
    ];
    for (const [path, init] of probes) {
      const res = await api(server.url, path, { ...init, headers: as });
      expect(res.status, path).toBe(403);
    }
    const refused = await api(server.url, '/api/v1/stats', { headers: as });
    expect(refused.status).toBe(401);

    const anomalies = await api(server.url, '/api/v1/security/anomalies?detector=privilege_escalation');
    const revoking = anomalies.body.anomalies.find(
      (a: { recommended_action: string }) => a.recommended_action === 'RevokeAccess',
    );
    expect(revoking).toMatchObject({ actor: { type: 'api_key', id: key.id }, score: 1 });
    expect(revoking.enforcement).toMatchObject({ status: 'applied', kind: 'revoke_api_key', target: key.id });

    const audit = await api(server.url, '/api/v1/audit/events?action=anomaly_revoke_access');
    expect(audit.status).toBe(200);
    expect(audit.body.events).toEqual([
      expect.objectContaining({
        action: 'anomaly_revoke_access',
        resource: key.id,
        actor: expect.objectContaining({ type: 'system' }),
      }),
    ]);

    const actions = await api(server.url, '/api/v1/security/anomalies/actions');
    expect(actions.body.actions[0]).toMatchObject({ kind: 'revoke_api_key', target: key.id, active: true });
    const reversed = await api(server.url, `/api/v1/security/anomalies/actions/${actions.body.actions[0].id}`, {
      method: 'DELETE',
    });
    expect(reversed.status).toBe(200);
    expect(reversed.body).toMatchObject({ active: false });
    expect((await api(server.url, '/api/v1/stats', { headers: as })).status).toBe(200);
    const restored = await api(server.url, '/api/v1/audit/events?action=anomaly_restore_access');
    expect(restored.body.events).toHaveLength(1);
  });

  it('never blocks the loopback address of a local brute force: the server stays reachable', async () => {
    await failLogins(server.url, 'ghost', 6);
    const list = await api(server.url, '/api/v1/security/anomalies?detector=brute_force');
    const block = list.body.anomalies.find((a: { recommended_action: string }) => a.recommended_action === 'Block');
    expect(block.enforcement).toMatchObject({ status: 'skipped' });
    expect((await api(server.url, '/api/v1/auth/me')).status).toBe(200);
  });
});

describe('enforcement Block behind a trusted proxy (a non-loopback client address)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      env: { ALLSOURCE_ANOMALY_ENFORCEMENT: 'true', ALLSOURCE_TRUSTED_PROXIES: '127.0.0.1' },
    });
  });
  afterAll(() => server.dispose());

  it('blocks the guessing address for 15 minutes, leaves everyone else in, and lifts the block on DELETE', async () => {
    const from = { 'x-forwarded-for': '203.0.113.77' };
    for (let i = 0; i < 5; i += 1) {
      const res = await api(server.url, '/api/v1/auth/login', {
        json: { username: 'root', password: `guess ${i}` },
        headers: from,
        anonymous: true,
      });
      expect(res.status).toBe(401);
    }
    const refused = await api(server.url, '/health', { headers: from, anonymous: true });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'ip_blocked', reason: 'temporary_block' });
    expect((await api(server.url, '/health', { headers: { 'x-forwarded-for': '203.0.113.78' } })).status).toBe(200);
    expect((await api(server.url, '/api/v1/auth/me')).status).toBe(200);

    const actions = await api(server.url, '/api/v1/security/anomalies/actions');
    const block = actions.body.actions.find((a: { kind: string }) => a.kind === 'block_ip');
    expect(block).toMatchObject({ target: '203.0.113.77', active: true });
    const minutes = (Date.parse(block.expires_at) - Date.parse(block.created_at)) / 60_000;
    expect(minutes).toBe(15);
    const audit = await api(server.url, '/api/v1/audit/events?action=anomaly_block_ip');
    expect(audit.body.events).toEqual([expect.objectContaining({ resource: '203.0.113.77' })]);

    expect((await api(server.url, `/api/v1/security/anomalies/actions/${block.id}`, { method: 'DELETE' })).status).toBe(
      200,
    );
    expect((await api(server.url, '/health', { headers: from, anonymous: true })).status).toBe(200);
  });
});
