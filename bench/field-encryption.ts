import { createFieldCrypto, type FieldCrypto } from '../src/server/fields/index.js';
import { createKeyring, deriveKey, generateMasterKey } from '../src/server/kms/index.js';
import { createStoreWriter, interleave, openFreshDatabase, toRun, type Side } from './in-process.js';
import { compared, type Figure } from './report.js';
import { log, type Resources } from './support.js';
import { EVENT_TYPES, makeBatches } from './workload.js';

export interface FieldEncryptionOptions {
  events: number;
  chunkBatches: number;
  seed: number;
}

/** The two payload values every event gets sealed: a short id and the free-text note. */
export const SEALED_FIELDS = ['/customer_id', '/note'];

/**
 * Issue 4: ingest with two encrypted fields per event against the same ingest with no policy.
 * Both sides are the product's store writing the same batches into fresh encrypted files, taking
 * turns; only the policy differs, so the ratio is what sealing costs (one data key per entity,
 * the sealed values taken out of each payload, one AES-256-GCM encryption per event, done by the
 * seal worker for these batches of 1,000, and a larger row). The worker starts when the policy is
 * put, as it does in the server, so it is ready before the first timed batch.
 */
export async function measureFieldEncryption(resources: Resources, options: FieldEncryptionOptions): Promise<Figure> {
  const batches = makeBatches(options.seed, options.events);
  const plainDb = openFreshDatabase(resources.tempDir('fields-plain'));
  const sealedDb = openFreshDatabase(resources.tempDir('fields-sealed'));
  const keyring = createKeyring({
    db: sealedDb,
    kek: deriveKey(generateMasterKey(), 'allsource/keyring'),
    now: Date.now,
  });
  const fields = createFieldCrypto({ db: sealedDb, keyring, now: Date.now });
  for (const type of EVENT_TYPES) fields.policies.put('default', type, SEALED_FIELDS);
  const plainWriter = createStoreWriter(plainDb);
  const sealedWriter = createStoreWriter(sealedDb, fields.sealer);
  const plain: Side = { write: plainWriter.write, events: 0, ms: 0 };
  const sealed: Side = { write: sealedWriter.write, events: 0, ms: 0 };
  let worker: ReturnType<FieldCrypto['sealWorker']>;
  try {
    await interleave(plain, sealed, batches, options.chunkBatches);
    worker = fields.sealWorker();
  } finally {
    plainWriter.close();
    sealedWriter.close();
    fields.close();
    plainDb.close();
    sealedDb.close();
  }
  const plainRun = toRun(plain);
  const sealedRun = toRun(sealed);
  log(
    `field encryption: no policy ${Math.round(plainRun.eventsPerSecond)} ev/s, ` +
      `two sealed fields ${Math.round(sealedRun.eventsPerSecond)} ev/s`,
  );
  const figure = compared(
    `ingest, 2 encrypted fields per event (${options.events.toLocaleString('en-US')} ev)`,
    sealedRun.eventsPerSecond,
    'events/s',
    { name: 'same ingest, no policy', value: plainRun.eventsPerSecond, unit: 'events/s' },
    'higher-is-better',
    0.7,
  );
  figure.note =
    `policy ${SEALED_FIELDS.join(', ')} on every type; both sides the store, batches of 1,000, taking turns; ` +
    `seal worker ${worker.state}, ${worker.sealed.toLocaleString('en-US')} events sealed by it`;
  return figure;
}
