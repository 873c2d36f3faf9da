import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { api } from './server.js';

/** Helpers for the identity API tests: tenants, users, tokens and keys made through the real routes. */

export type Headers = Record<string, string>;

export const bearer = (credential: string): Headers => ({ authorization: `Bearer ${credential}` });
export const rawAuthorization = (credential: string): Headers => ({ authorization: credential });
export const xApiKey = (key: string): Headers => ({ 'x-api-key': key });

/** A password no policy refuses: long, random, never a common one. */
export const strongPassword = (): string => `unusual ${randomBytes(9).toString('base64url')} passphrase`;

export interface TestUser {
  id: string;
  username: string;
  password: string;
  tenant_id: string;
  role: string;
  token: string;
}

export interface TestKey {
  id: string;
  key: string;
  role: string;
  tenant_id: string;
}

/** POST /api/v1/tenants as the platform admin (the server's bootstrap key). */
export async function createTenant(base: string, tenantId: string, name = `Tenant ${tenantId}`): Promise<void> {
  const res = await api(base, '/api/v1/tenants', { json: { tenant_id: tenantId, name } });
  expect(res.status, res.text).toBe(201);
}

export async function login(base: string, username: string, password: string): Promise<string> {
  const res = await api(base, '/api/v1/auth/login', { json: { username, password }, anonymous: true });
  expect(res.status, res.text).toBe(200);
  return res.body.token as string;
}

/** Registers a user (by default with the platform admin key, which may name any tenant) and logs it in. */
export async function createUser(
  base: string,
  input: { username: string; tenant_id: string; role: string; password?: string },
  as: Headers = {},
): Promise<TestUser> {
  const password = input.password ?? strongPassword();
  const res = await api(base, '/api/v1/auth/register', {
    json: {
      username: input.username,
      email: `${input.username}@example.test`,
      password,
      role: input.role,
      tenant_id: input.tenant_id,
    },
    headers: as,
  });
  expect(res.status, res.text).toBe(201);
  const token = await login(base, input.username, password);
  return { id: res.body.id, username: input.username, password, tenant_id: input.tenant_id, role: input.role, token };
}

/** POST /api/v1/auth/api-keys with the given admin credential. */
export async function createKey(
  base: string,
  as: Headers,
  input: { name: string; role?: string; expires_in_days?: number },
): Promise<TestKey> {
  const res = await api(base, '/api/v1/auth/api-keys', { json: input, headers: as });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id, key: res.body.key, role: res.body.role, tenant_id: res.body.tenant_id };
}
