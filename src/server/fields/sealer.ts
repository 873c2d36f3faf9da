import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { open } from '../kms/keyring/aead.js';
import type {
  PayloadSealer,
  PayloadView,
  PendingSeal,
  PreparedPayload,
  SealedPayload,
  SealJob,
  StoredEvent,
} from '../store/index.js';
import { locate, parsePointer } from './pointers.js';
import type { PolicyStore } from './policies.js';
import { createRecordSealing, createSealPreparation, eventAad, type SealKey, type SealRecord } from './seal-core.js';
import type { SealPool, SealPoolJob } from './seal-pool.js';
import { decodeSealedRecord, pointersOfBroken, type SealedRecord } from './sealed-record.js';
import { FIELDS_KEY, type SubjectKey, type SubjectKeys } from './subject-keys.js';

/*
 * One ciphertext per event rather than per value: a GCM operation and a nonce cost more than the
 * JSON around them, and ingest pays for every one. In the stored payload each sealed value is
 * replaced by null, so the payload keeps its shape (array indices included) and holds nothing.
 * The record's layout is in sealed-record.ts; sealing itself in seal-core.ts.
 */

const SHREDDED = Object.freeze({ $shredded: true });

/** Jobs with fewer events are sealed on the main thread: a round trip to the worker would cost more. */
const WORKER_MIN_EVENTS = 64;

/** An event whose record the seal worker is making; sealed here after all if the worker cannot. */
class PendingRecord implements PendingSeal {
  readonly pending = true;
  constructor(
    private readonly job: SealPoolJob,
    private readonly ticket: number,
    private readonly prepared: PreparedPayload,
    private readonly tenantId: string,
    private readonly entityId: string,
    private readonly eventId: string,
    private readonly key: SealKey,
    private readonly sealRecord: SealRecord,
  ) {}

  settle(): SealedPayload {
    const { payloadJson, valuesJson, pointersJson, pointersBytes } = this.prepared;
    const sealed =
      this.job.collect(this.ticket) ??
      this.sealRecord(valuesJson, pointersJson, pointersBytes, this.tenantId, this.entityId, this.eventId, this.key);
    return { payloadJson, sealed };
  }
}

export interface SealerDependencies {
  policies: PolicyStore;
  subjectKeys: SubjectKeys;
  randomBytes?: (size: number) => Buffer;
  /** The seal worker for large appends; without one, everything is sealed on the main thread. */
  pool?: SealPool;
  /** Events a job needs for the worker (default 64). */
  workerMinEvents?: number;
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
  const { policies, subjectKeys, pool } = deps;
  const workerMinEvents = deps.workerMinEvents ?? WORKER_MIN_EVENTS;
  const prepareSeal = createSealPreparation();
  const sealRecord = createRecordSealing(deps.randomBytes ?? cryptoRandomBytes);

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
    prepare(tenantId, eventType, payload) {
      const policy = policies.compiled(tenantId, eventType);
      return policy && prepareSeal(policy, payload);
    },

    beginJob(events): SealJob {
      // Keys this run of the job made or loaded; they reach the shared cache only once it commits.
      const used = new Map<string, { tenantId: string; entityId: string; key: SubjectKey }>();
      // Large jobs hand their payloads to the seal worker; a few events are sealed here sooner.
      const poolJob = pool && events >= workerMinEvents ? pool.beginJob() : undefined;
      return {
        seal(tenantId, entityId, eventId, prepared) {
          const key = currentKey(used, tenantId, entityId);
          const { valuesJson, pointersJson, pointersBytes } = prepared;
          const ticket = poolJob?.submit(key, tenantId, entityId, eventId, pointersJson, valuesJson);
          if (ticket === undefined) {
            const sealed = sealRecord(valuesJson, pointersJson, pointersBytes, tenantId, entityId, eventId, key);
            return { payloadJson: prepared.payloadJson, sealed };
          }
          return new PendingRecord(poolJob!, ticket, prepared, tenantId, entityId, eventId, key, sealRecord);
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
