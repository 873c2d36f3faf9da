import { hkdfSync, randomBytes } from 'node:crypto';
import { DomainError } from '../errors/index.js';

/**
 * 256-bit root of the key hierarchy (DESIGN.md, "Key hierarchy").
 * Never log key material, never put it in an error, never write it in clear to the data directory.
 */
export type MasterKey = Buffer & { readonly __brand: 'MasterKey' };

/** A key derived from the master key for one purpose, e.g. the SQLCipher page key. */
export type DerivedKey = Buffer & { readonly __brand: 'DerivedKey' };

export const MASTER_KEY_BYTES = 32;

/** The purposes a key is derived for; each yields an independent key. */
/** 'allsource/audit' wraps the audit trail's Ed25519 checkpoint-signing key (kms/signing-key.ts). */
export type KeyPurpose = 'allsource/sqlcipher' | 'allsource/keyring' | 'allsource/jwt' | 'allsource/audit';

/** The master key could not be obtained or is malformed. The message never contains key material. */
export class MasterKeyError extends DomainError {
  readonly code = 'master_key_unavailable';
}

export function generateMasterKey(): MasterKey {
  return randomBytes(MASTER_KEY_BYTES) as MasterKey;
}

/** Parses 64 hexadecimal characters; `source` names where they came from for the error message. */
export function parseMasterKeyHex(text: string, source: string): MasterKey {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new MasterKeyError(`${source} must hold exactly 64 hexadecimal characters (a 256-bit key)`);
  }
  return Buffer.from(hex, 'hex') as MasterKey;
}

/** HKDF-SHA256 with an empty salt: the master key is already uniformly random. */
export function deriveKey(masterKey: MasterKey, purpose: KeyPurpose): DerivedKey {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), purpose, 32)) as DerivedKey;
}
