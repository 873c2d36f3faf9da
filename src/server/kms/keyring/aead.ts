import { createCipheriv, createDecipheriv } from 'node:crypto';

/** AES-256-GCM as the keyring uses it: 12-byte nonce, 16-byte tag, sealed as nonce ‖ ciphertext ‖ tag. */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** Encrypts `plaintext`; `nonce` must be 12 fresh random bytes. */
export function seal(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/**
 * seal() for a text, answered in parts (ciphertext, tag) so that the caller lays them out without
 * another copy: the ingest path of field encryption, where every avoided allocation counts.
 */
export function sealText(key: Buffer, nonce: Buffer, plaintext: string, aad: Buffer): { body: Buffer; tag: Buffer } {
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext, 'utf8');
  cipher.final();
  return { body, tag: cipher.getAuthTag() };
}

/**
 * Decrypts nonce ‖ ciphertext ‖ tag, or returns undefined when anything does not check out
 * (short input, wrong key, wrong associated data, changed byte). The 16-byte tag is enforced.
 */
export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}

/**
 * Associated data: a purpose label, then each field as a 4-byte big-endian length and its bytes,
 * so no two different field lists encode the same (a `|` inside a field cannot shift a boundary).
 */
export function associatedData(label: string, fields: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of [label, ...fields]) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}
