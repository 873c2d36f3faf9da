import { InvalidRequestError } from './errors.js';

const KEY_NAME = /^[a-zA-Z0-9._-]{1,128}$/;

/** Key names: 1 to 128 of letters, digits, `.`, `_` and `-`. */
export function checkKeyName(name: unknown): string {
  if (typeof name !== 'string' || !KEY_NAME.test(name)) {
    throw new InvalidRequestError('invalid key name', [
      { path: '/name', problem: 'must be 1 to 128 characters of letters, digits, ".", "_" and "-"' },
    ]);
  }
  return name;
}

export function checkTenantId(tenantId: unknown): string {
  if (typeof tenantId !== 'string' || tenantId.length === 0 || tenantId.length > 256) {
    throw new InvalidRequestError('invalid tenant id', [{ path: '/tenant_id', problem: 'must be a non-empty string' }]);
  }
  return tenantId;
}
