import { NONCE_BYTES, TAG_BYTES } from '../kms/keyring/aead.js';

/**
 * What the `sealed` column holds for an event with sealed values: the subject key generation, the
 * pointers sealed (in payload order) and one AES-256-GCM ciphertext (nonce ‖ ciphertext ‖ tag) of
 * the JSON array of their values.
 *
 * Stored as a BLOB:
 *
 *     0x01 | generation: u32 BE | pointers length: u32 BE | pointers (JSON array, UTF-8) | nonce ‖ ciphertext ‖ tag
 *
 * Binary rather than JSON text because ingest writes one for every sealed event: binding a
 * ~135-byte text costs SQLite a UTF-8 copy and the row a third more bytes than the ~90-byte BLOB,
 * about 1.4 µs an event, measured (`npm run bench`). Records written before this format are JSON
 * text (`{"g", "f", "c": base64}`) and still read.
 */
export interface SealedRecord {
  generation: number;
  pointers: string[];
  /** nonce ‖ ciphertext ‖ tag. */
  sealed: Buffer;
}

const FORMAT = 0x01;
const HEADER_BYTES = 9;
const MAX_U32 = 0xffff_ffff;

/** The record's bytes; `pointersJson` is already JSON.stringify(pointers), which the AAD binds too. */
export function encodeSealedRecord(
  generation: number,
  pointersJson: Buffer,
  nonce: Buffer,
  body: Buffer,
  tag: Buffer,
): Buffer {
  if (!Number.isInteger(generation) || generation < 0 || generation > MAX_U32) {
    throw new RangeError(`subject key generation ${generation} does not fit the sealed record`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + pointersJson.length + nonce.length + body.length + tag.length);
  out[0] = FORMAT;
  out.writeUInt32BE(generation, 1);
  out.writeUInt32BE(pointersJson.length, 5);
  let offset = HEADER_BYTES;
  out.set(pointersJson, offset);
  offset += pointersJson.length;
  out.set(nonce, offset);
  offset += nonce.length;
  out.set(body, offset);
  offset += body.length;
  out.set(tag, offset);
  return out;
}

function isPointerList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((pointer) => typeof pointer === 'string');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function decodeBlob(bytes: Buffer): SealedRecord | undefined {
  if (bytes.length < HEADER_BYTES || bytes[0] !== FORMAT) return undefined;
  const generation = bytes.readUInt32BE(1);
  const pointersLength = bytes.readUInt32BE(5);
  const sealedStart = HEADER_BYTES + pointersLength;
  if (sealedStart + NONCE_BYTES + TAG_BYTES > bytes.length) return undefined;
  const pointers = parseJson(bytes.toString('utf8', HEADER_BYTES, sealedStart));
  if (!isPointerList(pointers)) return undefined;
  return { generation, pointers, sealed: bytes.subarray(sealedStart) };
}

function decodeLegacyText(text: string): SealedRecord | undefined {
  const record = parseJson(text) as { g?: unknown; f?: unknown; c?: unknown } | undefined;
  if (
    typeof record !== 'object' ||
    record === null ||
    !Number.isSafeInteger(record.g) ||
    !isPointerList(record.f) ||
    typeof record.c !== 'string'
  ) {
    return undefined;
  }
  return { generation: record.g as number, pointers: record.f, sealed: Buffer.from(record.c, 'base64') };
}

/** The record, or undefined when the column was tampered with beyond reading. */
export function decodeSealedRecord(column: Buffer | string): SealedRecord | undefined {
  return typeof column === 'string' ? decodeLegacyText(column) : decodeBlob(column);
}

/**
 * The pointers of a record too broken to decode otherwise, so that its values still read as
 * markers: a damaged ciphertext must not turn into the stored nulls silently.
 */
export function pointersOfBroken(column: Buffer | string): string[] {
  if (typeof column === 'string') {
    const pointers = (parseJson(column) as { f?: unknown } | undefined)?.f;
    return Array.isArray(pointers) ? pointers.filter((pointer): pointer is string => typeof pointer === 'string') : [];
  }
  if (column.length < HEADER_BYTES) return [];
  const end = Math.min(column.length, HEADER_BYTES + column.readUInt32BE(5));
  const pointers = parseJson(column.toString('utf8', HEADER_BYTES, end));
  return Array.isArray(pointers) ? pointers.filter((pointer): pointer is string => typeof pointer === 'string') : [];
}
