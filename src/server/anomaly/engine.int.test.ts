import { afterEach, describe, expect, it } from 'vitest';
import { createIdentityHarness, principal, type IdentityHarness } from '../identity/testing/harness.js';
import { UnauthorizedError } from '../identity/index.js';
import { parseIp } from '../protection/index.js';
import { AnomalyConflictError } from './errors.js';
import { createEngineHarness, type EngineHarness } from './testing/harness.js';
import { apiKey, DAY, denied, failedLogin, HOUR, MINUTE, query, record, T0, user } from './testing/records.js';

let harnesses: Array<{ close(): void }> = [];
afterEach(() => {
  for (const h of harnesses.reverse()) h.close();
  harnesses = [];
});
function engineHarness(...args: Parameters<typeof createEngineHarness>): EngineHarness {
  const h = createEngineHarness(...args);
  harnesses.push(h);
  return h;
}

const bruteForce = (h: EngineHarness, ip: string, tenant = 'acme', from = T0) =>
  Array.from({ length: 5 }, (_, i) => {
    const r = { ...failedLogin(from + i * 1000, ip, 'ann'), tenant_id: tenant };
    h.setNow(from + i * 1000);
    return h.engine.observe(r);
  }).flat();

describe('the anomaly engine', () => {
  it('stores findings per tenant and lists them with filters and pages; another tenant sees none', () => {
    const h = engineHarness();
    bruteForce(h, '203.0.113.1');
    bruteForce(h, '203.0.113.2', 'globex');
    const acme = h.engine.list('acme', {}, { limit: 10, offset: 0 });
    expect(acme.total).toBe(2);
    expect(acme.anomalies.every((a) => a.tenant_id === 'acme')).toBe(true);
    expect(acme.anomalies[0]).toEqual(
      expect.objectContaining({ detector: 'brute_force', score: 0.7, status: 'open', enforcement: null }),
    );
    expect(h.engine.list('acme', { detector: 'velocity' }, { limit: 10, offset: 0 }).total).toBe(0);
    expect(h.engine.list('acme', { minScore: 0.71 }, { limit: 10, offset: 0 }).total).toBe(0);
    expect(h.engine.list('acme', { since: T0 + DAY }, { limit: 10, offset: 0 }).total).toBe(0);
    expect(h.engine.list('acme', {}, { limit: 1, offset: 0 })).toMatchObject({ total: 2, has_more: true });
    const id = acme.anomalies[0]!.id;
    expect(() => h.engine.get('globex', id)).toThrow(/does not exist/);
    expect(() => h.engine.resolve('globex', id, 'user:x', null)).toThrow(/does not exist/);
  });

  it('folds repeats on one subject within the cooldown, unless the action escalates', () => {
    const h = engineHarness();
    const found = Array.from({ length: 10 }, (_, i) => {
      h.setNow(T0 + i * 1000);
      return h.engine.observe(failedLogin(T0 + i * 1000, '203.0.113.9', `user${i}`));
    }).flat();
    expect(found.map((a) => a.evidence['subject'])).toEqual(['address:203.0.113.9']);
    // After the cooldown the same subject is reported again.
    const later = T0 + 20 * MINUTE;
    const again = Array.from({ length: 5 }, (_, i) =>
      h.engine.observe(failedLogin(later + i, '203.0.113.9', `y${i}`)),
    ).flat();
    expect(again).toHaveLength(1);
  });

  it('resolves a finding once', () => {
    const h = engineHarness();
    const [finding] = bruteForce(h, '203.0.113.1');
    const resolved = h.engine.resolve('acme', finding!.id, 'user:u-ann', 'a pen test');
    expect(resolved).toMatchObject({ status: 'resolved', resolved_by: 'user:u-ann' });
    expect(() => h.engine.resolve('acme', finding!.id, 'user:u-ann', null)).toThrow(AnomalyConflictError);
    expect(h.engine.list('acme', { status: 'open' }, { limit: 10, offset: 0 }).total).toBe(1);
  });

  it('pushes each stored finding to its tenant’s listeners only', () => {
    const h = engineHarness();
    const acme: string[] = [];
    const globex: string[] = [];
    const stop = h.engine.subscribe('acme', (a) => acme.push(a.id));
    h.engine.subscribe('globex', (a) => globex.push(a.id));
    const found = bruteForce(h, '203.0.113.1');
    expect(acme).toEqual(found.map((a) => a.id));
    expect(globex).toEqual([]);
    stop();
    bruteForce(h, '203.0.113.3', 'acme', T0 + HOUR);
    expect(acme).toHaveLength(found.length);
  });

  it('with enforcement off (the default), acts on nothing', () => {
    const h = engineHarness();
    const found = bruteForce(h, '203.0.113.1');
    expect(found[0]!.recommended_action).toBe('Block');
    expect(h.engine.isBlocked(parseIp('203.0.113.1')!)).toBe(false);
    expect(h.system).toEqual([]);
  });

  it('Block: a temporary IP block that expires, is audited, and can be lifted early', () => {
    const h = engineHarness({ enforcement: true, blockMs: 15 * MINUTE });
    const [finding] = bruteForce(h, '::ffff:203.0.113.1');
    expect(finding!.enforcement).toMatchObject({ status: 'applied', kind: 'block_ip', target: '203.0.113.1' });
    expect(h.system[0]).toMatchObject({ tenantId: 'acme', action: 'anomaly_block_ip', resource: '203.0.113.1' });
    const address = parseIp('203.0.113.1')!;
    expect(h.engine.isBlocked(address)).toBe(true);
    expect(h.engine.isBlocked(parseIp('203.0.113.2')!)).toBe(false);
    // A restart keeps the live block.
    h.restart({ enforcement: true });
    expect(h.engine.isBlocked(address)).toBe(true);
    h.setNow(T0 + 16 * MINUTE);
    expect(h.engine.isBlocked(address)).toBe(false);

    h.setNow(T0 + HOUR);
    const [second] = bruteForce(h, '203.0.113.1', 'acme', T0 + HOUR);
    expect(h.engine.isBlocked(address)).toBe(true);
    const actionId = (second!.enforcement as { action_id: string }).action_id;
    expect(() => h.engine.reverseAction('globex', actionId, 'user:x')).toThrow(/does not exist/);
    const reversed = h.engine.reverseAction('acme', actionId, 'user:u-ann');
    expect(reversed).toMatchObject({ kind: 'block_ip', active: false, reversed_by: 'user:u-ann' });
    expect(h.engine.isBlocked(address)).toBe(false);
    expect(h.system.at(-1)).toMatchObject({ action: 'anomaly_unblock_ip' });
    expect(() => h.engine.reverseAction('acme', actionId, 'user:u-ann')).toThrow(AnomalyConflictError);
    expect(h.engine.listActions('acme', { limit: 10, offset: 0 }).total).toBe(2);
  });

  it('never blocks a loopback address: falls back to revoking the acting credential, or to nothing', () => {
    const h = engineHarness({ enforcement: true });
    const [finding] = bruteForce(h, '127.0.0.1');
    expect(finding!.enforcement).toMatchObject({ status: 'skipped' });
    expect((finding!.enforcement as { reason: string }).reason).toMatch(/loopback/);
    expect(h.engine.isBlocked(parseIp('127.0.0.1')!)).toBe(false);
    expect(h.system).toEqual([]);
  });

  it('keeps what it learned across a restart (baselines persisted to SQLite)', () => {
    const h = engineHarness();
    const key = apiKey('k-report');
    for (let hour = 0; hour < 30; hour += 1) {
      for (let i = 0; i < 4; i += 1) h.engine.observe(query(T0 + hour * HOUR + i * 10 * MINUTE, key, 50));
    }
    const engine = h.restart(); // close() flushes the baselines
    const at = T0 + 40 * HOUR;
    h.setNow(at);
    const found = engine.observe(query(at, key, 5000));
    expect(found).toEqual([
      expect.objectContaining({ detector: 'data_exfiltration', recommended_action: 'RevokeAccess' }),
    ]);
  });
});

