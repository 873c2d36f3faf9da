import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { createBoundedCache } from '../cache/index.js';
import type { SqliteDatabase } from '../db/index.js';
import { NotFoundError } from '../errors/index.js';
import { KeyDestroyedError, type Keyring } from '../kms/index.js';

/** The tenant's keyring key that wraps every subject key: rotate it, then rewrap, to retire old versions. */
export const FIELDS_KEY = 'allsource.fields';
const DATA_KEY_BYTES = 32;

/** One subject's data key, unwrapped. */
export interface SubjectKey {
  generation: number;
  key: Buffer;
  /** The FIELDS_KEY version that wraps it (what `$encrypted` markers show). */
  keyVersion: number;
}

/** Why a subject key cannot be had: shredded for good, or not usable now (a disabled key, a retired version). */
export type Unavailable = { shredded: true } | { shredded: false; reason: string };

export interface SubjectKeyRow {
  entity_id: string;
  generation: number;
  wrapped_key: string;
  key_version: number;
}

export interface SubjectKeysDependencies {
  db: SqliteDatabase;
  keyring: Keyring;
  now: () => number;
  randomBytes?: (size: number) => Buffer;
  /** Unwrapped keys kept in memory; each costs one keyring decryption to reload. */
  cacheEntries?: number;
}

export interface SubjectKeys {
  /**
   * The current key for new ciphertexts, created if the subject has none. Call inside a transaction.
   * `cached` is false when it came from the database (made or loaded now): the caller hands it to
   * remember() once the transaction commits.
   */
  current(tenantId: string, entityId: string): { key: SubjectKey; cached: boolean };
  /** The current key if it is cached (committed), without touching the database: ingest's fast path. */
  cachedCurrent(tenantId: string, entityId: string): SubjectKey | undefined;
  /** The key of one generation, for reading. */
  find(tenantId: string, entityId: string, generation: number): SubjectKey | Unavailable;
  /** Only after the transaction that created or loaded the key has committed. */
  remember(tenantId: string, entityId: string, key: SubjectKey): void;
  /** The key version shown to readers without decrypt, read without unwrapping. */
  versionOf(tenantId: string, entityId: string, generation: number): number | undefined;
  /** Deletes every generation of the subject's key; returns how many there were. */
  forget(tenantId: string, entityId: string): { destroyed: number; forgottenAt: number };
  /** Drops cached keys (of one tenant), after the fields key changed state. */
  evict(tenantId?: string): void;
  readonly statements: ReturnType<typeof prepare>;
}

