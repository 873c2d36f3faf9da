export { createFieldCrypto } from './field-crypto.js';
export type { FieldCrypto, FieldCryptoDependencies, ForgetResult } from './field-crypto.js';
export type { EncryptionPolicy, PolicyStore } from './policies.js';
export type { RewrapStatus } from './rewrap-job.js';
export { FIELDS_KEY } from './subject-keys.js';
export { checkPolicyFields, parsePointer, MAX_POLICY_FIELDS } from './pointers.js';
export type { SealPoolOptions, SealWorkerStatus } from './seal-pool.js';
