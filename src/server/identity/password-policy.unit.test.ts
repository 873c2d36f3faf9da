import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/index.js';
import { commonPasswords } from './common-passwords.js';
import { checkNewPassword } from './password-policy.js';

const common = commonPasswords();
const check = (password: unknown, username = 'alice') => checkNewPassword(password, username, common);

describe('password policy', () => {
  it('accepts 8 to 128 characters that are neither the username nor common', () => {
    expect(check('kV7#qp2m')).toBe('kV7#qp2m');
    expect(check('x'.repeat(127) + 'y')).toHaveLength(128);
    // Characters, not UTF-16 units or bytes: 8 emoji are 8 characters.
    expect(check('🐙🦀🦑🐡🐠🐟🦈🐬')).toBeDefined();
  });

  it('refuses too short and too long', () => {
    expect(() => check('kV7#qp2')).toThrow(InvalidRequestError);
    expect(() => check('x'.repeat(128) + 'y')).toThrow(/8 to 128 characters/);
    expect(() => check('🐙'.repeat(129))).toThrow(/8 to 128 characters/);
  });

  it('refuses the username, whatever its case', () => {
    expect(() => check('AliceSmith', 'alicesmith')).toThrow(/username/);
    expect(() => check('alicesmith', 'ALICESMITH')).toThrow(/username/);
  });

  it('refuses passwords of the shipped common list, whatever their case', () => {
    expect(common.size).toBeGreaterThan(10_000);
    for (const password of ['password', 'PASSWORD1', 'qwertyuiop', 'iloveyou', 'baseball']) {
      expect(common.has(password.toLowerCase())).toBe(true);
      expect(() => check(password)).toThrow(/commonly used/);
    }
  });

  it('refuses anything but a string, and never repeats the password in the error', () => {
    expect(() => check(12345678)).toThrow(/must be a string/);
    try {
      check('password1');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('password1');
      expect(JSON.stringify((error as InvalidRequestError).details)).not.toContain('password1');
    }
  });
});
