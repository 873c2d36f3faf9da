import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors/index.js';
import { formatApiKey, parseApiKey } from './api-key-format.js';
import { ForbiddenError, TenantSuspendedError, UnauthorizedError } from './errors.js';
import { createIdentityHarness, principal, type IdentityHarness } from './testing/harness.js';

let h: IdentityHarness;
beforeEach(() => {
  h = createIdentityHarness();
  h.identity.createTenant({ tenant_id: 'acme', name: 'Acme' });
  h.identity.createTenant({ tenant_id: 'globex', name: 'Globex' });
});
afterEach(() => h.close());

const acmeAdmin = principal('acme', 'admin', 'acme-admin');
const lastUsed = (id: string) => h.db.prepare('SELECT last_used_at FROM api_keys WHERE id = ?').pluck().get(id);

describe('API keys', () => {
  it('are created once in raw form, stored as id + argon2id hash, and listed without secrets', async () => {
    const created = await h.identity.createApiKey(acmeAdmin, { name: 'ci', expires_in_days: 30 });
    expect(created).toMatchObject({ name: 'ci', role: 'admin', tenant_id: 'acme' });
    expect(created.key).toMatch(/^ask_[A-Za-z0-9_-]{64}$/);
    expect(parseApiKey(created.key)?.id).toBe(created.id);
    expect(created.expires_at).toBe(new Date(h.now() + 30 * 86_400_000).toISOString());

    const stored = h.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(created.id) as Record<string, unknown>;
    expect(stored['secret_hash']).toMatch(/^\$argon2id\$/);
    expect(stored['created_by']).toBe('user:acme-admin');
    const secretPart = created.key.slice(4 + 22);
    expect(JSON.stringify(stored)).not.toContain(secretPart);

    const listed = h.identity.listApiKeys('acme');
    expect(listed).toEqual([
      {
        id: created.id,
        name: 'ci',
        role: 'admin',
        tenant_id: 'acme',
        created_at: new Date(h.now()).toISOString(),
        expires_at: created.expires_at,
        revoked: false,
        last_used: null,
      },
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/ask_|argon2/);
    expect(h.identity.listApiKeys('globex')).toEqual([]);
  });

  it('authenticate as their tenant and role', async () => {
    const { key, id } = await h.identity.createApiKey(acmeAdmin, { name: 'reader', role: 'readonly' });
    await expect(h.identity.authenticate(key)).resolves.toEqual({
      kind: 'api_key',
      tenantId: 'acme',
      role: 'readonly',
      subject: id,
      name: 'reader',
    });
  });

  it('validate name, role and expiry', async () => {
    await expect(h.identity.createApiKey(acmeAdmin, { name: '' })).rejects.toThrow(/name/);
    await expect(h.identity.createApiKey(acmeAdmin, { name: 'x'.repeat(101) })).rejects.toThrow(/name/);
    await expect(h.identity.createApiKey(acmeAdmin, { name: 'k', role: 'root' as never })).rejects.toThrow(/role/);
    for (const days of [0, 3651, 1.5, -1]) {
      await expect(h.identity.createApiKey(acmeAdmin, { name: 'k', expires_in_days: days })).rejects.toThrow(
        /expires_in_days/,
      );
    }
    await expect(h.identity.createApiKey(acmeAdmin, { name: 'k', expires_in_days: 3650 })).resolves.toBeDefined();
  });

  it('cannot carry a role above the creator’s', async () => {
    const developer = principal('acme', 'developer', 'dev-1');
    await expect(h.identity.createApiKey(developer, { name: 'k' })).resolves.toMatchObject({ role: 'developer' });
    await expect(h.identity.createApiKey(developer, { name: 'k', role: 'serviceaccount' })).resolves.toBeDefined();
    await expect(h.identity.createApiKey(developer, { name: 'k', role: 'admin' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const reader = principal('acme', 'readonly', 'reader-1');
    await expect(h.identity.createApiKey(reader, { name: 'k', role: 'serviceaccount' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(h.identity.createApiKey(reader, { name: 'k', role: 'developer' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('skip argon2 when seen recently (verified cache), and pay it again once the entry expires', async () => {
    const { key } = await h.identity.createApiKey(acmeAdmin, { name: 'hot' });
    const before = h.hasher.verifyCalls;
    await h.identity.authenticate(key);
    expect(h.hasher.verifyCalls).toBe(before + 1);
    for (let i = 0; i < 20; i++) await h.identity.authenticate(key);
    expect(h.hasher.verifyCalls).toBe(before + 1);
    h.advance(5 * 60 * 1000);
    await h.identity.authenticate(key);
    expect(h.hasher.verifyCalls).toBe(before + 2);
  });

  it('share one verification among concurrent first uses', async () => {
    const { key } = await h.identity.createApiKey(acmeAdmin, { name: 'burst' });
    const before = h.hasher.verifyCalls;
    await Promise.all(Array.from({ length: 16 }, () => h.identity.authenticate(key)));
    expect(h.hasher.verifyCalls).toBe(before + 1);
  });

  it('never cache a wrong secret, and check an unknown id against the dummy hash', async () => {
    const { key, id } = await h.identity.createApiKey(acmeAdmin, { name: 'k' });
    const keyId = Buffer.from(id.replace(/-/g, ''), 'hex');
    const wrongSecret = formatApiKey(keyId, randomBytes(32));
    const unknownId = formatApiKey(randomBytes(16), randomBytes(32));
    const before = h.hasher.verifyCalls;
    const errors: Error[] = [];
    for (const raw of [wrongSecret, wrongSecret, unknownId]) {
      errors.push(
        await h.identity.authenticate(raw).then(
          () => new Error('accepted'),
          (e: Error) => e,
        ),
      );
    }
    expect(h.hasher.verifyCalls).toBe(before + 3);
    expect(h.hasher.verifiedAgainst.at(-1)).toBe(h.hasher.dummyHash);
    for (const error of errors) {
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect(error.message).toBe(errors[0]!.message);
    }
    // Garbage is refused on its form, without a lookup.
    await expect(h.identity.authenticate('ask_garbage')).rejects.toBeInstanceOf(UnauthorizedError);
    expect(h.hasher.verifyCalls).toBe(before + 3);
    await expect(h.identity.authenticate(key)).resolves.toBeDefined();
  });

  it('stop working at once when revoked, though cached, and stay revoked after a restart', async () => {
    const { key, id } = await h.identity.createApiKey(acmeAdmin, { name: 'k' });
    await h.identity.authenticate(key);
    h.identity.revokeApiKey('acme', id);
    await expect(h.identity.authenticate(key)).rejects.toThrow(/revoked/);
    await expect(h.restart().authenticate(key)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(h.identity.listApiKeys('acme')[0]).toMatchObject({ id, revoked: true });
  });

  it('expire', async () => {
    const { key } = await h.identity.createApiKey(acmeAdmin, { name: 'k', expires_in_days: 1 });
    await h.identity.authenticate(key);
    h.advance(86_400_000 - 1);
    await h.identity.authenticate(key);
    h.advance(1);
    await expect(h.identity.authenticate(key)).rejects.toThrow(/expired/);
    await expect(h.restart().authenticate(key)).rejects.toThrow(/expired/);
  });

  it('write last_used at most once a minute per key', async () => {
    const { key, id } = await h.identity.createApiKey(acmeAdmin, { name: 'k' });
    const start = h.now();
    await h.identity.authenticate(key);
    expect(lastUsed(id)).toBe(start);
    h.advance(59_999);
    await h.identity.authenticate(key);
    expect(lastUsed(id)).toBe(start);
    h.advance(1);
    await h.identity.authenticate(key);
    expect(lastUsed(id)).toBe(start + 60_000);
    expect(h.identity.listApiKeys('acme')[0]!.last_used).toBe(new Date(start + 60_000).toISOString());
    // A restarted process reads the stored time rather than writing again at once.
    const restarted = h.restart();
    h.advance(30_000);
    await restarted.authenticate(key);
    expect(lastUsed(id)).toBe(start + 60_000);
  });

  it('of a suspended tenant are refused with tenant_suspended, cached or not, and work again on activation', async () => {
    const { key } = await h.identity.createApiKey(acmeAdmin, { name: 'k' });
    await h.identity.authenticate(key);
    h.identity.setTenantStatus('acme', 'suspended');
    await expect(h.identity.authenticate(key)).rejects.toBeInstanceOf(TenantSuspendedError);
    await expect(h.restart().authenticate(key)).rejects.toBeInstanceOf(TenantSuspendedError);
    await expect(h.identity.createApiKey(acmeAdmin, { name: 'k2' })).rejects.toBeInstanceOf(TenantSuspendedError);
    h.identity.setTenantStatus('acme', 'active');
    await expect(h.identity.authenticate(key)).resolves.toMatchObject({ tenantId: 'acme' });
  });

  it('of another tenant cannot be revoked: not found, and the key keeps working', async () => {
    const { key, id } = await h.identity.createApiKey(acmeAdmin, { name: 'k' });
    expect(() => h.identity.revokeApiKey('globex', id)).toThrow(NotFoundError);
    expect(() => h.identity.revokeApiKey('acme', 'no-such-key')).toThrow(NotFoundError);
    await expect(h.identity.authenticate(key)).resolves.toMatchObject({ tenantId: 'acme' });
  });

  it('cannot be made for a tenant that does not exist', async () => {
    await expect(h.identity.createApiKey(principal('nowhere', 'admin'), { name: 'k' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
