import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatApiKey, parseApiKey } from './api-key-format.js';
import { IdentityConfigError, UnauthorizedError } from './errors.js';
import { createIdentityHarness, type IdentityHarness } from './testing/harness.js';
import { PLATFORM_TENANT } from './types.js';

let h: IdentityHarness;
let passwordFile: string;
beforeEach(() => {
  h = createIdentityHarness();
  passwordFile = join(h.dir, 'config', 'nested', 'admin-password.txt');
});
afterEach(() => h.close());

const newKey = () => formatApiKey(randomBytes(16), randomBytes(32));
const options = (apiKey?: string, apiKeyTenant = PLATFORM_TENANT) => ({
  apiKey,
  apiKeyTenant,
  adminPasswordFile: passwordFile,
});

describe('bootstrap without a key', () => {
  it('creates admin with a random password, written once to a 0600 file in a 0700 folder', async () => {
    const result = await h.identity.bootstrap(options());
    const created = result.createdAdmin!;
    expect(created.username).toBe('admin');
    expect(created.file).toBe(passwordFile);
    expect(created.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(readFileSync(passwordFile, 'utf8')).toBe(`username: admin\npassword: ${created.password}\n`);
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.dir, 'config', 'nested')).mode & 0o777).toBe(0o700);

    const { user } = await h.identity.login('admin', created.password);
    expect(user).toMatchObject({ role: 'admin', tenant_id: PLATFORM_TENANT });
  });

  it('is idempotent: a second start creates nothing and leaves the file alone', async () => {
    const first = await h.identity.bootstrap(options());
    const content = readFileSync(passwordFile, 'utf8');
    expect(await h.restart().bootstrap(options())).toEqual({});
    expect(readFileSync(passwordFile, 'utf8')).toBe(content);
    expect(h.identity.listUsers(PLATFORM_TENANT)).toHaveLength(1);
    expect(first.createdAdmin).toBeDefined();
  });

  it('makes a different password every time (never a built-in one)', async () => {
    const other = createIdentityHarness();
    try {
      const a = await h.identity.bootstrap(options());
      const b = await other.identity.bootstrap({ ...options(), adminPasswordFile: join(other.dir, 'pw.txt') });
      expect(a.createdAdmin!.password).not.toBe(b.createdAdmin!.password);
    } finally {
      other.close();
    }
  });

  it('never overwrites an existing file, and then creates no account', async () => {
    mkdirSync(join(h.dir, 'config', 'nested'), { recursive: true });
    writeFileSync(passwordFile, 'something else\n');
    await expect(h.identity.bootstrap(options())).rejects.toBeInstanceOf(IdentityConfigError);
    expect(readFileSync(passwordFile, 'utf8')).toBe('something else\n');
    expect(h.identity.hasUsers()).toBe(false);
  });

  it('does nothing when users exist already', async () => {
    await h.identity.register(undefined, { username: 'owner', email: 'o@example.com', password: 'a long passphrase' });
    expect(await h.identity.bootstrap(options())).toEqual({});
    expect(existsSync(passwordFile)).toBe(false);
  });
});

describe('bootstrap with ALLSOURCE_BOOTSTRAP_API_KEY', () => {
  it('registers the key as admin key "bootstrap" of the tenant, and creates no admin account', async () => {
    const key = newKey();
    const result = await h.identity.bootstrap(options(key));
    expect(result).toEqual({
      bootstrapKey: { id: parseApiKey(key)!.id, tenant_id: PLATFORM_TENANT, status: 'registered' },
    });
    expect(h.identity.hasUsers()).toBe(false);
    expect(existsSync(passwordFile)).toBe(false);
    await expect(h.identity.authenticate(key)).resolves.toMatchObject({
      kind: 'api_key',
      tenantId: PLATFORM_TENANT,
      role: 'admin',
      name: 'bootstrap',
    });
  });

  it('is idempotent across restarts', async () => {
    const key = newKey();
    await h.identity.bootstrap(options(key));
    const again = await h.restart().bootstrap(options(key));
    expect(again.bootstrapKey?.status).toBe('existing');
    expect(h.identity.listApiKeys(PLATFORM_TENANT)).toHaveLength(1);
  });

  it('keeps a revoked bootstrap key revoked', async () => {
    const key = newKey();
    const { bootstrapKey } = await h.identity.bootstrap(options(key));
    h.identity.revokeApiKey(PLATFORM_TENANT, bootstrapKey!.id);
    expect((await h.restart().bootstrap(options(key))).bootstrapKey?.status).toBe('revoked');
    await expect(h.restart().authenticate(key)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('creates its tenant when missing', async () => {
    const key = newKey();
    await h.identity.bootstrap(options(key, 'ci'));
    expect(h.identity.getTenant('ci')).toMatchObject({ tenant_id: 'ci', status: 'active' });
    await expect(h.identity.authenticate(key)).resolves.toMatchObject({ tenantId: 'ci', role: 'admin' });
  });

  it('refuses a malformed key or tenant, without echoing the key', async () => {
    for (const bad of ['hunter2-zq', 'ask_short', `ask_${'A'.repeat(63)}`]) {
      const error = await h.identity.bootstrap(options(bad)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdentityConfigError);
      expect((error as Error).message).toMatch(/ALLSOURCE_BOOTSTRAP_API_KEY/);
      expect((error as Error).message).not.toContain(bad);
    }
    await expect(h.identity.bootstrap(options(newKey(), 'Bad Tenant'))).rejects.toThrow(/TENANT_ID/);
    expect(h.identity.hasApiKeys()).toBe(false);
  });

  it('refuses a key whose id is registered with another secret or tenant', async () => {
    const key = newKey();
    await h.identity.bootstrap(options(key));
    const id = Buffer.from(parseApiKey(key)!.id.replace(/-/g, ''), 'hex');
    await expect(h.restart().bootstrap(options(formatApiKey(id, randomBytes(32))))).rejects.toBeInstanceOf(
      IdentityConfigError,
    );
    await expect(h.restart().bootstrap(options(key, 'other'))).rejects.toBeInstanceOf(IdentityConfigError);
  });
});
