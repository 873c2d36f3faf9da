import { createHmac } from 'node:crypto';
import { createBoundedCache } from '../cache/index.js';
import type { RandomBytes } from './ids.js';
import type { Role } from './types.js';

/** What a verified API key grants; kept so that a key seen recently skips argon2. */
export interface VerifiedKey {
  keyId: string;
  tenantId: string;
  role: Role;
  name: string;
  expiresAt: number | null;
  /** last_used_at as read when the key was verified. */
  lastUsedAt: number | null;
}

/**
 * Keys verified recently, found by HMAC-SHA256(per-process random key, raw key): a lookup
 * costs one HMAC, and the raw key is never held in memory as a map key. Entries live `ttlMs`
 * and are dropped at once when their key is revoked or their tenant suspended or deleted.
 */
export interface ApiKeyCache {
  /** The cache slot of a raw key. */
  slotOf(rawKey: string): string;
  get(slot: string): VerifiedKey | undefined;
  remember(slot: string, key: VerifiedKey): void;
  dropKey(keyId: string): void;
  dropTenant(tenantId: string): void;
}

export interface ApiKeyCacheOptions {
  now: () => number;
  randomBytes: RandomBytes;
  ttlMs: number;
  maxEntries: number;
}

export function createApiKeyCache(options: ApiKeyCacheOptions): ApiKeyCache {
  const hmacKey = options.randomBytes(32);
  const entries = createBoundedCache<string, { key: VerifiedKey; until: number }>(options.maxEntries);
  return {
    slotOf: (rawKey) => createHmac('sha256', hmacKey).update(rawKey).digest('base64url'),
    get(slot) {
      const entry = entries.get(slot);
      if (!entry) return undefined;
      if (options.now() >= entry.until) {
        entries.delete(slot);
        return undefined;
      }
      return entry.key;
    },
    remember: (slot, key) => entries.set(slot, { key, until: options.now() + options.ttlMs }),
    dropKey: (keyId) => entries.deleteWhere((entry) => entry.key.keyId === keyId),
    dropTenant: (tenantId) => entries.deleteWhere((entry) => entry.key.tenantId === tenantId),
  };
}
