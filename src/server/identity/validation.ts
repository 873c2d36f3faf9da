import { InvalidRequestError } from '../errors/index.js';
import { ROLES, type RateTier, type Role } from './types.js';

/** Checks of what callers send. Each throws InvalidRequestError naming the field by JSON pointer. */

export const RATE_TIERS: readonly RateTier[] = ['free', 'professional', 'unlimited', 'dev_mode'];

const TENANT_ID = /^[a-z0-9_-]{1,64}$/;
const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;
// A sanity check, not RFC 5322: one @, something on each side, a dot in the domain, no spaces.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const MAX_EMAIL = 254;
const MAX_EXPIRES_IN_DAYS = 3650;

function invalid(field: string, problem: string): never {
  throw new InvalidRequestError(`${field}: ${problem}`, [{ path: `/${field}`, problem }]);
}

// C0 and C1 control characters and DEL (as the event store refuses them in entity ids).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Text of 1 to `max` characters (counted as code points): well-formed Unicode (a lone surrogate
 * cannot be stored as UTF-8) with no control characters, as the event store checks entity ids.
 */
function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') invalid(field, 'must be a string');
  if (!value.isWellFormed()) invalid(field, 'must be well-formed Unicode (no lone surrogates)');
  const length = [...value].length;
  if (length < 1 || length > max) invalid(field, `must be 1 to ${max} characters`);
  if (CONTROL_CHARACTER.test(value)) invalid(field, 'must not contain control characters');
  return value;
}

export function tenantIdOf(value: unknown, field = 'tenant_id'): string {
  if (typeof value !== 'string' || !TENANT_ID.test(value)) {
    invalid(field, 'must be 1 to 64 characters of a-z, 0-9, _ and -');
  }
  return value;
}

export const tenantNameOf = (value: unknown): string => text('name', value, 200);
export const apiKeyNameOf = (value: unknown): string => text('name', value, 100);

export function usernameOf(value: unknown): string {
  if (typeof value !== 'string' || !USERNAME.test(value)) {
    invalid('username', 'must be 3 to 64 characters of A-Z, a-z, 0-9, ., _ and -');
  }
  return value;
}

export function emailOf(value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length > MAX_EMAIL ||
    !EMAIL.test(value) ||
    !value.isWellFormed() ||
    CONTROL_CHARACTER.test(value)
  ) {
    invalid('email', `must be an email address of at most ${MAX_EMAIL} characters`);
  }
  return value;
}

export function roleOf(value: unknown): Role {
  if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) {
    invalid('role', `must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

export function rateTierOf(value: unknown): RateTier {
  if (typeof value !== 'string' || !(RATE_TIERS as readonly string[]).includes(value)) {
    invalid('rate_tier', `must be one of ${RATE_TIERS.join(', ')}`);
  }
  return value as RateTier;
}

export function expiresInDaysOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_EXPIRES_IN_DAYS) {
    invalid('expires_in_days', `must be a whole number of days from 1 to ${MAX_EXPIRES_IN_DAYS}`);
  }
  return value;
}
