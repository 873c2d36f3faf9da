import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { associatedData, NONCE_BYTES, open, seal } from '../kms/keyring/aead.js';
import type { PayloadSealer, PayloadView, SealJob, StoredEvent } from '../store/index.js';
import { locate, parsePointer } from './pointers.js';
import type { PolicyStore } from './policies.js';
import { FIELDS_KEY, type SubjectKey, type SubjectKeys } from './subject-keys.js';

/**
 * A sealed value as stored in the payload: `asf:<generation>:<base64(nonce ‖ ciphertext ‖ tag)>`.
 * Only the pointers listed in the event's `sealed` column are read as ciphertexts, so a client
 * that sends a string of this shape elsewhere gets it back verbatim.
 */
const SEALED_VALUE = /^asf:([1-9][0-9]{0,15}):([A-Za-z0-9+/]+={0,2})$/;

const SHREDDED = Object.freeze({ $shredded: true });

/** Associated data: a field's ciphertext is bound to its tenant, subject, key generation and pointer. */
function fieldAad(tenantId: string, entityId: string, generation: number, pointer: string): Buffer {
  return associatedData('allsource/field', [tenantId, entityId, String(generation), pointer]);
}

export interface SealerDependencies {
  policies: PolicyStore;
  subjectKeys: SubjectKeys;
  randomBytes?: (size: number) => Buffer;
}

/**
 * The store's PayloadSealer: at ingest, encrypts the values the tenant's policy names under the
 * subject's data key; at read, shows them decrypted, as `$encrypted` markers, or as `$shredded`.
 */
export function createSealer(deps: SealerDependencies): PayloadSealer {
  const { policies, subjectKeys } = deps;
  const random = deps.randomBytes ?? cryptoRandomBytes;

  function marker(tenantId: string, entityId: string, generation: number, extra: Record<string, unknown> = {}) {
    const version = subjectKeys.versionOf(tenantId, entityId, generation);
    if (version === undefined) return SHREDDED;
    return { $encrypted: true, key: FIELDS_KEY, version, ...extra };
  }

  function revealValue(event: StoredEvent, pointer: string, stored: unknown, view: PayloadView): unknown {
    const match = typeof stored === 'string' ? SEALED_VALUE.exec(stored) : null;
    // Only the store writes sealed values; anything else here means the row was edited by hand.
    if (!match) return { $encrypted: true, key: FIELDS_KEY, unavailable: 'invalid_ciphertext' };
    const generation = Number(match[1]);
    const key = subjectKeys.find(event.tenant_id, event.entity_id, generation);
    if ('shredded' in key) {
      if (key.shredded) return SHREDDED;
      return marker(event.tenant_id, event.entity_id, generation, { unavailable: key.reason });
    }
    if (view === 'redacted') return { $encrypted: true, key: FIELDS_KEY, version: key.keyVersion };
    const plaintext = open(
      key.key,
      Buffer.from(match[2]!, 'base64'),
      fieldAad(event.tenant_id, event.entity_id, generation, pointer),
    );
    if (!plaintext)
      return { $encrypted: true, key: FIELDS_KEY, version: key.keyVersion, unavailable: 'invalid_ciphertext' };
    return JSON.parse(plaintext.toString('utf8')) as unknown;
  }

  return {
    beginJob(): SealJob {
      // Keys used by this run of the job; they reach the shared cache only once it commits.
      const used = new Map<string, { tenantId: string; entityId: string; key: SubjectKey }>();
      return {
        seal(tenantId, entityId, eventType, payloadJson) {
          const policy = policies.compiled(tenantId, eventType);
          if (!policy) return { payloadJson, sealed: null };
          const document = JSON.parse(payloadJson) as unknown;
          const sealed: string[] = [];
          for (const field of policy.fields) {
            const found = locate(document, field.tokens);
            if (!found) continue;
            const subject = `${tenantId}\u0000${entityId}`;
            let entry = used.get(subject);
            if (!entry) {
              entry = { tenantId, entityId, key: subjectKeys.current(tenantId, entityId) };
              used.set(subject, entry);
            }
            const { generation, key } = entry.key;
            const plaintext = Buffer.from(
              JSON.stringify((found.parent as Record<string | number, unknown>)[found.key]),
            );
            const ciphertext = seal(
              key,
              random(NONCE_BYTES),
              plaintext,
              fieldAad(tenantId, entityId, generation, field.pointer),
            );
            (found.parent as Record<string | number, unknown>)[found.key] =
              `asf:${generation}:${ciphertext.toString('base64')}`;
            sealed.push(field.pointer);
          }
          if (sealed.length === 0) return { payloadJson, sealed: null };
          return { payloadJson: JSON.stringify(document), sealed: JSON.stringify(sealed) };
        },
        committed() {
          for (const { tenantId, entityId, key } of used.values()) subjectKeys.remember(tenantId, entityId, key);
        },
      };
    },

    reveal(event, view) {
      if (event.sealed === null) return event;
      const document = JSON.parse(event.payloadJson) as unknown;
      for (const pointer of JSON.parse(event.sealed) as string[]) {
        const tokens = parsePointer(pointer);
        const found = typeof tokens === 'string' ? undefined : locate(document, tokens);
        if (!found) continue;
        const slot = found.parent as Record<string | number, unknown>;
        slot[found.key] = revealValue(event, pointer, slot[found.key], view);
      }
      return { ...event, payloadJson: JSON.stringify(document) };
    },
  };
}
