import type { SqliteDatabase } from '../db/index.js';
import { InvalidRequestError } from '../errors/index.js';
import type { Keyring } from '../kms/index.js';
import { entityIdProblem, type PayloadSealer } from '../store/index.js';
import { createPolicyStore, type PolicyStore } from './policies.js';
import { createRewrapJobs, type RewrapJobs, type RewrapStatus } from './rewrap-job.js';
import { createSealPool, type SealPoolOptions, type SealWorkerStatus } from './seal-pool.js';
import { createSealer } from './sealer.js';
import { createSubjectKeys } from './subject-keys.js';

export interface FieldCryptoDependencies {
  db: SqliteDatabase;
  keyring: Keyring;
  now: () => number;
  randomBytes?: (size: number) => Buffer;
  onRewrapProgress?: (tenantId: string, status: RewrapStatus) => void;
  /** For tests that drive the rewrap job's steps by hand. */
  scheduleRewrapStep?: (step: () => void) => void;
  rewrapStepRows?: number;
  /**
   * The seal worker for large appends (seal-pool.ts), on by default; false seals everything on
   * the main thread. Off when randomBytes is given: the worker draws its own nonces.
   */
  sealWorker?: false | SealPoolOptions;
}

export interface ForgetResult {
  entity_id: string;
  forgotten: true;
  /** Generations of the subject's data key destroyed now (0 when it had none or was forgotten before). */
  keys_destroyed: number;
  forgotten_at: string;
}

/** Field-level encryption and crypto-shredding for one database (no HTTP here). */
export interface FieldCrypto {
  /** Handed to the event store: it seals at ingest and reveals at read. */
  readonly sealer: PayloadSealer;
  readonly policies: PolicyStore;
  readonly rewrap: RewrapJobs;
  /**
   * Crypto-shredding: destroys every data key of the subject. Its sealed values then read as
   * `{"$shredded": true}` for ever; the events themselves stay. Idempotent.
   */
  forget(tenantId: string, entityId: string): ForgetResult;
  /** The fields key of a tenant changed (rotated, disabled, destroyed): drop its cached subject keys. */
  keyChanged(tenantId: string): void;
  /** The seal worker that seals large appends beside the main thread; `off` when there is none. */
  sealWorker(): SealWorkerStatus | { state: 'off'; sealed: 0 };
  close(): void;
}

export function createFieldCrypto(deps: FieldCryptoDependencies): FieldCrypto {
  const pool = deps.sealWorker === false || deps.randomBytes ? undefined : createSealPool(deps.sealWorker ?? {});
  const policies = createPolicyStore(deps.db, deps.now, () => pool?.warm());
  const subjectKeys = createSubjectKeys({
    db: deps.db,
    keyring: deps.keyring,
    now: deps.now,
    ...(deps.randomBytes ? { randomBytes: deps.randomBytes } : {}),
  });
  const rewrap = createRewrapJobs({
    db: deps.db,
    keyring: deps.keyring,
    subjectKeys,
    now: deps.now,
    ...(deps.onRewrapProgress ? { onProgress: deps.onRewrapProgress } : {}),
    ...(deps.scheduleRewrapStep ? { schedule: deps.scheduleRewrapStep } : {}),
    ...(deps.rewrapStepRows ? { stepRows: deps.rewrapStepRows } : {}),
  });
  const sealer = createSealer({
    policies,
    subjectKeys,
    ...(deps.randomBytes ? { randomBytes: deps.randomBytes } : {}),
    ...(pool ? { pool } : {}),
  });

  return {
    sealer,
    policies,
    rewrap,
    forget(tenantId, entityId) {
      const problem = entityIdProblem(entityId);
      if (problem) throw new InvalidRequestError(`entity_id ${problem}`, [{ path: 'entity_id', problem }]);
      const { destroyed, forgottenAt } = subjectKeys.forget(tenantId, entityId);
      return {
        entity_id: entityId,
        forgotten: true,
        keys_destroyed: destroyed,
        forgotten_at: new Date(forgottenAt).toISOString(),
      };
    },
    keyChanged: (tenantId) => subjectKeys.evict(tenantId),
    sealWorker: () => pool?.status() ?? { state: 'off', sealed: 0 },
    close() {
      rewrap.close();
      pool?.close();
    },
  };
}
