import { describe, expect, it } from 'vitest';
import { deriveKey, generateMasterKey } from '../kms/index.js';
import { IdentityConfigError } from './errors.js';
import { jwtSecretFrom } from './jwt-secret.js';

describe('jwtSecretFrom', () => {
  const masterKey = generateMasterKey();

  it('derives HKDF(master key, "allsource/jwt") when ALLSOURCE_JWT_SECRET is not set', () => {
    const secret = jwtSecretFrom({}, masterKey);
    expect(Buffer.from(secret).equals(deriveKey(masterKey, 'allsource/jwt'))).toBe(true);
    expect(Buffer.from(secret).equals(deriveKey(masterKey, 'allsource/sqlcipher'))).toBe(false);
    expect(Buffer.from(jwtSecretFrom({ ALLSOURCE_JWT_SECRET: '' }, masterKey)).equals(secret)).toBe(true);
  });

  it('uses ALLSOURCE_JWT_SECRET of 32 characters or more', () => {
    const configured = 'k'.repeat(32);
    expect(Buffer.from(jwtSecretFrom({ ALLSOURCE_JWT_SECRET: configured }, masterKey)).toString()).toBe(configured);
  });

  it('refuses a shorter one, without repeating it', () => {
    const short = 'only-31-characters-long-secret!';
    expect(short).toHaveLength(31);
    const error = (() => {
      try {
        jwtSecretFrom({ ALLSOURCE_JWT_SECRET: short }, masterKey);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(IdentityConfigError);
    expect((error as IdentityConfigError).code).toBe('config_invalid');
    expect((error as Error).message).toMatch(/at least 32 characters/);
    expect((error as Error).message).not.toContain(short);
  });
});
