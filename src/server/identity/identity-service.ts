import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { SqliteDatabase } from '../db/index.js';
import { createAccessRevocation } from './access-revocation.js';
import { createApiKeyCache } from './api-key-cache.js';
import { createApiKey, createApiKeyAuthenticator, listApiKeys, revokeApiKey } from './api-keys.js';
import { API_KEY_PREFIX } from './api-key-format.js';
import { bootstrap } from './bootstrap.js';
import { commonPasswords } from './common-passwords.js';
import type { IdentityContext } from './context.js';
import { createDirectory } from './directory.js';
import { IdentityConfigError, UnauthorizedError } from './errors.js';
import { createArgon2Hasher, type SecretHasher } from './hasher.js';
import type { RandomBytes } from './ids.js';
import type { IdentityService } from './service.js';
import { authenticateToken, changePassword, createLogout, login, me } from './sessions.js';
import { prepareIdentityStatements } from './statements.js';
import { createTenant, deleteTenant, getTenant, listTenants, setTenantStatus, updateTenant } from './tenants.js';
import { createTokenClock } from './token-clock.js';
import { createTokenCodec, DEFAULT_TOKEN_LIFETIME_SECONDS } from './tokens.js';
import { deleteUser, hasApiKeys, hasUsers, listUsers, register, setRole } from './users.js';

export interface IdentityDependencies {
  /** The migrated database; this process must be its only writer (the caches rely on it). */
  db: SqliteDatabase;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** The HS256 key for tokens, at least 32 bytes: see jwtSecretFrom. */
  jwtSecret: Uint8Array;
  /** Token lifetime; 24 hours when left out. */
  tokenLifetimeSeconds?: number;
  /** node:crypto's randomBytes when left out. */
  randomBytes?: RandomBytes;
  /** argon2id at OWASP parameters when left out; tests inject a counting wrapper. */
  hasher?: SecretHasher;
  /** The shipped common-password list when left out. */
  commonPasswords?: ReadonlySet<string>;
  /** How long a verified API key skips argon2; 5 minutes when left out. */
  apiKeyCacheTtlMs?: number;
}

const MIN_JWT_SECRET_BYTES = 32;
const MAX_TOKEN_LIFETIME_SECONDS = 365 * 24 * 60 * 60;
/** A credential longer than this is nobody's: refused before any work. */
const MAX_CREDENTIAL_LENGTH = 4096;

/**
 * Builds the identity service over a migrated database.
 *
 * @example
 * const identity = createIdentityService({ db, now: Date.now, jwtSecret: jwtSecretFrom(process.env, masterKey) });
 * const principal = await identity.authenticate(credential);
 */
export function createIdentityService(deps: IdentityDependencies): IdentityService {
  if (deps.jwtSecret.length < MIN_JWT_SECRET_BYTES) {
    throw new IdentityConfigError(`the token signing key must be at least ${MIN_JWT_SECRET_BYTES} bytes`);
  }
  const lifetimeSeconds = deps.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 60 || lifetimeSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new IdentityConfigError('the token lifetime must be a whole number of seconds from 60 to one year');
  }
  const randomBytes = deps.randomBytes ?? cryptoRandomBytes;
  const statements = prepareIdentityStatements(deps.db);
  const ctx: IdentityContext = {
    db: deps.db,
    statements,
    directory: createDirectory(statements),
    now: deps.now,
    randomBytes,
    hasher: deps.hasher ?? createArgon2Hasher(),
    tokens: createTokenCodec({ secret: deps.jwtSecret, now: deps.now, lifetimeSeconds, randomBytes }),
    tokenClock: createTokenClock(deps.now),
    keyCache: createApiKeyCache({
      now: deps.now,
      randomBytes,
      ttlMs: deps.apiKeyCacheTtlMs ?? 5 * 60 * 1000,
      maxEntries: 10_000,
    }),
    commonPasswords: deps.commonPasswords ?? commonPasswords(),
  };
  const authenticateApiKey = createApiKeyAuthenticator(ctx);

  return {
    async authenticate(credential) {
      if (typeof credential !== 'string' || credential === '' || credential.length > MAX_CREDENTIAL_LENGTH) {
        throw new UnauthorizedError('a valid token or API key is required');
      }
      return credential.startsWith(API_KEY_PREFIX)
        ? authenticateApiKey(credential)
        : authenticateToken(ctx, credential);
    },
    login: (username, password) => login(ctx, username, password),
    logout: createLogout(ctx),
    changePassword: (principal, current, next, within) => changePassword(ctx, principal, current, next, within),
    me: (principal) => me(ctx, principal),

    register: (actor, input, within) => register(ctx, actor, input, within),
    hasUsers: () => hasUsers(ctx),
    hasApiKeys: () => hasApiKeys(ctx),
    listUsers: (tenantId) => listUsers(ctx, tenantId),
    setRole: (tenantId, userId, role) => setRole(ctx, tenantId, userId, role),
    deleteUser: (tenantId, userId) => deleteUser(ctx, tenantId, userId),

    createApiKey: (principal, input, within) => createApiKey(ctx, principal, input, within),
    listApiKeys: (tenantId) => listApiKeys(ctx, tenantId),
    revokeApiKey: (tenantId, keyId) => revokeApiKey(ctx, tenantId, keyId),
    ...createAccessRevocation(ctx),

    createTenant: (input) => createTenant(ctx, input),
    listTenants: () => listTenants(ctx),
    getTenant: (tenantId) => getTenant(ctx, tenantId),
    updateTenant: (tenantId, changes) => updateTenant(ctx, tenantId, changes),
    setTenantStatus: (tenantId, status) => setTenantStatus(ctx, tenantId, status),
    deleteTenant: (tenantId) => deleteTenant(ctx, tenantId),

    bootstrap: (options) => bootstrap(ctx, options),
  };
}
