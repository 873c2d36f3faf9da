import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../../db/index.js';
import type { DerivedKey } from '../../master-key.js';
import { createKeyring } from '../keyring.js';
import type { Keyring, KeyringDependencies } from '../types.js';
import { unwrapVersionKey, type VersionKey } from '../version-keys.js';

/** Test support: not part of the keyring's public API. */

export const START_MS = Date.parse('2026-03-01T12:00:00.000Z');
export const TENANTS = ['acme', 'globex'] as const;

export interface KeyringHarness {
  dataDir: string;
  db: SqliteDatabase;
  keyring: Keyring;
  kek: DerivedKey;
  now(): number;
  advance(ms: number): void;
  /** Closes the database and opens it again with a fresh keyring (a restart of the process). */
  reopen(overrides?: Partial<KeyringDependencies>): Keyring;
  /** A fresh keyring over the same connection. */
  rebuild(overrides?: Partial<KeyringDependencies>): Keyring;
  /** Reads a version key back the way the keyring does: only tests look at key material. */
  versionKey(tenantId: string, name: string, version: number): VersionKey;
  /** Closes the database, keeping the files. */
  closeDb(): void;
  close(): void;
}

/** A real encrypted database in a temp dir, migrated, with two tenants and a pinned clock. */
export function createKeyringHarness(overrides: Partial<KeyringDependencies> = {}): KeyringHarness {
  const dir = mkdtempSync(join(tmpdir(), 'keyring-'));
  const dataDir = join(dir, 'data');
  const dbKey = randomBytes(32) as DerivedKey;
  const kek = randomBytes(32) as DerivedKey;
  let clock = START_MS;
  let open = true;
  const openDb = () => openDatabase({ dataDir, key: dbKey, durability: 'normal' }).db;
  let db = openDb();
  const insert = db.prepare(`INSERT INTO tenants (tenant_id, name, status, created_at) VALUES (?, ?, 'active', ?)`);
  for (const tenant of TENANTS) insert.run(tenant, tenant, clock);
  const build = (more: Partial<KeyringDependencies> = {}) =>
    createKeyring({ db, kek, now: () => clock, ...overrides, ...more });
  const harness: KeyringHarness = {
    dataDir,
    db,
    keyring: build(),
    kek,
    now: () => clock,
    advance(ms) {
      clock += ms;
    },
    reopen(more) {
      if (open) db.close();
      db = openDb();
      open = true;
      harness.db = db;
      harness.keyring = build(more);
      return harness.keyring;
    },
    rebuild: build,
    versionKey(tenantId, name, version) {
      const row = db
        .prepare<[string, string, number], { wrapped_key: Buffer }>(
          'SELECT wrapped_key FROM keyring_versions WHERE tenant_id = ? AND name = ? AND version = ?',
        )
        .get(tenantId, name, version);
      if (!row) throw new Error(`no version ${version} of ${name}`);
      const key = unwrapVersionKey(kek, tenantId, name, version, row.wrapped_key);
      if (!key) throw new Error('version key does not unwrap');
      return key;
    },
    closeDb() {
      if (open) db.close();
      open = false;
    },
    close() {
      if (open) db.close();
      open = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
