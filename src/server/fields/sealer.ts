import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { NONCE_BYTES, open, sealText } from '../kms/keyring/aead.js';
import type { PayloadSealer, PayloadView, SealJob, StoredEvent } from '../store/index.js';
import { locate, parsePointer } from './pointers.js';
import type { PolicyStore } from './policies.js';
import { decodeSealedRecord, encodeSealedRecord, pointersOfBroken, type SealedRecord } from './sealed-record.js';
import { FIELDS_KEY, type SubjectKey, type SubjectKeys } from './subject-keys.js';

/*
 * One ciphertext per event rather than per value: a GCM operation and a nonce cost more than the
 * JSON around them, and ingest pays for every one. In the stored payload each sealed value is
 * replaced by null, so the payload keeps its shape (array indices included) and holds nothing.
 * The record's layout is in sealed-record.ts.
 */

const SHREDDED = Object.freeze({ $shredded: true });

/** AAD texts are written here rather than into a new Buffer each: setAAD copies them at once. */
const aadScratch = Buffer.allocUnsafe(4096);

/**
 * Associated data: the ciphertext is bound to its tenant, subject, key generation, event and the
 * exact list of pointers, so it cannot be moved to another tenant, entity, event or field. A JSON
 * array is an unambiguous encoding of the list (no two lists serialise alike). The Buffer answered
 * is only good until the next call.
 */
function eventAad(
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

export interface SealerDependencies {
  policies: PolicyStore;
  subjectKeys: SubjectKeys;
  randomBytes?: (size: number) => Buffer;
}

type Slot = Record<string | number, unknown>;

/** Each pointer's location in the document, skipping pointers that no longer resolve. */
function slots(document: unknown, pointers: readonly string[]): { slot: Slot; key: string | number }[] {
  const found: { slot: Slot; key: string | number }[] = [];
  for (const pointer of pointers) {
    const tokens = parsePointer(pointer);
    const at = typeof tokens === 'string' ? undefined : locate(document, tokens);
    if (at) found.push({ slot: at.parent as Slot, key: at.key });
  }
  return found;
}

/**
 * The store's PayloadSealer: at ingest, encrypts the values the tenant's policy names under the
 * subject's data key; at read, shows them decrypted, as `$encrypted` markers, or as `$shredded`.
 */
export function createSealer(deps: SealerDependencies): PayloadSealer {
  const { policies, subjectKeys } = deps;
  const nonce = createNoncePool(deps.randomBytes ?? cryptoRandomBytes);

  /** The values as this view may see them, one per pointer. */
  function revealValues(event: StoredEvent, record: SealedRecord | undefined, view: PayloadView): unknown[] {
    if (!record) return [];
    const count = record.pointers.length;
    const same = (value: unknown) => Array.from({ length: count }, () => value);
    const key = subjectKeys.find(event.tenant_id, event.entity_id, record.generation);
    if ('shredded' in key) {
      if (key.shredded) return same(SHREDDED);
      const version = subjectKeys.versionOf(event.tenant_id, event.entity_id, record.generation);
      return same({ $encrypted: true, key: FIELDS_KEY, version, unavailable: key.reason });
    }
    const marker = { $encrypted: true, key: FIELDS_KEY, version: key.keyVersion };
    if (view === 'redacted') return same(marker);
    const plaintext = open(
      key.key,
      record.sealed,
      eventAad(event.tenant_id, event.entity_id, record.generation, event.id, JSON.stringify(record.pointers)),
    );
    const values = plaintext ? (JSON.parse(plaintext.toString('utf8')) as unknown) : undefined;
    if (!Array.isArray(values) || values.length !== count)
      return same({ ...marker, unavailable: 'invalid_ciphertext' });
    return values;
  }

  // Where the sealed values of the event being sealed are, as parallel arrays reused from one
  // event to the next: seal() runs for every sealed event and never re-enters itself.
  const foundSlots: Slot[] = [];
  const foundKeys: (string | number)[] = [];
  const foundValues: unknown[] = [];
  const foundPointers: string[] = [];

  /** The subject's current key: cached, or made or loaded by this run of the job (kept in `used`). */
  function currentKey(
    used: Map<string, { tenantId: string; entityId: string; key: SubjectKey }>,
    tenantId: string,
    entityId: string,
  ): SubjectKey {
    const cached = subjectKeys.cachedCurrent(tenantId, entityId);
    if (cached) return cached;
    const subject = `${tenantId}\u0000${entityId}`;
    const mine = used.get(subject);
    if (mine) return mine.key;
    const { key, cached: wasCached } = subjectKeys.current(tenantId, entityId);
    if (!wasCached) used.set(subject, { tenantId, entityId, key });
    return key;
  }

  return {
    beginJob(): SealJob {
      // Keys this run of the job made or loaded; they reach the shared cache only once it commits.
      const used = new Map<string, { tenantId: string; entityId: string; key: SubjectKey }>();
      return {
        seal(tenantId, entityId, eventType, eventId, payload, payloadJson) {
          const policy = policies.compiled(tenantId, eventType);
          if (!policy) return { payloadJson, sealed: null };
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
          if (count === 0) return { payloadJson, sealed: null };
          foundSlots.length = count;
          foundKeys.length = count;
          foundValues.length = count;
          foundPointers.length = count;
          const pointersJson = everyField ? policy.pointersJson : JSON.stringify(foundPointers);
          // Serialise the payload with the sealed values nulled, then put them back: the caller's
          // object is unchanged (a job may run twice) and no copy of the payload is made.
          let storedJson: string;
          let valuesJson: string;
          try {
            for (let i = 0; i < count; i += 1) foundSlots[i]![foundKeys[i]!] = null;
            storedJson = JSON.stringify(payload);
          } finally {
            for (let i = 0; i < count; i += 1) foundSlots[i]![foundKeys[i]!] = foundValues[i];
            valuesJson = JSON.stringify(foundValues);
            // Hold no reference to the caller's payload past this call.
            foundSlots.length = 0;
            foundKeys.length = 0;
            foundValues.length = 0;
            foundPointers.length = 0;
          }
          const { generation, key } = currentKey(used, tenantId, entityId);
          const pointersBytes = everyField ? policy.pointersBytes : Buffer.from(pointersJson, 'utf8');
          const eventNonce = nonce();
          const { body, tag } = sealText(
            key,
            eventNonce,
            valuesJson,
            eventAad(tenantId, entityId, generation, eventId, pointersJson),
          );
          return {
            payloadJson: storedJson,
            sealed: encodeSealedRecord(generation, pointersBytes, eventNonce, body, tag),
          };
        },
        committed() {
          for (const { tenantId, entityId, key } of used.values()) subjectKeys.remember(tenantId, entityId, key);
        },
      };
    },

    reveal(event, view) {
      if (event.sealed === null) return event;
      const record = decodeSealedRecord(event.sealed);
      const document = JSON.parse(event.payloadJson) as unknown;
      const values = revealValues(event, record, view);
      const targets = slots(document, record?.pointers ?? pointersOfBroken(event.sealed));
      // A broken record still hides whatever its pointers hold: nothing leaks, nothing is guessed.
      targets.forEach(({ slot, key }, i) => {
        slot[key] =
          i < values.length ? values[i] : { $encrypted: true, key: FIELDS_KEY, unavailable: 'invalid_ciphertext' };
      });
      return { ...event, payloadJson: JSON.stringify(document) };
    },
  };
}
