import { NONCE_BYTES, TAG_BYTES } from './aead.js';

/** `as:v<N>:` + base64(nonce ‖ ciphertext ‖ tag), as in DESIGN.md. */
const FORMAT = /^as:v([1-9][0-9]{0,9}):([A-Za-z0-9+/]+={0,2})$/;

export interface ParsedCiphertext {
  version: number;
  sealed: Buffer;
}

export function formatCiphertext(version: number, sealed: Buffer): string {
  return `as:v${version}:${sealed.toString('base64')}`;
}

/**
 * Parses a ciphertext string, or returns undefined. Base64 must be canonical (it re-encodes to the
 * same text), so that every changed character changes the bytes and fails authentication.
 */
export function parseCiphertext(text: unknown): ParsedCiphertext | undefined {
  if (typeof text !== 'string') return undefined;
  const match = FORMAT.exec(text);
  if (!match) return undefined;
  const version = Number(match[1]);
  const encoded = match[2] ?? '';
  if (!Number.isSafeInteger(version)) return undefined;
  const sealed = Buffer.from(encoded, 'base64');
  if (sealed.toString('base64') !== encoded) return undefined;
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  return { version, sealed };
}
