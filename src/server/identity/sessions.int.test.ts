import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TenantSuspendedError, UnauthorizedError } from './errors.js';
import { createIdentityHarness, GOOD_PASSWORD, principal, type IdentityHarness } from './testing/harness.js';
import { PLATFORM_TENANT } from './types.js';

let h: IdentityHarness;
beforeEach(() => {
  h = createIdentityHarness();
});
afterEach(() => h.close());

async function withUser(username = 'alice', tenantId = PLATFORM_TENANT, role: 'admin' | 'developer' = 'developer') {
  return h.identity.register(principal(PLATFORM_TENANT, 'admin'), {
    username,
    email: `${username}@example.com`,
    password: GOOD_PASSWORD,
    role,
    tenant_id: tenantId,
  });
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as Error,
  );

describe('login', () => {
  it('returns a token for the user and the user without secrets', async () => {
    const user = await withUser();
    const { token, user: shown } = await h.identity.login('alice', GOOD_PASSWORD);
    expect(shown).toEqual(user);
    expect(JSON.stringify(shown)).not.toMatch(/argon2|hash|password/);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      sub: user.id,
      tenant_id: PLATFORM_TENANT,
      role: 'developer',
      iss: 'allsource',
      aud: 'allsource-api',
      iat: Math.floor(h.now() / 1000),
      exp: Math.floor(h.now() / 1000) + 24 * 3600,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    await expect(h.identity.authenticate(token)).resolves.toMatchObject({
      kind: 'user',
      tenantId: PLATFORM_TENANT,
      role: 'developer',
      subject: user.id,
      name: 'alice',
      token: { jti: claims.jti, expiresAt: claims.exp! * 1000 },
    });
  });

  it('finds the username whatever its case', async () => {
    await withUser('Alice');
    await expect(h.identity.login('aLICE', GOOD_PASSWORD)).resolves.toMatchObject({ user: { username: 'Alice' } });
  });

  it('fails the same way for an unknown user and a wrong password, each after one argon2 verification', async () => {
    const user = await withUser();
    const before = h.hasher.verifyCalls;
    const wrongPassword = await failure(h.identity.login('alice', 'not the password'));
    expect(h.hasher.verifyCalls).toBe(before + 1);
    const unknownUser = await failure(h.identity.login('mallory', 'not the password'));
    expect(h.hasher.verifyCalls).toBe(before + 2);
    // The unknown user was checked against the fixed dummy hash, not skipped.
    expect(h.hasher.verifiedAgainst.at(-1)).toBe(h.hasher.dummyHash);
    const malformed = await failure(h.identity.login('x'.repeat(10_000), GOOD_PASSWORD));
    expect(h.hasher.verifyCalls).toBe(before + 3);

    for (const error of [wrongPassword, unknownUser, malformed]) {
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect(error.message).toBe(wrongPassword.message);
      expect(error.message).not.toContain('not the password');
      expect(error.message).not.toContain(user.id);
    }
  });

  it('is refused for a suspended tenant once the password checks out', async () => {
    h.identity.createTenant({ tenant_id: 'acme', name: 'Acme' });
    await withUser('bob', 'acme');
    h.identity.setTenantStatus('acme', 'suspended');
    await expect(h.identity.login('bob', 'wrong password!')).rejects.toBeInstanceOf(UnauthorizedError);
    const error = await failure(h.identity.login('bob', GOOD_PASSWORD));
    expect(error).toBeInstanceOf(TenantSuspendedError);
    expect((error as TenantSuspendedError).code).toBe('tenant_suspended');
  });
});

