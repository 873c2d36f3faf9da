import { commonPasswords } from '../../identity/common-passwords.js';
import { WeakPassphraseError } from './errors.js';

export const MIN_PASSPHRASE_LENGTH = 12;
/** Bounds the argon2 input and the unlock body; far beyond any passphrase a person types. */
export const MAX_PASSPHRASE_LENGTH = 1024;

/**
 * The same text typed on two systems can arrive as different Unicode sequences (é as one code
 * point or as e + accent); NFC makes both derive the same key.
 */
export function normalizePassphrase(passphrase: string): string {
  return passphrase.normalize('NFC');
}

/**
 * Refuses a new passphrase shorter than 12 characters (counted in code points), longer than 1024,
 * or in the common-password list the identity module uses for account passwords.
 */
export function checkNewPassphrase(passphrase: string): void {
  const normalized = normalizePassphrase(passphrase);
  const length = [...normalized].length;
  if (length < MIN_PASSPHRASE_LENGTH) {
    throw new WeakPassphraseError(`the new passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  if (length > MAX_PASSPHRASE_LENGTH) {
    throw new WeakPassphraseError(`the new passphrase must have at most ${MAX_PASSPHRASE_LENGTH} characters`);
  }
  if (commonPasswords().has(normalized.toLowerCase())) {
    throw new WeakPassphraseError('the new passphrase is a commonly used password; choose another');
  }
}
