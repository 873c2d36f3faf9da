import { associatedData } from '../keyring/aead.js';
import { InvalidCiphertextError, InvalidRequestError } from './errors.js';
import type { EnvelopeCiphertext, KmsKey, KmsManager } from './types.js';

/** One encrypted value, plain JSON: store it in place of the value. */
export interface EncryptedField {
  format: 'allsource/encrypted-field/v1';
  /** The field the value belongs to; bound as associated data, so it cannot be moved to another field. */
  fieldName: string;
  envelope: EnvelopeCiphertext;
}

/** The seed's FieldEncryption: strings in, JSON-serialisable ciphertexts out, over a KmsManager key. */
export interface FieldEncryption {
  readonly keyId: string;
  encryptString(value: string, fieldName: string): Promise<EncryptedField>;
  /**
   * Decrypts; with `fieldName`, also checks the value was encrypted for that field (pass it
   * whenever you know where the value was read from).
   */
  decryptString(encrypted: EncryptedField, fieldName?: string): Promise<string>;
  /** New key version for new values; values under older versions still decrypt. Returns the key's new state. */
  rotateKeys(): Promise<KmsKey>;
}

export interface FieldEncryptionOptions {
  kms: KmsManager;
  /** A key that exists: create it first with kms.createKey(). */
  keyId: string;
}

const FORMAT = 'allsource/encrypted-field/v1';
const FIELD_LABEL = 'allsource/field/v1';

function fieldContext(fieldName: string): Buffer {
  return associatedData(FIELD_LABEL, [fieldName]);
}

function checkFieldName(fieldName: unknown): string {
  if (typeof fieldName !== 'string' || fieldName.length === 0 || fieldName.length > 1024) {
    throw new InvalidRequestError('invalid field name', [
      { path: '/field_name', problem: 'must be a string of 1 to 1024 characters' },
    ]);
  }
  return fieldName;
}

/**
 * Field-level encryption over a KmsManager key (local keyring or PKCS#11 token): each value gets
 * its own data key (envelope encryption), and the field name is bound as associated data.
 *
 * @example
 * const fields = createFieldEncryption({ kms, keyId: 'pii' });
 * const encrypted = await fields.encryptString('123-45-6789', 'ssn');
 * const json = JSON.stringify(encrypted);
 * const ssn = await fields.decryptString(JSON.parse(json), 'ssn');
 * await fields.rotateKeys(); // existing values stay readable
 */
export function createFieldEncryption(options: FieldEncryptionOptions): FieldEncryption {
  const { kms, keyId } = options;
  return {
    keyId,

    async encryptString(value, fieldName) {
      if (typeof value !== 'string') {
        throw new InvalidRequestError('value must be a string', [{ path: '/value', problem: 'must be a string' }]);
      }
      const name = checkFieldName(fieldName);
      const bytes = Buffer.from(value, 'utf8');
      try {
        const envelope = await kms.envelopeEncrypt(keyId, bytes, { context: fieldContext(name) });
        return { format: FORMAT, fieldName: name, envelope };
      } finally {
        bytes.fill(0);
      }
    },

    async decryptString(encrypted, fieldName) {
      const e = encrypted as Partial<EncryptedField> | null;
      if (typeof e !== 'object' || e === null || e.format !== FORMAT || typeof e.fieldName !== 'string') {
        throw new InvalidCiphertextError();
      }
      if (fieldName !== undefined && checkFieldName(fieldName) !== e.fieldName) throw new InvalidCiphertextError();
      // Values of this FieldEncryption are under its key only; another key's envelope is foreign.
      if (typeof e.envelope !== 'object' || e.envelope === null || e.envelope.keyId !== keyId) {
        throw new InvalidCiphertextError();
      }
      const bytes = Buffer.from(await kms.envelopeDecrypt(e.envelope, { context: fieldContext(e.fieldName) }));
      try {
        // fatal: bytes that authenticate but are not UTF-8 were not made by encryptString.
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new InvalidCiphertextError();
      } finally {
        bytes.fill(0);
      }
    },

    rotateKeys: () => kms.rotateKey(keyId),
  };
}
