/** A source of cryptographically strong random bytes (node:crypto's randomBytes in the app). */
export type RandomBytes = (size: number) => Buffer;

export function uuidTextOf(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** 16 random bytes laid out as a version-4 UUID (RFC 9562). */
export function uuidV4Bytes(randomBytes: RandomBytes): Buffer {
  const bytes = Buffer.from(randomBytes(16));
  bytes[6] = 0x40 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return bytes;
}

export const newUuidV4 = (randomBytes: RandomBytes): string => uuidTextOf(uuidV4Bytes(randomBytes));

/**
 * A UUIDv7 whose 48-bit timestamp is `ms`. Token ids are these: the issue time in milliseconds
 * travels inside the signed `jti`, finer than the whole seconds of `iat`.
 */
export function newUuidV7(ms: number, randomBytes: RandomBytes): string {
  const bytes = Buffer.from(randomBytes(16));
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return uuidTextOf(bytes);
}

const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The millisecond timestamp of a UUIDv7, or undefined for anything else. */
export function msOfUuidV7(text: string): number | undefined {
  const match = UUID_V7.exec(text);
  return match ? Number.parseInt(match[1]! + match[2]!, 16) : undefined;
}
