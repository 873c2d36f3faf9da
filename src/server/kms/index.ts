export { deriveKey, generateMasterKey, MASTER_KEY_BYTES, MasterKeyError, parseMasterKeyHex } from './master-key.js';
export type { DerivedKey, KeyPurpose, MasterKey } from './master-key.js';
export { environmentProtector, keyFileProtector, selectProtector } from './protectors.js';
export type { MasterKeyProtector } from './protectors.js';
