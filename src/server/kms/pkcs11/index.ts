export { Pkcs11Error } from './errors.js';
export type { Pkcs11FailureReason } from './errors.js';
export { pkcs11Protector } from './protector.js';
export type { Pkcs11Protector, Pkcs11ProtectorOptions } from './protector.js';
export { Pkcs11Session, withPkcs11Session } from './session.js';
export type { ObjectHandle, Pkcs11TokenOptions, SecretKeyAttributes } from './session.js';
export { WRAPPED_KEY_FORMAT } from './wrapped-file.js';
export type { WrappedMasterKeyFile } from './wrapped-file.js';