function prepare(db: SqliteDatabase) {
  return {
    latest: db.prepare<[string, string], SubjectKeyRow>(
      `SELECT entity_id, generation, wrapped_key, key_version FROM subject_keys
       WHERE tenant_id = ? AND entity_id = ? ORDER BY generation DESC LIMIT 1`,
    ),
    one: db.prepare<[string, string, number], SubjectKeyRow>(
      `SELECT entity_id, generation, wrapped_key, key_version FROM subject_keys
       WHERE tenant_id = ? AND entity_id = ? AND generation = ?`,
    ),
    insert: db.prepare<[string, string, number, string, number, number]>(
      `INSERT INTO subject_keys (tenant_id, entity_id, generation, wrapped_key, key_version, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    forgotten: db.prepare<[string, string], { last_generation: number }>(
      'SELECT last_generation FROM forgotten_subjects WHERE tenant_id = ? AND entity_id = ?',
    ),
    deleteAll: db.prepare<[string, string]>('DELETE FROM subject_keys WHERE tenant_id = ? AND entity_id = ?'),
    markForgotten: db.prepare<[string, string, number, number]>(
      `INSERT INTO forgotten_subjects (tenant_id, entity_id, last_generation, forgotten_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant_id, entity_id) DO UPDATE
         SET last_generation = max(last_generation, excluded.last_generation), forgotten_at = excluded.forgotten_at`,
    ),
    maxGeneration: db.prepare<[string, string], { g: number | null }>(
      'SELECT max(generation) AS g FROM subject_keys WHERE tenant_id = ? AND entity_id = ?',
    ),
    toRewrap: db.prepare<[string, number, number], SubjectKeyRow>(
      `SELECT entity_id, generation, wrapped_key, key_version FROM subject_keys
       WHERE tenant_id = ? AND key_version < ? ORDER BY key_version, entity_id, generation LIMIT ?`,
    ),
    countToRewrap: db.prepare<[string, number], { n: number }>(
      'SELECT count(*) AS n FROM subject_keys WHERE tenant_id = ? AND key_version < ?',
    ),
    setWrapped: db.prepare<[string, number, string, string, number]>(
      `UPDATE subject_keys SET wrapped_key = ?, key_version = ?
       WHERE tenant_id = ? AND entity_id = ? AND generation = ?`,
    ),
    countSubjects: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM subject_keys WHERE tenant_id = ?'),
  };
}

/** The subject key's wrapping is bound to its tenant (by the keyring), entity and generation. */
export function wrapContext(entityId: string, generation: number): Buffer {
  return Buffer.from(JSON.stringify(['allsource/subject', entityId, generation]), 'utf8');
}

function versionOfCiphertext(ciphertext: string): number {
  return Number(/^as:v(\d+):/.exec(ciphertext)?.[1] ?? 0);
}

/**
 * Per tenant and entity ("subject") data keys, wrapped by the tenant's FIELDS_KEY. Crypto-shredding
 * deletes them; nothing else ever can, so a subject's ciphertexts become unreadable exactly then.
 */
export function createSubjectKeys(deps: SubjectKeysDependencies): SubjectKeys {
  const { db, keyring, now } = deps;
  const random = deps.randomBytes ?? cryptoRandomBytes;
  const st = prepare(db);
  // Every generation read or written lately, by tenant, entity and generation.
  const cache = createBoundedCache<string, SubjectKey & { tenantId: string }>(deps.cacheEntries ?? 10_000);
  const cacheKey = (tenantId: string, entityId: string, generation: number) =>
    `${tenantId}\u0000${entityId}\u0000${generation}`;
  // The newest generation per subject: ingest then needs one lookup and no query for a subject it has seen.
  const latest = createBoundedCache<string, SubjectKey & { tenantId: string }>(deps.cacheEntries ?? 10_000);

  function ensureFieldsKey(tenantId: string): void {
    try {
      keyring.getKey(tenantId, FIELDS_KEY);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      keyring.createKey(tenantId, FIELDS_KEY);
    }
  }

  function unwrap(tenantId: string, row: SubjectKeyRow): SubjectKey {
    const key = keyring.decrypt(tenantId, FIELDS_KEY, row.wrapped_key, wrapContext(row.entity_id, row.generation));
    return { generation: row.generation, key, keyVersion: row.key_version };
  }

  return {
    statements: st,

    cachedCurrent: (tenantId, entityId) => latest.get(`${tenantId}\u0000${entityId}`),

    current(tenantId, entityId) {
      const hit = latest.get(`${tenantId}\u0000${entityId}`);
      if (hit) return { key: hit, cached: true };
      const row = st.latest.get(tenantId, entityId);
      if (row) return { key: unwrap(tenantId, row), cached: false };
      ensureFieldsKey(tenantId);
      const next = (st.forgotten.get(tenantId, entityId)?.last_generation ?? 0) + 1;
      const key = random(DATA_KEY_BYTES);
      const wrapped = keyring.encrypt(tenantId, FIELDS_KEY, key, wrapContext(entityId, next));
      const keyVersion = versionOfCiphertext(wrapped);
      st.insert.run(tenantId, entityId, next, wrapped, keyVersion, now());
      return { key: { generation: next, key, keyVersion }, cached: false };
    },

    find(tenantId, entityId, generation) {
      const newest = latest.get(`${tenantId}\u0000${entityId}`);
      if (newest?.generation === generation) return newest;
      const cached = cache.get(cacheKey(tenantId, entityId, generation));
      if (cached) return cached;
      const row = st.one.get(tenantId, entityId, generation);
      if (!row) return { shredded: true };
      try {
        const key = unwrap(tenantId, row);
        this.remember(tenantId, entityId, key);
        return key;
      } catch (error) {
        // The whole fields key destroyed is a tenant-wide shredding; anything else may pass.
        if (error instanceof KeyDestroyedError) return { shredded: true };
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string') return { shredded: false, reason: code };
        throw error;
      }
    },

    remember(tenantId, entityId, key) {
      const entry = { ...key, tenantId };
      const subject = `${tenantId}\u0000${entityId}`;
      const newest = latest.get(subject);
      if (!newest || newest.generation <= key.generation) {
        latest.set(subject, entry);
        // A newer generation (after a forget) supersedes the old one in `latest`; keep the old readable.
        if (newest && newest.generation < key.generation)
          cache.set(cacheKey(tenantId, entityId, newest.generation), newest);
      } else {
        cache.set(cacheKey(tenantId, entityId, key.generation), entry);
      }
    },

    versionOf(tenantId, entityId, generation) {
      const newest = latest.get(`${tenantId}\u0000${entityId}`);
      if (newest?.generation === generation) return newest.keyVersion;
      return (
        cache.get(cacheKey(tenantId, entityId, generation))?.keyVersion ??
        st.one.get(tenantId, entityId, generation)?.key_version
      );
    },

    forget(tenantId, entityId) {
      const forgottenAt = now();
      const lastGeneration = st.maxGeneration.get(tenantId, entityId)?.g ?? 0;
      // secure_delete zeroes the freed cells, so the wrapped keys do not linger in free pages.
      const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
      db.pragma('secure_delete = ON');
      let destroyed = 0;
      try {
        db.transaction(() => {
          destroyed = st.deleteAll.run(tenantId, entityId).changes;
          st.markForgotten.run(tenantId, entityId, lastGeneration, forgottenAt);
        })();
      } finally {
        db.pragma(`secure_delete = ${secureDelete ? 'ON' : 'OFF'}`);
      }
      cache.deleteWhere(
        (value, key) => value.tenantId === tenantId && key.startsWith(`${tenantId}\u0000${entityId}\u0000`),
      );
      latest.delete(`${tenantId}\u0000${entityId}`);
      // Move the zeroed pages out of the WAL into the file, so no old frame keeps the wrapped key.
      if (!db.inTransaction) db.pragma('wal_checkpoint(TRUNCATE)');
      return { destroyed, forgottenAt };
    },

    evict(tenantId) {
      const drop = (value: { tenantId: string }) => tenantId === undefined || value.tenantId === tenantId;
      cache.deleteWhere(drop);
      latest.deleteWhere(drop);
    },
  };
}
