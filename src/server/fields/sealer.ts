import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { NONCE_BYTES, open, sealTextToBase64 } from '../kms/keyring/aead.js';
import type { PayloadSealer, PayloadView, SealJob, StoredEvent } from '../store/index.js';
import { locate, parsePointer } from './pointers.js';
import type { PolicyStore } from './policies.js';
import { FIELDS_KEY, type SubjectKey, type SubjectKeys } from './subject-keys.js';

/**
 * What the `sealed` column holds for an event with sealed values: the subject key generation, the
 * pointers sealed (in payload order) and one AES-256-GCM ciphertext of the JSON array of their
 * values. One ciphertext per event rather than per value: a GCM operation and a nonce cost more
 * than the JSON around them, and ingest pays for every one. In the stored payload each sealed value
 * is replaced by null, so the payload keeps its shape (array indices included) and holds nothing.
 */
interface SealedRecord {
  g: number;
  f: string[];
  c: string;
}

const SHREDDED = Object.freeze({ $shredded: true });

/**
 * Associated data: the ciphertext is bound to its tenant, subject, key generation, event and the
 * exact list of pointers, so it cannot be moved to another tenant, entity, event or field. A JSON
 * array is an unambiguous encoding of the list (no two lists serialise alike).
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
  const head = `["allsource/fields",${JSON.stringify(tenantId)},${JSON.stringify(entityId)},${generation},`;
  return Buffer.from(`${head}${JSON.stringify(eventId)},${pointersJson}]`, 'utf8');
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

function parseRecord(sealed: string): SealedRecord | undefined {
  try {
    const record = JSON.parse(sealed) as Partial<SealedRecord>;
    if (
      Number.isSafeInteger(record.g) &&
      Array.isArray(record.f) &&
      record.f.every((pointer) => typeof pointer === 'string') &&
      typeof record.c === 'string'
    ) {
      return record as SealedRecord;
    }
  } catch {
    // A hand-edited column: read as a broken ciphertext below.
  }
  return undefined;
}

/** The pointers of a record too broken to use otherwise, so that its values still read as markers. */
function pointersOf(sealed: string): string[] {
  try {
    const pointers = (JSON.parse(sealed) as { f?: unknown }).f;
    return Array.isArray(pointers) ? pointers.filter((pointer): pointer is string => typeof pointer === 'string') : [];
  } catch {
    return [];
  }
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
    const count = record?.f.length ?? 0;
    const same = (value: unknown) => Array.from({ length: count }, () => value);
    if (!record) return [];
    const key = subjectKeys.find(event.tenant_id, event.entity_id, record.g);
    if ('shredded' in key) {
      if (key.shredded) return same(SHREDDED);
      const version = subjectKeys.versionOf(event.tenant_id, event.entity_id, record.g);
      return same({ $encrypted: true, key: FIELDS_KEY, version, unavailable: key.reason });
    }
    const marker = { $encrypted: true, key: FIELDS_KEY, version: key.keyVersion };
    if (view === 'redacted') return same(marker);
    const plaintext = open(
      key.key,
      Buffer.from(record.c, 'base64'),
      eventAad(event.tenant_id, event.entity_id, record.g, event.id, JSON.stringify(record.f)),
    );
    const values = plaintext ? (JSON.parse(plaintext.toString('utf8')) as unknown) : undefined;
    if (!Array.isArray(values) || values.length !== count)
      return same({ ...marker, unavailable: 'invalid_ciphertext' });
    return values;
  }

  return {
    beginJob(): SealJob {
      // Keys this run of the job made or loaded; they reach the shared cache only once it commits.
      const used = new Map<string, { tenantId: string; entityId: string; key: SubjectKey }>();
      return {
        seal(tenantId, entityId, eventType, eventId, payload, payloadJson) {
          const policy = policies.compiled(tenantId, eventType);
          if (!policy) return { payloadJson, sealed: null };
          // Parallel arrays rather than an object per value: this runs for every sealed event.
          const pointers: string[] = [];
          const values: unknown[] = [];
          const slots: Slot[] = [];
          const keys: (string | number)[] = [];
          for (const field of policy.fields) {
            const found = locate(payload, field.tokens);
            if (!found) continue;
            const slot = found.parent as Slot;
            pointers.push(field.pointer);
            values.push(slot[found.key]);
            slots.push(slot);
            keys.push(found.key);
          }
          if (pointers.length === 0) return { payloadJson, sealed: null };
          // Serialise the payload with the sealed values nulled, then put them back: the caller's
          // object is unchanged (a job may run twice) and no copy of the payload is made.
          let storedJson: string;
          try {
            for (let i = 0; i < slots.length; i += 1) slots[i]![keys[i]!] = null;
            storedJson = JSON.stringify(payload);
          } finally {
            for (let i = 0; i < slots.length; i += 1) slots[i]![keys[i]!] = values[i];
          }
          let subjectKey = used.size === 0 ? undefined : used.get(`${tenantId}\u0000${entityId}`)?.key;
          if (!subjectKey) {
            const current = subjectKeys.current(tenantId, entityId);
            subjectKey = current.key;
            if (!current.cached) used.set(`${tenantId}\u0000${entityId}`, { tenantId, entityId, key: subjectKey });
          }
          const { generation, key } = subjectKey;
          const pointersJson =
            pointers.length === policy.fields.length ? policy.pointersJson : JSON.stringify(pointers);
          const ciphertext = sealTextToBase64(
            key,
            nonce(),
            JSON.stringify(values),
            eventAad(tenantId, entityId, generation, eventId, pointersJson),
          );
          // The SealedRecord as JSON, built directly: every part is already JSON text.
          return { payloadJson: storedJson, sealed: `{"g":${generation},"f":${pointersJson},"c":"${ciphertext}"}` };
        },
        committed() {
          for (const { tenantId, entityId, key } of used.values()) subjectKeys.remember(tenantId, entityId, key);
        },
      };
    },

    reveal(event, view) {
      if (event.sealed === null) return event;
      const record = parseRecord(event.sealed);
      const document = JSON.parse(event.payloadJson) as unknown;
      const values = revealValues(event, record, view);
      const targets = slots(document, record?.f ?? pointersOf(event.sealed));
      // A broken record still hides whatever its pointers hold: nothing leaks, nothing is guessed.
      targets.forEach(({ slot, key }, i) => {
        slot[key] =
          i < values.length ? values[i] : { $encrypted: true, key: FIELDS_KEY, unavailable: 'invalid_ciphertext' };
      });
      return { ...event, payloadJson: JSON.stringify(document) };
    },
  };
}
