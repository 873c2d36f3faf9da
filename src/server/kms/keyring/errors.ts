import { DomainError } from '../../errors/index.js';

export { InvalidRequestError, NotFoundError } from '../../errors/index.js';

/**
 * A ciphertext that is malformed, was changed, belongs to another tenant, key or context, or names
 * a version this key never had. One message for every case: it must not help an attacker tell them
 * apart, and it never echoes the ciphertext. HTTP: 400.
 */
export class InvalidCiphertextError extends DomainError {
  readonly code = 'invalid_ciphertext';

  constructor() {
    super('the ciphertext is invalid for this key');
  }
}

/**
 * The ciphertext is well formed but its version is below the key's min_decryption_version.
 * Distinct from invalid_ciphertext because the version is in clear in the ciphertext anyway, and
 * the caller needs to know that an administrator retired it (not that the data was tampered with).
 * HTTP: 400 (suggested).
 */
export class KeyVersionDisabledError extends DomainError {
  readonly code = 'key_version_disabled';

  constructor(name: string, version: number, minDecryptionVersion: number) {
    super(
      `version ${version} of key ${JSON.stringify(name)} is below its min_decryption_version (${minDecryptionVersion})`,
      { name, version, min_decryption_version: minDecryptionVersion },
    );
  }
}

/** The key is disabled: no encrypt, decrypt, rewrap or data key until it is enabled. HTTP: 409 (suggested). */
export class KeyDisabledError extends DomainError {
  readonly code = 'key_disabled';

  constructor(name: string) {
    super(`key ${JSON.stringify(name)} is disabled`, { name });
  }
}

/** The key was destroyed: its material is gone for good. HTTP: 410 (suggested). */
export class KeyDestroyedError extends DomainError {
  readonly code = 'key_destroyed';

  constructor(name: string) {
    super(`key ${JSON.stringify(name)} was destroyed and can never be used again`, { name });
  }
}

/** A key of that name already exists for the tenant (destroyed keys keep their name). HTTP: 409. */
export class KeyConflictError extends DomainError {
  readonly code = 'conflict';

  constructor(name: string) {
    super(`a key named ${JSON.stringify(name)} already exists`, { name });
  }
}

/**
 * Stored key material does not decrypt under the keyring KEK: the row was moved or changed, or the
 * master key is not the one the keyring was made with. Not the caller's fault. HTTP: 500.
 */
export class KeyMaterialCorruptError extends DomainError {
  readonly code = 'key_material_corrupt';

  constructor(name: string, version: number) {
    super(`the stored material of version ${version} of key ${JSON.stringify(name)} does not decrypt`, {
      name,
      version,
    });
  }
}
