/** The embeddable server: what Electron's main process and library users import. */
export { createApp, StartupError, VERSION } from './app.js';
export type { App, AppOptions } from './app.js';
export { loadConfig, ConfigError } from './config/index.js';
export type { Config } from './config/index.js';
export { main } from './cli.js';
export { DomainError } from './errors/index.js';
// Library API for embedders (the seed's KmsManager and FieldEncryption), and the PKCS#11 protector.
export { createFieldEncryption, createKmsManager, KmsClosedError, Pkcs11Error, pkcs11Protector } from './kms/index.js';
export type {
  EncryptedField,
  EnvelopeCiphertext,
  FieldEncryption,
  KmsConfig,
  KmsKey,
  KmsManager,
  Pkcs11ProtectorOptions,
} from './kms/index.js';
