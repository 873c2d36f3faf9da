export { PassphraseRequiredError, WeakPassphraseError, WrongPassphraseError } from './errors.js';
export {
  DEFAULT_KDF,
  parsePassphraseFile,
  PASSPHRASE_FILE_FORMAT,
  serializePassphraseFile,
  unwrapWithPassphrase,
  wrapWithPassphrase,
} from './format.js';
export type { KdfParams, PassphraseFile } from './format.js';
export { checkNewPassphrase, MAX_PASSPHRASE_LENGTH, MIN_PASSPHRASE_LENGTH, normalizePassphrase } from './policy.js';
export { changePassphrase, passphraseProtector, writePassphraseFile } from './protector.js';
export type { PassphraseProtector } from './protector.js';
