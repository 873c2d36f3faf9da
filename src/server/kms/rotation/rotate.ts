import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { databaseFile, openDatabase, openEncryptedFile, type SqliteDatabase } from '../../db/index.js';
import { renameDurably } from '../atomic-file.js';
import { NONCE_BYTES } from '../keyring/aead.js';
import { unwrapVersionKey, wrapVersionKey } from '../keyring/version-keys.js';
import { deriveKey, generateMasterKey, type DerivedKey, type MasterKey } from '../master-key.js';
import { unwrapSigningKey, wrapSigningKey } from '../signing-key.js';
import type { MasterKeyProtector } from '../protectors.js';
import { copyRows, schemaOf, type CopyProgress } from './copy.js';
import { RotationFailedError, RotationUnsupportedError } from './errors.js';
import { obtainMasterKey, removeRotationLeftovers, rotationFiles } from './settle.js';

/** The points where a test may kill the process (ALLSOURCE_TEST_CRASH_AT), in order. */
export const ROTATION_STEPS = ['staged', 'copying', 'copied', 'swapped', 'committed'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export interface RotateOptions {
  dataDir: string;
  protector: MasterKeyProtector;
  /** The passphrase, for the passphrase protector: the new key is wrapped under the same one. */
  secret?: string;
  durability: 'full' | 'normal';
  /** Rows per copy statement; progress is reported after each. */
  chunkRows?: number;
  onProgress?: (progress: CopyProgress & { phase: 'copy' }) => void;
  log?: (message: string) => void;
  /** Called at each step; tests make it kill the process. */
  reached?: (step: RotationStep) => void;
}

export interface RotationReport {
  rows: number;
  tables: number;
  keyVersions: number;
}

const DEFAULT_CHUNK_ROWS = 5000;

/**
 * Re-wraps every keyring version key (stored under HKDF(MK, "allsource/keyring")) in the copy
 * under the new keyring KEK. A row of zeros is the tombstone of a destroyed key: left as it is.
 */
function rewrapKeyring(db: SqliteDatabase, target: string, oldKek: DerivedKey, newKek: DerivedKey): number {
  const exists = db
    .prepare(`SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'keyring_versions'`)
    .get();
  if (!exists) return 0;
  const rows = db
    .prepare<[], { tenant_id: string; name: string; version: number; wrapped_key: Buffer }>(
      'SELECT tenant_id, name, version, wrapped_key FROM main.keyring_versions',
    )
    .all();
  const update = db.prepare<[Buffer, string, string, number]>(
    `UPDATE ${target}.keyring_versions SET wrapped_key = ? WHERE tenant_id = ? AND name = ? AND version = ?`,
  );
  let count = 0;
  db.transaction(() => {
    for (const row of rows) {
      if (row.wrapped_key.every((byte) => byte === 0)) continue;
      const key = unwrapVersionKey(oldKek, row.tenant_id, row.name, row.version, row.wrapped_key);
      if (key === undefined) {
        throw new RotationFailedError(
          `keyring key "${row.name}" version ${row.version} of tenant ${row.tenant_id} does not decrypt with the current master key; nothing was changed`,
        );
      }
      try {
        update.run(
          wrapVersionKey(newKek, randomBytes(NONCE_BYTES), row.tenant_id, row.name, row.version, key),
          row.tenant_id,
          row.name,
          row.version,
        );
      } finally {
        key.fill(0);
      }
      count += 1;
    }
  })();
  return count;
}

/**
 * Re-wraps the audit trail's checkpoint-signing keys (HKDF(MK, "allsource/audit")) in the copy.
 * Runs before the copy gets its triggers, which would refuse the UPDATE (the table is append-only).
 */
function rewrapSigningKeys(db: SqliteDatabase, target: string, oldKek: DerivedKey, newKek: DerivedKey): void {
  const exists = db
    .prepare(`SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'audit_signing_keys'`)
    .get();
  if (!exists) return;
  const rows = db
    .prepare<[], { key_id: string; wrapped_private: Buffer }>(
      'SELECT key_id, wrapped_private FROM main.audit_signing_keys',
    )
    .all();
  const update = db.prepare<[Buffer, string]>(
    `UPDATE ${target}.audit_signing_keys SET wrapped_private = ? WHERE key_id = ?`,
  );
  db.transaction(() => {
    for (const row of rows) {
      const key = unwrapSigningKey(oldKek, row.key_id, row.wrapped_private);
      if (key === undefined) {
        throw new RotationFailedError(
          `audit signing key ${row.key_id} does not decrypt with the current master key; nothing was changed`,
        );
      }
      update.run(wrapSigningKey(newKek, row.key_id, key), row.key_id);
    }
  })();
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces the master key and re-keys the database, safe to interrupt at any point. The caller
 * holds the data-directory lock (no server runs). The steps:
 *
 * 1. stage the new key in the protector's pending slot (atomic write) — `staged`;
 * 2. copy every table into `<db>.rekey-partial`, encrypted with HKDF(new MK), in chunks with
 *    progress — `copying`; re-wrap the keyring's version keys under the new keyring KEK; build
 *    indexes and triggers; check the row counts; fsync; rename to `<db>.rekey` — `copied`;
 * 3. close the old database (its WAL is checkpointed and removed) and rename the copy over it,
 *    one atomic rename — `swapped`;
 * 4. commit the pending key (another rename) — `committed`.
 *
 * A crash before 3 leaves the old database and old key in place; a crash between 3 and 4 leaves
 * the new database with the new key still pending. Either way the next start (settleRotation)
 * sees which key opens the database and rolls back or completes, and says so in the log.
 */
export async function rotateMasterKey(options: RotateOptions): Promise<RotationReport> {
  const { dataDir, protector, secret } = options;
  const log = options.log ?? (() => undefined);
  const reached = options.reached ?? (() => undefined);
  const slot = protector.pending;
  if (slot === undefined) {
    throw new RotationUnsupportedError(
      protector.kind === 'env'
        ? 'the master key comes from ALLSOURCE_MASTER_KEY, which this command cannot change: move it into a key file or a passphrase file first (allsource keys protect --with file|passphrase, then unset ALLSOURCE_MASTER_KEY)'
        : `the ${protector.description} cannot take a new master key; rotate-master supports the key file, passphrase and PKCS#11 protectors`,
    );
  }
  const file = databaseFile(dataDir);
  if (!existsSync(file)) throw new RotationFailedError(`there is no database at ${file} to re-key`);

  const oldKey = await obtainMasterKey(protector, {
    dataDir,
    firstRun: false,
    log,
    ...(secret === undefined ? {} : { secret }),
  });
  const newKey: MasterKey = generateMasterKey();
  const oldDbKey = deriveKey(oldKey, 'allsource/sqlcipher');
  const newDbKey = deriveKey(newKey, 'allsource/sqlcipher');
  const oldKek = deriveKey(oldKey, 'allsource/keyring');
  const newKek = deriveKey(newKey, 'allsource/keyring');
  const oldAuditKek = deriveKey(oldKey, 'allsource/audit');
  const newAuditKek = deriveKey(newKey, 'allsource/audit');
  const { partial, complete } = rotationFiles(dataDir);
  let old: SqliteDatabase | undefined;
  let swapped = false;
  try {
    old = openDatabase({ dataDir, key: oldDbKey, durability: options.durability }).db;
    // Everything in the WAL goes into the file first, so the copy reads one consistent file.
    old.pragma('wal_checkpoint(TRUNCATE)');

    await slot.write(newKey, secret);
    reached('staged');

    removeRotationLeftovers(dataDir);
    const schema = schemaOf(old);
    const fresh = openEncryptedFile(partial, newDbKey);
    try {
      for (const sql of schema.tables) fresh.exec(sql);
      fresh.pragma(`user_version = ${schema.userVersion}`);
    } finally {
      fresh.close();
    }

    old.pragma('foreign_keys = OFF');
    // The key is a bound parameter: it never appears in SQL text.
    old.prepare('ATTACH DATABASE ? AS rekey KEY ?').run(partial, `x'${newDbKey.toString('hex')}'`);
    let counts: Map<string, number>;
    let keyVersions: number;
    try {
      // A crash leaves only a partial copy, which is thrown away: no journal needed while copying.
      old.pragma('rekey.journal_mode = OFF');
      old.pragma('rekey.synchronous = OFF');
      let chunks = 0;
      counts = copyRows(old, 'rekey', options.chunkRows ?? DEFAULT_CHUNK_ROWS, (progress) => {
        options.onProgress?.({ ...progress, phase: 'copy' });
        if (++chunks === 1 && progress.done < progress.total) reached('copying');
      });
      keyVersions = rewrapKeyring(old, 'rekey', oldKek, newKek);
      rewrapSigningKeys(old, 'rekey', oldAuditKek, newAuditKek);
    } finally {
      old.exec('DETACH DATABASE rekey');
    }

    const copy = openEncryptedFile(partial, newDbKey);
    try {
      for (const sql of schema.rest) copy.exec(sql);
      for (const [table, rows] of counts) {
        const copied = (copy.prepare(`SELECT count(*) AS n FROM "${table.replace(/"/g, '""')}"`).get() as { n: number })
          .n;
        if (copied !== rows)
          throw new RotationFailedError(`the copy of table ${table} has ${copied} rows, not ${rows}`);
      }
      // WAL is recorded in the file header, so the swapped-in file opens as the old one did.
      copy.pragma('journal_mode = WAL');
    } finally {
      copy.close();
    }
    fsyncFile(partial);
    renameDurably(partial, complete);
    reached('copied');

    old.close();
    old = undefined;
    // The old database's WAL must be gone: left next to the new file, SQLite would replay it.
    if (existsSync(`${file}-wal`)) {
      throw new RotationFailedError(
        `${file}-wal is still there after closing the database: is another process using it?`,
      );
    }
    rmSync(`${file}-shm`, { force: true });
    renameDurably(complete, file);
    swapped = true;
    reached('swapped');

    slot.commit();
    reached('committed');
    const rows = [...counts.values()].reduce((sum, n) => sum + n, 0);
    return { rows, tables: counts.size, keyVersions };
  } catch (error) {
    if (!swapped) {
      // Undo: the old database was never changed; drop the copy, then the staged key.
      try {
        old?.close();
        old = undefined;
        removeRotationLeftovers(dataDir);
        if (slot.exists()) slot.discard();
      } catch (cleanup) {
        log(`could not clean up after the failed rotation (${(cleanup as Error).message}); the next start will`);
      }
    }
    throw error;
  } finally {
    old?.close();
    for (const key of [oldKey, newKey, oldDbKey, newDbKey, oldKek, newKek, oldAuditKek, newAuditKek]) key.fill(0);
  }
}
