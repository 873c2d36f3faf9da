import { uuidTextOf, uuidV4Bytes, type RandomBytes } from './ids.js';

export const API_KEY_PREFIX = 'ask_';
const KEY_ID_BYTES = 16;
const SECRET_BYTES = 32;
/** base64url of 48 bytes, unpadded. */
const BODY = /^[A-Za-z0-9_-]{64}$/;

/** A raw API key taken apart. The secret never leaves the identity module. */
export interface ParsedApiKey {
  /** The key id as UUID text: what is stored, listed and revoked by. */
  id: string;
  secret: Buffer;
}

/**
 * `ask_` + base64url(16-byte key id || 32-byte secret): 68 characters.
 * @example formatApiKey(randomBytes(16), randomBytes(32)) // 'ask_…'
 */
export function formatApiKey(keyId: Uint8Array, secret: Uint8Array): string {
  if (keyId.length !== KEY_ID_BYTES || secret.length !== SECRET_BYTES) throw new RangeError('bad API key parts');
  return API_KEY_PREFIX + Buffer.concat([keyId, secret]).toString('base64url');
}

/** The key's id and secret, or undefined for anything that is not exactly a well-formed key. */
export function parseApiKey(raw: string): ParsedApiKey | undefined {
  if (!raw.startsWith(API_KEY_PREFIX)) return undefined;
  const body = raw.slice(API_KEY_PREFIX.length);
  if (!BODY.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  // 64 characters hold exactly 48 bytes, so every body that passes the pattern is canonical.
  if (bytes.length !== KEY_ID_BYTES + SECRET_BYTES) return undefined;
  return { id: uuidTextOf(bytes.subarray(0, KEY_ID_BYTES)), secret: bytes.subarray(KEY_ID_BYTES) };
}

/** A new key id (laid out as a version-4 UUID) and secret. */
export function newApiKeyParts(randomBytes: RandomBytes): { keyId: Buffer; secret: Buffer } {
  return { keyId: uuidV4Bytes(randomBytes), secret: Buffer.from(randomBytes(SECRET_BYTES)) };
}

/** A new raw API key, e.g. for ALLSOURCE_BOOTSTRAP_API_KEY (`allsource new-api-key` prints one). */
export function generateApiKey(randomBytes: RandomBytes): string {
  const { keyId, secret } = newApiKeyParts(randomBytes);
  return formatApiKey(keyId, secret);
}
