/**
 * Decodes canonical base64 (it re-encodes to the same text), or returns undefined. Canonical only,
 * so that every changed character changes the bytes and authentication catches it.
 */
export function decodeBase64(text: unknown, length?: number): Buffer | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined;
  if (length !== undefined && bytes.length !== length) return undefined;
  return bytes;
}
