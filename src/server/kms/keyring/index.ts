export { createKeyring, DEFAULT_ROTATE_AFTER } from './keyring.js';
export type { DataKeyOptions, DataKeyResult, KeyConfig, Keyring, KeyMetadata, KeyringDependencies } from './types.js';
export type { DataKey, VersionKey } from './version-keys.js';
export {
  InvalidCiphertextError,
  KeyConflictError,
  KeyDestroyedError,
  KeyDisabledError,
  KeyMaterialCorruptError,
  KeyVersionDisabledError,
} from './errors.js';
