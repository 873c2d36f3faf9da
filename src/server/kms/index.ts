export { deriveKey, generateMasterKey, MASTER_KEY_BYTES, MasterKeyError, parseMasterKeyHex } from './master-key.js';
export type { DerivedKey, KeyPurpose, MasterKey } from './master-key.js';
export { environmentProtector, keyFileProtector, selectProtector } from './protectors.js';
export type { MasterKeyProtector } from './protectors.js';
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