describe('RevokeAccess against the real identity service', () => {
  let identity: IdentityHarness;
  const setup = async () => {
    identity = createIdentityHarness();
    harnesses.push(identity);
    identity.identity.createTenant({ tenant_id: 'acme', name: 'Acme' });
    const key = await identity.identity.createApiKey(principal('acme', 'admin'), { name: 'ro', role: 'readonly' });
    const h = engineHarness({ enforcement: true }, { access: identity.identity, db: identity.db });
    return { h, key };
  };

  it('revokes the probing key (its next use is refused), audits it, and reinstates it on reversal', async () => {
    const { h, key } = await setup();
    expect((await identity.identity.authenticate(key.key)).subject).toBe(key.id);
    const actor = apiKey(key.id, 'readonly', '127.0.0.1');
    const found = ['admin', 'manage_keys', 'read_audit', 'decrypt', 'admin']
      .map((p, i) => h.engine.observe(denied(T0 + i * 1000, actor, p)))
      .flat();
    const revoking = found.find((a) => a.recommended_action === 'RevokeAccess')!;
    expect(revoking.enforcement).toMatchObject({ status: 'applied', kind: 'revoke_api_key', target: key.id });
    await expect(identity.identity.authenticate(key.key)).rejects.toThrow(UnauthorizedError);
    expect(h.system).toEqual([expect.objectContaining({ action: 'anomaly_revoke_access', resource: key.id })]);

    h.engine.reverseAction('acme', (revoking.enforcement as { action_id: string }).action_id, 'user:u-admin');
    expect((await identity.identity.authenticate(key.key)).subject).toBe(key.id);
    expect(h.system.at(-1)).toMatchObject({
      action: 'anomaly_restore_access',
      metadata: expect.objectContaining({ key_reinstated: true }),
    });
  });

  it('leaves a key an admin revoked by hand alone: nothing to revoke, nothing to reinstate', async () => {
    const { h, key } = await setup();
    identity.identity.revokeApiKey('acme', key.id);
    const actor = apiKey(key.id, 'readonly', '127.0.0.1');
    const found = ['admin', 'admin', 'admin', 'admin', 'admin']
      .map((p, i) => h.engine.observe(denied(T0 + i, actor, p)))
      .flat();
    expect(found.at(-1)!.enforcement).toEqual({ status: 'skipped', reason: 'the API key is revoked already' });
    expect(identity.identity.reinstateApiKey('acme', key.id, T0)).toBe(false);
    await expect(identity.identity.authenticate(key.key)).rejects.toThrow(UnauthorizedError);
    expect(h.system).toEqual([]);
  });

  it('ends a user’s sessions: tokens issued before are refused, a new login works', async () => {
    const { h } = await setup();
    const admin = principal('acme', 'admin', 'root');
    const dev = await identity.identity.register(admin, {
      username: 'dana',
      email: 'dana@example.com',
      password: 'correct horse battery staple',
      role: 'developer',
    });
    const { token } = await identity.identity.login('dana', 'correct horse battery staple');
    identity.advance(1000);
    h.setNow(identity.now());
    const bypass = record(identity.now(), user(dev.id, 'developer', '10.0.0.9'), 'change_permissions');
    const [finding] = h.engine.observe(bypass);
    expect(finding!.enforcement).toMatchObject({ status: 'applied', kind: 'revoke_sessions', target: dev.id });
    await expect(identity.identity.authenticate(token)).rejects.toThrow(UnauthorizedError);
    identity.advance(1000);
    const again = await identity.identity.login('dana', 'correct horse battery staple');
    expect((await identity.identity.authenticate(again.token)).subject).toBe(dev.id);
  });
});
