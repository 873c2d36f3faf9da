import { NONCE_BYTES, sealText } from '../kms/keyring/aead.js';
import { locate } from './pointers.js';
import type { PreparedPayload } from '../store/index.js';
import { encodeSealedRecord } from './sealed-record.js';

/**
 * Sealing one payload: the part of field encryption that needs no database, shared by the
 * sealer on the main thread and the seal worker (seal-worker.ts), so both write the same record.
 */

/** The policy as sealing needs it (CompiledPolicy satisfies it). */
export interface SealPolicy {
  fields: readonly { pointer: string; tokens: readonly string[] }[];
  /** JSON.stringify of every pointer. */
  pointersJson: string;
  /** pointersJson as UTF-8. */
  pointersBytes: Buffer;
}

export interface SealKey {
  generation: number;
  key: Buffer;
}

type Slot = Record<string | number, unknown>;

/** AAD texts are written here rather than into a new Buffer each: setAAD copies them at once. */
const aadScratch = Buffer.allocUnsafe(4096);

/**
 * Associated data: the ciphertext is bound to its tenant, subject, key generation, event and the
 * exact list of pointers, so it cannot be moved to another tenant, entity, event or field. A JSON
 * array is an unambiguous encoding of the list (no two lists serialise alike). The Buffer answered
 * is only good until the next call.
 */
export function eventAad(
  tenantId: string,
  entityId: string,
  generation: number,
  eventId: string,
  pointersJson: string,
): Buffer {
  // Byte for byte JSON.stringify(['allsource/fields', tenantId, entityId, generation, eventId, pointers]),
  // built around the policy's pointer list, serialised once.
  const text = `["allsource/fields",${JSON.stringify(tenantId)},${JSON.stringify(entityId)},${generation},${JSON.stringify(eventId)},${pointersJson}]`;
  // At most 3 UTF-8 bytes per UTF-16 unit: a text that may not fit gets its own Buffer.
  if (text.length * 3 > aadScratch.length) return Buffer.from(text, 'utf8');
  return aadScratch.subarray(0, aadScratch.write(text, 0, 'utf8'));
}

/** Nonces come from a pool: one randomBytes call per 4,096 of them instead of one per event. */
function createNoncePool(random: (size: number) => Buffer): () => Buffer {
  const perFill = 4096;
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset >= pool.length) {
      pool = random(NONCE_BYTES * perFill);
      offset = 0;
    }
    const nonce = pool.subarray(offset, offset + NONCE_BYTES);
    offset += NONCE_BYTES;
    return nonce;
  };
}

/**
 * Takes the policy's values out of the payload: undefined when it holds none. `payload` is
 * changed only during the call: the caller's object comes back as it went in. Not re-entrant: it
 * reuses its scratch arrays from one event to the next.
 */
export function createSealPreparation() {
  // Where the sealed values are, as parallel arrays reused from one event to the next: this runs
  // for every sealed event.
  const foundSlots: Slot[] = [];
  const foundKeys: (string | number)[] = [];
  const foundValues: unknown[] = [];
  const foundPointers: string[] = [];

  return function prepareSeal(policy: SealPolicy, payload: unknown): PreparedPayload | undefined {
    const fields = policy.fields;
    let count = 0;
    let everyField = true;
    for (let i = 0; i < fields.length; i += 1) {
      const found = locate(payload, fields[i]!.tokens);
      if (!found) {
        everyField = false;
        continue;
      }
      const slot = found.parent as Slot;
      foundSlots[count] = slot;
      foundKeys[count] = found.key;
      foundValues[count] = slot[found.key];
      foundPointers[count] = fields[i]!.pointer;
      count += 1;
    }
    if (count === 0) return undefined;
    foundSlots.length = count;
    foundKeys.length = count;
    foundValues.length = count;
    foundPointers.length = count;
    const pointersJson = everyField ? policy.pointersJson : JSON.stringify(foundPointers);
    // Serialise the payload with the sealed values nulled, then put them back: no copy of the
    // payload is made.
    let payloadJson: string;
    let valuesJson: string;
    try {
      for (let i = 0; i < count; i += 1) foundSlots[i]![foundKeys[i]!] = null;
      payloadJson = JSON.stringify(payload);
    } finally {
      for (let i = 0; i < count; i += 1) foundSlots[i]![foundKeys[i]!] = foundValues[i];
      valuesJson = JSON.stringify(foundValues);
      // Hold no reference to the caller's payload past this call.
      foundSlots.length = 0;
      foundKeys.length = 0;
      foundValues.length = 0;
      foundPointers.length = 0;
    }
    const pointersBytes = everyField ? policy.pointersBytes : Buffer.from(pointersJson, 'utf8');
    return { payloadJson, valuesJson, pointersJson, pointersBytes };
  };
}

/** Encrypts prepared values into a sealed record, with its own nonce pool. */
export function createRecordSealing(random: (size: number) => Buffer) {
  const nonce = createNoncePool(random);
  return function sealRecord(
    valuesJson: string,
    pointersJson: string,
    pointersBytes: Buffer,
    tenantId: string,
    entityId: string,
    eventId: string,
    subjectKey: SealKey,
  ): Buffer {
    const { generation, key } = subjectKey;
    const eventNonce = nonce();
    const { body, tag } = sealText(
      key,
      eventNonce,
      valuesJson,
      eventAad(tenantId, entityId, generation, eventId, pointersJson),
    );
    return encodeSealedRecord(generation, pointersBytes, eventNonce, body, tag);
  };
}

export type SealRecord = ReturnType<typeof createRecordSealing>;
