import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ckrName, Pkcs11Error, toPkcs11Error } from './errors.js';
import type { LoadedModule } from './module.js';

// Digests of PINs are keyed by a random per-process key: equal PINs compare equal here, and the
// digest tells nothing outside this process.
const DIGEST_KEY = randomBytes(32);

function pinDigest(pin: string): Buffer {
  return createHmac('sha256', DIGEST_KEY).update(pin, 'utf8').digest();
}

/**
 * Logs `session` in as the user. When another session of this process is already logged in to the
 * slot, the token would accept any PIN (CKR_USER_ALREADY_LOGGED_IN), so the PIN is checked against
 * the one that logged in. Pair with logOut() when the session closes.
 */
export function logIn(module: LoadedModule, slotKey: string, session: Buffer, pin: string): void {
  const digest = pinDigest(pin);
  const current = module.logins.get(slotKey);
  if (current !== undefined) {
    if (!timingSafeEqual(current.pinDigest, digest))
      throw new Pkcs11Error('pin_incorrect', 'the PKCS#11 PIN was refused');
    current.sessions += 1;
    return;
  }
  try {
    module.pkcs11.C_Login(session, module.lib.CKU_USER, pin);
  } catch (error) {
    // Someone outside Pkcs11Session logged this process in; the token has checked a PIN then.
    if (ckrName(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw toPkcs11Error(error, 'logging in');
  }
  module.logins.set(slotKey, { sessions: 1, pinDigest: digest });
}

/** One session fewer; with the last one closed, the token has logged the application out. */
export function logOut(module: LoadedModule, slotKey: string): void {
  const current = module.logins.get(slotKey);
  if (current === undefined) return;
  current.sessions -= 1;
  if (current.sessions <= 0) module.logins.delete(slotKey);
}
