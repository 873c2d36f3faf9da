export { createKmsManager } from './kms-manager.js';
export { createFieldEncryption } from './field-encryption.js';
export type { EncryptedField, FieldEncryption, FieldEncryptionOptions } from './field-encryption.js';
export { KmsClosedError } from './errors.js';
export { ENVELOPE_FORMAT } from './envelope.js';
export type {
  EnvelopeCiphertext,
  EnvelopeOptions,
  KmsConfig,
  KmsKey,
  KmsKeyAlgorithm,
  KmsKeyPurpose,
  KmsManager,
  KmsProvider,
  LocalKmsConfig,
  Pkcs11KmsConfig,
} from './types.js';
