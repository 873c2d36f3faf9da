export { deriveKey, generateMasterKey, MASTER_KEY_BYTES, MasterKeyError, parseMasterKeyHex } from './master-key.js';
export type { DerivedKey, KeyPurpose, MasterKey } from './master-key.js';
export { createKeyFile, environmentProtector, keyFileProtector } from './protectors.js';
export type { LoadOptions, MasterKeyProtector, PendingKeySlot, ProtectorKind } from './protectors.js';
export { selectProtector } from './select.js';
export { generateSigningKey, publicKeyOf, unwrapSigningKey, wrapSigningKey } from './signing-key.js';
export type { NewSigningKey } from './signing-key.js';
export type { ConfiguredProtector, ProtectorSettings } from './select.js';
export { keychainProtector } from './keychain.js';
export type { SecretStorage } from './keychain.js';
export { fsyncDirectory, renameDurably, shredFile, writeFileAtomic } from './atomic-file.js';
export {
  changePassphrase,
  checkNewPassphrase,
  DEFAULT_KDF,
  MAX_PASSPHRASE_LENGTH,
  MIN_PASSPHRASE_LENGTH,
  passphraseProtector,
  PassphraseRequiredError,
  WeakPassphraseError,
  writePassphraseFile,
  WrongPassphraseError,
} from './passphrase/index.js';
export type { KdfParams, PassphraseProtector } from './passphrase/index.js';
export {
  createKeyring,
  DEFAULT_ROTATE_AFTER,
  InvalidCiphertextError,
  KeyConflictError,
  KeyDestroyedError,
  KeyDisabledError,
  KeyMaterialCorruptError,
  KeyVersionDisabledError,
} from './keyring/index.js';
export type {
  DataKeyOptions,
  DataKeyResult,
  KeyConfig,
  Keyring,
  KeyMetadata,
  KeyringDependencies,
} from './keyring/index.js';
export { Pkcs11Error, pkcs11Protector, Pkcs11Session, withPkcs11Session, WRAPPED_KEY_FORMAT } from './pkcs11/index.js';
export type {
  Pkcs11FailureReason,
  Pkcs11Protector,
  Pkcs11ProtectorOptions,
  Pkcs11TokenOptions,
  WrappedMasterKeyFile,
} from './pkcs11/index.js';
export { createFieldEncryption, createKmsManager, ENVELOPE_FORMAT, KmsClosedError } from './library/index.js';
export type {
  EncryptedField,
  EnvelopeCiphertext,
  EnvelopeOptions,
  FieldEncryption,
  FieldEncryptionOptions,
  KmsConfig,
  KmsKey,
  KmsKeyAlgorithm,
  KmsKeyPurpose,
  KmsManager,
  KmsProvider,
  LocalKmsConfig,
  Pkcs11KmsConfig,
} from './library/index.js';
