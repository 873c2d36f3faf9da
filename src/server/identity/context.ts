import type { SqliteDatabase } from '../db/index.js';
import { NotFoundError } from '../errors/index.js';
import type { ApiKeyCache } from './api-key-cache.js';
import type { Directory } from './directory.js';
import { TenantSuspendedError } from './errors.js';
import type { SecretHasher } from './hasher.js';
import type { RandomBytes } from './ids.js';
import type { IdentityStatements, TenantRow } from './statements.js';
import type { TokenClock } from './token-clock.js';
import type { TokenCodec } from './tokens.js';

/** Everything the identity operations share, built once by createIdentityService. */
export interface IdentityContext {
  db: SqliteDatabase;
  statements: IdentityStatements;
  directory: Directory;
  now: () => number;
  randomBytes: RandomBytes;
  hasher: SecretHasher;
  tokens: TokenCodec;
  tokenClock: TokenClock;
  keyCache: ApiKeyCache;
  commonPasswords: ReadonlySet<string>;
}

/** The tenant, which must exist (else NotFoundError) and be active (else TenantSuspendedError). */
export function activeTenant(ctx: IdentityContext, tenantId: string): TenantRow {
  const tenant = ctx.directory.tenant(tenantId);
  if (!tenant) throw new NotFoundError(`tenant ${JSON.stringify(tenantId)} does not exist`);
  if (tenant.status !== 'active') throw new TenantSuspendedError(tenantId);
  return tenant;
}

/** SQLite's answer to a UNIQUE or PRIMARY KEY clash. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