describe('token authentication', () => {
  it('refuses a token after logout, until and after it expires', async () => {
    await withUser();
    const { token } = await h.identity.login('alice', GOOD_PASSWORD);
    const who = await h.identity.authenticate(token);
    h.identity.logout(who);
    await expect(h.identity.authenticate(token)).rejects.toThrow(/revoked/);
    // Revocation is in the database: a restarted service refuses it too.
    await expect(h.restart().authenticate(token)).rejects.toThrow(/revoked/);
    const other = await h.identity.login('alice', GOOD_PASSWORD);
    await expect(h.identity.authenticate(other.token)).resolves.toMatchObject({ name: 'alice' });
  });

  it('drops revocations of expired tokens on a later logout', async () => {
    await withUser();
    const first = await h.identity.authenticate((await h.identity.login('alice', GOOD_PASSWORD)).token);
    h.identity.logout(first);
    const rows = () => h.db.prepare('SELECT count(*) FROM revoked_tokens').pluck().get();
    expect(rows()).toBe(1);
    h.advance(25 * 3600 * 1000);
    const second = await h.identity.authenticate((await h.identity.login('alice', GOOD_PASSWORD)).token);
    h.identity.logout(second);
    expect(rows()).toBe(1);
  });

  it('ends every older token when the password changes, even within the same millisecond', async () => {
    await withUser();
    const old = await h.identity.login('alice', GOOD_PASSWORD);
    const other = await h.identity.login('alice', GOOD_PASSWORD);
    const who = await h.identity.authenticate(old.token);
    // The clock is pinned: login, change and the next login all happen in one millisecond.
    await h.identity.changePassword(who, GOOD_PASSWORD, 'a brand new passphrase');
    await expect(h.identity.authenticate(old.token)).rejects.toThrow(/password was changed/);
    await expect(h.identity.authenticate(other.token)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(h.identity.login('alice', GOOD_PASSWORD)).rejects.toBeInstanceOf(UnauthorizedError);
    const fresh = await h.identity.login('alice', 'a brand new passphrase');
    await expect(h.identity.authenticate(fresh.token)).resolves.toMatchObject({ name: 'alice' });
    // After a restart too (the change time is stored in ms).
    await expect(h.restart().authenticate(old.token)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(h.restart().authenticate(fresh.token)).resolves.toMatchObject({ name: 'alice' });
  });

  it('checks the current password and the policy when changing it', async () => {
    await withUser();
    const who = await h.identity.authenticate((await h.identity.login('alice', GOOD_PASSWORD)).token);
    await expect(h.identity.changePassword(who, 'wrong current', 'a brand new passphrase')).rejects.toThrow(
      /current password is wrong/,
    );
    await expect(h.identity.changePassword(who, GOOD_PASSWORD, 'password1')).rejects.toThrow(/commonly used/);
    await expect(h.identity.changePassword(who, GOOD_PASSWORD, 'ALICE')).rejects.toThrow(/8 to 128/);
    await expect(h.identity.changePassword(who, GOOD_PASSWORD, GOOD_PASSWORD)).rejects.toThrow(/differ/);
    await expect(
      h.identity.changePassword(principal(PLATFORM_TENANT, 'admin', 'key', 'api_key'), 'x', 'a brand new passphrase'),
    ).rejects.toThrow(/only a user/);
  });

  it('uses the role in the database, not the one in the token', async () => {
    const user = await withUser();
    const { token } = await h.identity.login('alice', GOOD_PASSWORD);
    h.identity.setRole(PLATFORM_TENANT, user.id, 'readonly');
    await expect(h.identity.authenticate(token)).resolves.toMatchObject({ role: 'readonly' });
    expect(decodeJwt(token).role).toBe('developer');
  });

  it('refuses the token of a deleted user, and of a suspended tenant with 403 tenant_suspended', async () => {
    h.identity.createTenant({ tenant_id: 'acme', name: 'Acme' });
    const bob = await withUser('bob', 'acme');
    const carol = await withUser('carol', 'acme');
    const bobToken = (await h.identity.login('bob', GOOD_PASSWORD)).token;
    const carolToken = (await h.identity.login('carol', GOOD_PASSWORD)).token;
    h.identity.deleteUser('acme', bob.id);
    await expect(h.identity.authenticate(bobToken)).rejects.toBeInstanceOf(UnauthorizedError);

    h.identity.setTenantStatus('acme', 'suspended');
    await expect(h.identity.authenticate(carolToken)).rejects.toBeInstanceOf(TenantSuspendedError);
    h.identity.setTenantStatus('acme', 'active');
    await expect(h.identity.authenticate(carolToken)).resolves.toMatchObject({ subject: carol.id });
  });

  it('refuses an expired token', async () => {
    await withUser();
    const { token } = await h.identity.login('alice', GOOD_PASSWORD);
    h.advance(24 * 3600 * 1000);
    await expect(h.identity.authenticate(token)).rejects.toThrow(/expired/);
  });

  it('honours a configured lifetime', async () => {
    const identity = h.restart({ tokenLifetimeSeconds: 600 });
    await withUser();
    const { token } = await identity.login('alice', GOOD_PASSWORD);
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(600);
  });

  it('refuses a token signed by another instance with another key', async () => {
    await withUser();
    const { token } = await h.identity.login('alice', GOOD_PASSWORD);
    const other = h.restart({ jwtSecret: Buffer.alloc(32, 7) });
    await expect(other.authenticate(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('refuses empty and oversized credentials', async () => {
    await expect(h.identity.authenticate('')).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(h.identity.authenticate('x'.repeat(100_000))).rejects.toBeInstanceOf(UnauthorizedError);
  });
});

describe('me', () => {
  it('shows the user, the key, or dev mode’s stand-in', async () => {
    const user = await withUser();
    const who = await h.identity.authenticate((await h.identity.login('alice', GOOD_PASSWORD)).token);
    expect(h.identity.me(who)).toEqual(user);
    const key = await h.identity.createApiKey(who, { name: 'ci' });
    const byKey = await h.identity.authenticate(key.key);
    expect(h.identity.me(byKey)).toMatchObject({ id: key.id, name: 'ci', revoked: false });
    expect(h.identity.me(principal('dev-tenant', 'admin', 'dev-user', 'dev'))).toMatchObject({
      id: 'dev-user',
      tenant_id: 'dev-tenant',
      role: 'admin',
    });
  });
});
