import { describe, expect, it } from 'vitest';
import { DomainError } from '../../errors/index.js';
import { ckrName, Pkcs11Error, toPkcs11Error } from './errors.js';

// pkcs11js errors carry the CKR name and a native stack in their message.
const native = (ckr: string) => new Error(`${ckr}:160\n    at PKCS11.C_Login (native)\n    at secret-pin-1234`);

describe('PKCS#11 errors', () => {
  it('name a refused PIN in one line, with nothing from the native error but the CKR name', () => {
    const error = toPkcs11Error(native('CKR_PIN_INCORRECT'), 'logging in');
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('pkcs11_error');
    expect(error.reason).toBe('pin_incorrect');
    expect(error.message).toBe('the PKCS#11 PIN was refused');
    expect(error.details).toEqual({ reason: 'pin_incorrect' });
    expect(toPkcs11Error(native('CKR_PIN_LOCKED'), 'x').reason).toBe('pin_locked');
  });

  it('keep only the CKR name of other failures', () => {
    const error = toPkcs11Error(native('CKR_DEVICE_ERROR'), 'encrypting');
    expect(error.message).toBe('PKCS#11 failed while encrypting (CKR_DEVICE_ERROR)');
    expect(error.message).not.toContain('secret');
    expect(toPkcs11Error(new Error('boom\nsecret'), 'x').message).toBe('PKCS#11 failed while x (native error)');
    expect(toPkcs11Error('not an error', 'x').reason).toBe('token_error');
    expect(ckrName(native('CKR_OK'))).toBe('CKR_OK');
    const same = new Pkcs11Error('key_missing', 'k');
    expect(toPkcs11Error(same, 'x')).toBe(same);
  });

  it('are always one line', () => {
    expect(new Pkcs11Error('token_error', 'first\nsecond').message).toBe('first');
  });
});
