import { migrations } from '../db/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestError, NotFoundError } from '../errors/index.js';
import { createEventIdGenerator, createEventStore } from '../store/index.js';
import { ConflictError, UnauthorizedError } from './errors.js';
import { createIdentityHarness, GOOD_PASSWORD, principal, type IdentityHarness } from './testing/harness.js';
import { PLATFORM_TENANT } from './types.js';

let h: IdentityHarness;
beforeEach(() => {
  h = createIdentityHarness();
});
afterEach(() => h.close());

const conflictCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConflictError);
    return (error as ConflictError).code;
  }
  throw new Error('expected a conflict');
};

describe('tenants', () => {
  it('include the platform tenant from the start, at the professional tier', () => {
    expect(h.identity.getTenant(PLATFORM_TENANT)).toMatchObject({
      tenant_id: 'default',
      status: 'active',
      rate_tier: 'professional',
    });
    expect(h.db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
  });

  it('are created, listed, read and updated', () => {
    const acme = h.identity.createTenant({ tenant_id: 'acme-1_x', name: 'Acme', rate_tier: 'free' });
    expect(acme).toEqual({
      tenant_id: 'acme-1_x',
      name: 'Acme',
      status: 'active',
      rate_tier: 'free',
      created_at: new Date(h.now()).toISOString(),
    });
    expect(h.identity.listTenants().map((t) => t.tenant_id)).toEqual(['acme-1_x', 'default']);
    expect(h.identity.updateTenant('acme-1_x', { name: 'Acme Inc', rate_tier: 'unlimited' })).toMatchObject({
      name: 'Acme Inc',
      rate_tier: 'unlimited',
    });
    expect(h.identity.getTenant('acme-1_x')).toMatchObject({ name: 'Acme Inc', rate_tier: 'unlimited' });
    expect(() => h.identity.getTenant('nowhere')).toThrow(NotFoundError);
    expect(() => h.identity.updateTenant('nowhere', { name: 'x' })).toThrow(NotFoundError);
  });

  it('validate id, name and tier, and refuse a taken id', () => {
    for (const tenantId of ['', 'UPPER', 'has space', 'x'.repeat(65), 'dot.ted', 'slash/']) {
      expect(() => h.identity.createTenant({ tenant_id: tenantId, name: 'n' }), tenantId).toThrow(InvalidRequestError);
    }
    expect(() => h.identity.createTenant({ tenant_id: 'ok', name: '' })).toThrow(/name/);
    expect(() => h.identity.createTenant({ tenant_id: 'ok', name: 'x'.repeat(201) })).toThrow(/name/);
    expect(() => h.identity.createTenant({ tenant_id: 'ok', name: 'n', rate_tier: 'gold' as never })).toThrow(
      /rate_tier/,
    );
    h.identity.createTenant({ tenant_id: 'ok', name: 'n' });
    expect(conflictCode(() => h.identity.createTenant({ tenant_id: 'ok', name: 'n' }))).toBe('conflict');
    expect(conflictCode(() => h.identity.createTenant({ tenant_id: PLATFORM_TENANT, name: 'n' }))).toBe('conflict');
  });

  it('protect the platform tenant from suspension and deletion', () => {
    expect(conflictCode(() => h.identity.setTenantStatus(PLATFORM_TENANT, 'suspended'))).toBe('conflict');
    expect(conflictCode(() => h.identity.deleteTenant(PLATFORM_TENANT))).toBe('conflict');
    expect(h.identity.getTenant(PLATFORM_TENANT).status).toBe('active');
  });

  it('are suspended and activated', () => {
    h.identity.createTenant({ tenant_id: 'acme', name: 'Acme' });
    expect(h.identity.setTenantStatus('acme', 'suspended')).toMatchObject({ status: 'suspended' });
    expect(h.identity.getTenant('acme').status).toBe('suspended');
    expect(h.identity.setTenantStatus('acme', 'active')).toMatchObject({ status: 'active' });
    expect(() => h.identity.setTenantStatus('acme', 'gone' as never)).toThrow(InvalidRequestError);
  });

  it('are deleted only when they hold no events, users or live keys', async () => {
    h.identity.createTenant({ tenant_id: 'acme', name: 'Acme' });
    const admin = principal('acme', 'admin');
    const user = await h.identity.register(admin, {
      username: 'bob',
      email: 'bob@example.com',
      password: GOOD_PASSWORD,
    });
    expect(conflictCode(() => h.identity.deleteTenant('acme'))).toBe('tenant_not_empty');
    h.identity.deleteUser('acme', user.id);

    const live = await h.identity.createApiKey(admin, { name: 'k' });
    expect(conflictCode(() => h.identity.deleteTenant('acme'))).toBe('tenant_not_empty');
    h.identity.revokeApiKey('acme', live.id);

    const store = createEventStore({
      db: h.db,
      now: h.now,
      newEventId: createEventIdGenerator(h.now),
      onListenerError: () => {},
    });
    await store.append('acme', { event_type: 'thing.happened', entity_id: 'e-1', payload: {} });
    store.close();
    expect(conflictCode(() => h.identity.deleteTenant('acme'))).toBe('tenant_not_empty');

    h.identity.createTenant({ tenant_id: 'keyed', name: 'Keyed' });
    h.db
      .prepare(
        `INSERT INTO keyring_keys (tenant_id, name, latest_version, created_at, rotated_at)
         VALUES ('keyed', 'k', 1, 0, 0)`,
      )
      .run();
    expect(conflictCode(() => h.identity.deleteTenant('keyed'))).toBe('tenant_not_empty');

    h.identity.createTenant({ tenant_id: 'empty', name: 'Empty' });
    const dead = await h.identity.createApiKey(principal('empty', 'admin'), { name: 'old' });
    h.identity.revokeApiKey('empty', dead.id);
    h.identity.deleteTenant('empty');
    expect(() => h.identity.getTenant('empty')).toThrow(NotFoundError);
    await expect(h.identity.authenticate(dead.key)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(() => h.identity.deleteTenant('empty')).toThrow(NotFoundError);
  });
});
