import type { SqliteDatabase } from '../../db/index.js';
import type { DerivedKey } from '../master-key.js';
import type { DataKey } from './version-keys.js';

/** What the keyring tells about a key: metadata only, never key material. */
export interface KeyMetadata {
  name: string;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  created_at: string;
  /** When the latest version was made (equal to created_at until the first rotation). */
  rotated_at: string;
  disabled: boolean;
  destroyed: boolean;
}

export interface KeyConfig {
  min_decryption_version?: number;
  min_encryption_version?: number;
}

export interface DataKeyOptions {
  /** Only the wrapped key: the caller stores it now and unwraps it with decrypt() later. */
  wrappedOnly?: boolean;
  context?: Buffer;
}

export interface DataKeyResult {
  /** The data key encrypted under the latest version, `as:v<N>:…`. */
  ciphertext: string;
  /** The 32-byte data key; absent with wrappedOnly. */
  plaintext?: DataKey;
}

export interface KeyringDependencies {
  db: SqliteDatabase;
  /** deriveKey(masterKey, 'allsource/keyring'): 32 bytes. */
  kek: DerivedKey;
  /** Unix milliseconds. */
  now: () => number;
  /** Source of nonces and key material; node:crypto's randomBytes unless a test injects one. */
  randomBytes?: (size: number) => Buffer;
  /**
   * How many GCM encryptions one version may make before the keyring rotates the key itself.
   * Defaults to DEFAULT_ROTATE_AFTER (below 2^32); tests inject a small number.
   */
  rotateAfter?: number;
  /** Called after a key is rotated, reconfigured, disabled, enabled or destroyed (not on self-rotation). */
  onKeyChanged?: (tenantId: string, name: string) => void;
}

/** A per-tenant, Vault-transit style keyring. Every method is synchronous (better-sqlite3). */
export interface Keyring {
  createKey(tenantId: string, name: string): KeyMetadata;
  getKey(tenantId: string, name: string): KeyMetadata;
  listKeys(tenantId: string): KeyMetadata[];
  rotate(tenantId: string, name: string): KeyMetadata;
  configure(tenantId: string, name: string, config: KeyConfig): KeyMetadata;
  /**
   * Encrypts under the latest version, or under `keyVersion` (from min_encryption_version to the
   * latest: what min_encryption_version governs, as in Vault).
   */
  encrypt(tenantId: string, name: string, plaintext: Buffer, context?: Buffer, keyVersion?: number): string;
  decrypt(tenantId: string, name: string, ciphertext: string, context?: Buffer): Buffer;
  /** Re-encrypts under the latest version; the plaintext never leaves the keyring. */
  rewrap(tenantId: string, name: string, ciphertext: string, context?: Buffer): string;
  dataKey(tenantId: string, name: string, options?: DataKeyOptions): DataKeyResult;
  disable(tenantId: string, name: string): KeyMetadata;
  enable(tenantId: string, name: string): KeyMetadata;
  /** Irreversible. `confirmation` must equal `name`. Destroying a destroyed key changes nothing. */
  destroy(tenantId: string, name: string, confirmation: string): KeyMetadata;
}
