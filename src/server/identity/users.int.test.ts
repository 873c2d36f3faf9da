import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestError, NotFoundError } from '../errors/index.js';
import { ConflictError, ForbiddenError, TenantSuspendedError, UnauthorizedError } from './errors.js';
import { createIdentityHarness, GOOD_PASSWORD, principal, type IdentityHarness } from './testing/harness.js';
import { PLATFORM_TENANT } from './types.js';

let h: IdentityHarness;
beforeEach(() => {
  h = createIdentityHarness();
  h.identity.createTenant({ tenant_id: 'acme', name: 'Acme' });
  h.identity.createTenant({ tenant_id: 'globex', name: 'Globex' });
});
afterEach(() => h.close());

const platformAdmin = principal(PLATFORM_TENANT, 'admin', 'root');
const acmeAdmin = principal('acme', 'admin', 'acme-admin');
const input = (username: string, extra: Record<string, unknown> = {}) => ({
  username,
  email: `${username}@example.com`,
  password: GOOD_PASSWORD,
  ...extra,
});

describe('first-run registration', () => {
  it('makes the first account, without a credential, an admin of the platform tenant', async () => {
    expect(h.identity.hasUsers()).toBe(false);
    const first = await h.identity.register(undefined, input('owner'));
    expect(first).toMatchObject({ username: 'owner', role: 'admin', tenant_id: PLATFORM_TENANT });
    expect(h.identity.hasUsers()).toBe(true);
    await expect(h.identity.register(undefined, input('second'))).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('is over once an API key exists', async () => {
    await h.identity.createApiKey(acmeAdmin, { name: 'k' });
    expect(h.identity.hasApiKeys()).toBe(true);
    await expect(h.identity.register(undefined, input('owner'))).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('refuses another tenant or role for the first account', async () => {
    await expect(h.identity.register(undefined, input('owner', { tenant_id: 'acme' }))).rejects.toThrow(/tenant_id/);
    await expect(h.identity.register(undefined, input('owner', { role: 'readonly' }))).rejects.toThrow(/role/);
  });
});

describe('registration', () => {
  it('puts the user in the actor’s tenant with role developer by default', async () => {
    const user = await h.identity.register(acmeAdmin, input('bob'));
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) as string,
      username: 'bob',
      email: 'bob@example.com',
      role: 'developer',
      tenant_id: 'acme',
      created_at: new Date(h.now()).toISOString(),
    });
    expect(h.identity.listUsers('acme')).toEqual([user]);
    expect(h.identity.listUsers('globex')).toEqual([]);
  });

  it('validates username, email, role and password', async () => {
    for (const username of ['ab', 'x'.repeat(65), 'has space', 'semi;colon', 'ünïcode']) {
      await expect(h.identity.register(acmeAdmin, input(username))).rejects.toThrow(/username/);
    }
    for (const email of ['', 'no-at-sign', 'a@b', 'a @b.c', `${'x'.repeat(250)}@b.co`]) {
      await expect(h.identity.register(acmeAdmin, input('bob', { email }))).rejects.toThrow(/email/);
    }
    await expect(h.identity.register(acmeAdmin, input('bob', { role: 'root' }))).rejects.toThrow(/role/);
    await expect(h.identity.register(acmeAdmin, input('bob', { password: 'short' }))).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    await expect(h.identity.register(acmeAdmin, input('bob', { password: 'Bob' + 'bob' }))).rejects.toThrow();
    await expect(h.identity.register(acmeAdmin, input('bobbybob', { password: 'BOBBYBOB' }))).rejects.toThrow(
      /username/,
    );
    await expect(h.identity.register(acmeAdmin, input('bob', { password: 'football' }))).rejects.toThrow(
      /commonly used/,
    );
    expect(h.identity.listUsers('acme')).toEqual([]);
  });

  it('refuses a taken username, in any tenant and any case, with conflict', async () => {
    await h.identity.register(acmeAdmin, input('bob'));
    const error = await h.identity.register(platformAdmin, input('BOB', { tenant_id: 'globex' })).catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('conflict');
  });

  it('lets only platform admins name another tenant', async () => {
    await expect(h.identity.register(platformAdmin, input('gina', { tenant_id: 'globex' }))).resolves.toMatchObject({
      tenant_id: 'globex',
    });
    await expect(h.identity.register(acmeAdmin, input('eve', { tenant_id: 'globex' }))).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(h.identity.register(acmeAdmin, input('ann', { tenant_id: 'acme' }))).resolves.toMatchObject({
      tenant_id: 'acme',
    });
    await expect(
      h.identity.register(principal('acme', 'developer'), input('dan', { tenant_id: 'acme' })),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('needs the tenant to exist and be active', async () => {
    await expect(h.identity.register(platformAdmin, input('nora', { tenant_id: 'nowhere' }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    h.identity.setTenantStatus('globex', 'suspended');
    await expect(h.identity.register(platformAdmin, input('gina', { tenant_id: 'globex' }))).rejects.toBeInstanceOf(
      TenantSuspendedError,
    );
  });
});

describe('roles and deletion', () => {
  it('are scoped by tenant: a user of another tenant is not found', async () => {
    const bob = await h.identity.register(acmeAdmin, input('bob'));
    expect(() => h.identity.setRole('globex', bob.id, 'admin')).toThrow(NotFoundError);
    expect(() => h.identity.deleteUser('globex', bob.id)).toThrow(NotFoundError);
    expect(() => h.identity.setRole('acme', 'no-such-user', 'admin')).toThrow(NotFoundError);
    // The two answers are the same: nothing tells "exists elsewhere" from "does not exist".
    const elsewhere = (() => {
      try {
        h.identity.deleteUser('globex', bob.id);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    const nowhere = (() => {
      try {
        h.identity.deleteUser('globex', 'no-such-user');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(elsewhere).toBe(nowhere);
    expect(h.identity.listUsers('acme')).toEqual([bob]);
  });

  it('change the role and delete in the right tenant', async () => {
    const bob = await h.identity.register(acmeAdmin, input('bob'));
    expect(h.identity.setRole('acme', bob.id, 'readonly')).toMatchObject({ role: 'readonly' });
    expect(h.identity.listUsers('acme')[0]).toMatchObject({ role: 'readonly' });
    h.identity.deleteUser('acme', bob.id);
    expect(h.identity.listUsers('acme')).toEqual([]);
  });

  it('never remove or demote the last admin of the platform tenant', async () => {
    const owner = await h.identity.register(undefined, input('owner'));
    expect(() => h.identity.setRole(PLATFORM_TENANT, owner.id, 'developer')).toThrow(ConflictError);
    expect(() => h.identity.deleteUser(PLATFORM_TENANT, owner.id)).toThrow(ConflictError);
    const second = await h.identity.register(platformAdmin, input('second', { role: 'admin' }));
    h.identity.setRole(PLATFORM_TENANT, owner.id, 'developer');
    expect(() => h.identity.deleteUser(PLATFORM_TENANT, second.id)).toThrow(/last admin/);
    // Other tenants may end up without an admin: the platform admins can still create one.
    const acmeBoss = await h.identity.register(platformAdmin, input('boss', { tenant_id: 'acme', role: 'admin' }));
    expect(() => h.identity.deleteUser('acme', acmeBoss.id)).not.toThrow();
  });
});
