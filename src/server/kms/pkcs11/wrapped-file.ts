import { decodeBase64 } from './base64.js';

/** The JSON file that holds the master key wrapped by the token key (no secret in it without the token). */
export interface WrappedMasterKeyFile {
  format: typeof WRAPPED_KEY_FORMAT;
  version: 1;
  mechanism: 'CKM_AES_GCM';
  /** Label of the token key that wrapped it; informative, and bound as associated data. */
  key_label: string;
  /** 12 bytes, base64. */
  iv: string;
  /** AES-256-GCM ciphertext of the 32-byte master key ‖ 16-byte tag, base64. */
  ciphertext: string;
}

export const WRAPPED_KEY_FORMAT = 'allsource/pkcs11-wrapped-master-key';
const IV_BYTES = 12;
const SEALED_BYTES = 32 + 16;

/** What parseWrappedMasterKey hands back: bytes ready for C_Decrypt. */
export interface WrappedMasterKey {
  keyLabel: string;
  iv: Buffer;
  sealed: Buffer;
}

/** Serialises a wrapped master key (iv and ciphertext ‖ tag) as the file's JSON text. */
export function formatWrappedMasterKey(keyLabel: string, iv: Buffer, sealed: Buffer): string {
  const file: WrappedMasterKeyFile = {
    format: WRAPPED_KEY_FORMAT,
    version: 1,
    mechanism: 'CKM_AES_GCM',
    key_label: keyLabel,
    iv: iv.toString('base64'),
    ciphertext: sealed.toString('base64'),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Parses the file strictly, or returns undefined: unknown formats, versions or mechanisms, and
 * non-canonical base64 or wrong lengths, are all "damaged", and GCM then catches changed bytes.
 */
export function parseWrappedMasterKey(text: string): WrappedMasterKey | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const file = value as Partial<Record<keyof WrappedMasterKeyFile, unknown>>;
  if (file.format !== WRAPPED_KEY_FORMAT || file.version !== 1 || file.mechanism !== 'CKM_AES_GCM') return undefined;
  if (typeof file.key_label !== 'string' || file.key_label.length === 0) return undefined;
  const iv = decodeBase64(file.iv, IV_BYTES);
  const sealed = decodeBase64(file.ciphertext, SEALED_BYTES);
  if (iv === undefined || sealed === undefined) return undefined;
  return { keyLabel: file.key_label, iv, sealed };
}
