import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../db/index.js';
import type { DerivedKey } from '../../kms/index.js';
import { createArgon2Hasher, type SecretHasher } from '../hasher.js';
import { createIdentityService, type IdentityDependencies } from '../identity-service.js';
import type { IdentityService } from '../service.js';
import type { Principal, Role } from '../types.js';

/** Test support: not part of the identity module's public API. */

/** The real argon2id hasher, counting its calls. */
export interface CountingHasher extends SecretHasher {
  readonly verifyCalls: number;
  readonly hashCalls: number;
  /** The hashes verify() was asked to check against, in order. */
  readonly verifiedAgainst: string[];
}

export function createCountingHasher(inner: SecretHasher = createArgon2Hasher()): CountingHasher {
  let verifyCalls = 0;
  let hashCalls = 0;
  const verifiedAgainst: string[] = [];
  return {
    dummyHash: inner.dummyHash,
    hash(secret) {
      hashCalls += 1;
      return inner.hash(secret);
    },
    verify(hash, secret) {
      verifyCalls += 1;
      verifiedAgainst.push(hash);
      return inner.verify(hash, secret);
    },
    get verifyCalls() {
      return verifyCalls;
    },
    get hashCalls() {
      return hashCalls;
    },
    verifiedAgainst,
  };
}

export interface IdentityHarness {
  dir: string;
  db: SqliteDatabase;
  identity: IdentityService;
  hasher: CountingHasher;
  jwtSecret: Buffer;
  /** The pinned clock, in ms; move it with `advance`. */
  now(): number;
  advance(ms: number): void;
  /** A fresh service over the same database (a restart of the process). */
  restart(overrides?: Partial<IdentityDependencies>): IdentityService;
  close(): void;
}

export const START_MS = Date.parse('2026-03-01T12:00:00.000Z');

/** A real encrypted database in a temp dir, migrated, with a pinned clock and a counting hasher. */
export function createIdentityHarness(overrides: Partial<IdentityDependencies> = {}): IdentityHarness {
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));
  const { db } = openDatabase({ dataDir: join(dir, 'data'), key: randomBytes(32) as DerivedKey, durability: 'normal' });
  let clock = START_MS;
  const hasher = createCountingHasher();
  const jwtSecret = randomBytes(32);
  const build = (more: Partial<IdentityDependencies> = {}) =>
    createIdentityService({ db, now: () => clock, jwtSecret, hasher, ...overrides, ...more });
  return {
    dir,
    db,
    identity: build(),
    hasher,
    jwtSecret,
    now: () => clock,
    advance(ms) {
      clock += ms;
    },
    restart: build,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A principal as authentication would make it, for calls that take one. */
export function principal(
  tenantId: string,
  role: Role,
  subject = 'tester',
  kind: Principal['kind'] = 'user',
): Principal {
  return { kind, tenantId, role, subject, name: subject };
}

/** A password that passes the policy. */
export const GOOD_PASSWORD = 'correct horse battery staple';
