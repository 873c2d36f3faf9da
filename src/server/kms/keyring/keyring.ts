import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { associatedData, KEY_BYTES, NONCE_BYTES, open, seal } from './aead.js';
import { formatCiphertext, parseCiphertext } from './ciphertext.js';
import {
  InvalidCiphertextError,
  InvalidRequestError,
  KeyConflictError,
  KeyDestroyedError,
  KeyDisabledError,
  KeyMaterialCorruptError,
  KeyVersionDisabledError,
  NotFoundError,
} from './errors.js';
import { checkKeyName, checkTenantId } from './names.js';
import { type KeyRow, prepareKeyringStatements } from './statements.js';
import type { DataKeyOptions, DataKeyResult, KeyConfig, Keyring, KeyMetadata, KeyringDependencies } from './types.js';
import { type DataKey, unwrapVersionKey, type VersionKey, wrapVersionKey } from './version-keys.js';

/**
 * NIST SP 800-38D allows 2^32 GCM encryptions with random 96-bit nonces under one key. A version is
 * retired 2^24 encryptions before that: the margin covers counts lost when a caller's enclosing
 * transaction rolls back after a ciphertext has already been handed out.
 */
export const DEFAULT_ROTATE_AFTER = 2 ** 32 - 2 ** 24;

const CIPHERTEXT_LABEL = 'allsource/keyring/ciphertext/v1';
const NO_CONTEXT = Buffer.alloc(0);

function ciphertextAad(tenantId: string, name: string, version: number, context: Buffer | undefined): Buffer {
  return associatedData(CIPHERTEXT_LABEL, [tenantId, name, String(version), context ?? NO_CONTEXT]);
}

function toMetadata(row: KeyRow): KeyMetadata {
  return {
    name: row.name,
    latest_version: row.latest_version,
    min_decryption_version: row.min_decryption_version,
    min_encryption_version: row.min_encryption_version,
    created_at: new Date(row.created_at).toISOString(),
    rotated_at: new Date(row.rotated_at).toISOString(),
    disabled: row.disabled_at !== null,
    destroyed: row.destroyed_at !== null,
  };
}

function checkBytes(value: unknown, path: string): Buffer {
  if (!Buffer.isBuffer(value)) {
    throw new InvalidRequestError(`${path.slice(1)} must be bytes`, [{ path, problem: 'must be a Buffer' }]);
  }
  return value;
}

function checkContext(context: unknown): Buffer | undefined {
  return context === undefined ? undefined : checkBytes(context, '/context');
}

function checkVersionSetting(value: unknown, path: string, latest: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > latest) {
    throw new InvalidRequestError('invalid key configuration', [
      { path, problem: `must be an integer from 1 to the latest version (${latest})` },
    ]);
  }
  return value;
}

/**
 * The keyring of DESIGN.md ("Key hierarchy"): per tenant, named keys with versions, each version's
 * 32-byte AES key stored only wrapped under the keyring KEK.
 *
 * Encryption counting: every GCM encryption first reserves itself with one UPDATE that checks the
 * version's count is below `rotateAfter` and increments it (statements.ts, countEncryption), in the
 * same transaction that reads the key. When the latest version is used up the keyring rotates and
 * uses the new version. Counting happens before the encryption, so a crash over-counts, never under.
 */
export function createKeyring(deps: KeyringDependencies): Keyring {
  const { db, kek, now } = deps;
  const random = deps.randomBytes ?? cryptoRandomBytes;
  const rotateAfter = deps.rotateAfter ?? DEFAULT_ROTATE_AFTER;
  if (kek.length !== KEY_BYTES) throw new RangeError('the keyring KEK must be 32 bytes');
  if (!Number.isSafeInteger(rotateAfter) || rotateAfter < 1 || rotateAfter > 2 ** 32) {
    throw new RangeError('rotateAfter must be an integer from 1 to 2^32');
  }
  const st = prepareKeyringStatements(db);

  function findKey(tenantId: string, name: string): KeyRow {
    checkTenantId(tenantId);
    checkKeyName(name);
    const row = st.keyByName.get(tenantId, name);
    if (!row) throw new NotFoundError(`no key named ${JSON.stringify(name)}`, { name });
    return row;
  }

  function notDestroyed(row: KeyRow): KeyRow {
    if (row.destroyed_at !== null) throw new KeyDestroyedError(row.name);
    return row;
  }

  /** A key that may be used for encrypt, decrypt, rewrap and data keys. */
  function usableKey(tenantId: string, name: string): KeyRow {
    const row = notDestroyed(findKey(tenantId, name));
    if (row.disabled_at !== null) throw new KeyDisabledError(row.name);
    return row;
  }

  function addVersion(tenantId: string, name: string, version: number, at: number): void {
    const key = random(KEY_BYTES) as VersionKey;
    try {
      st.insertVersion.run(
        tenantId,
        name,
        version,
        wrapVersionKey(kek, random(NONCE_BYTES), tenantId, name, version, key),
        at,
      );
    } finally {
      key.fill(0);
    }
  }

  function unwrap(row: KeyRow, version: number, wrapped: Buffer): VersionKey {
    const key = unwrapVersionKey(kek, row.tenant_id, row.name, version, wrapped);
    if (key === undefined) throw new KeyMaterialCorruptError(row.name, version);
    return key;
  }

  function rotateRow(row: KeyRow): number {
    const version = row.latest_version + 1;
    const at = now();
    addVersion(row.tenant_id, row.name, version, at);
    st.setLatestVersion.run(version, at, row.tenant_id, row.name);
    return version;
  }

  /**
   * Reserves one encryption under the latest version, rotating first when it is used up; or under
   * `requested`, which must lie from min_encryption_version to the latest (Vault's key_version).
   */
  const reserveEncryption = db.transaction((tenantId: string, name: string, requested?: number) => {
    const row = usableKey(tenantId, name);
    if (requested !== undefined) {
      if (
        !Number.isSafeInteger(requested) ||
        requested < row.min_encryption_version ||
        requested > row.latest_version
      ) {
        throw new InvalidRequestError('key_version cannot be used for encryption', [
          {
            path: '/key_version',
            problem: `must be an integer from min_encryption_version (${row.min_encryption_version}) to the latest version (${row.latest_version})`,
          },
        ]);
      }
      const reserved = st.countEncryption.get(tenantId, name, requested, rotateAfter);
      if (!reserved) {
        throw new InvalidRequestError('key_version has made all the encryptions it may', [
          { path: '/key_version', problem: 'is used up: encrypt with the latest version' },
        ]);
      }
      return { version: requested, key: unwrap(row, requested, reserved.wrapped_key) };
    }
    let version = row.latest_version;
    let reserved = st.countEncryption.get(tenantId, name, version, rotateAfter);
    if (!reserved) {
      if (!st.versionKey.get(tenantId, name, version)) throw new KeyMaterialCorruptError(name, version);
      version = rotateRow(row);
      reserved = st.countEncryption.get(tenantId, name, version, rotateAfter);
      if (!reserved) throw new KeyMaterialCorruptError(name, version);
    }
    return { version, key: unwrap(row, version, reserved.wrapped_key) };
  });

  function encryptBytes(
    tenantId: string,
    name: string,
    plaintext: Buffer,
    context: Buffer | undefined,
    keyVersion?: number,
  ): string {
    const { version, key } = reserveEncryption(tenantId, name, keyVersion);
    try {
      const sealed = seal(key, random(NONCE_BYTES), plaintext, ciphertextAad(tenantId, name, version, context));
      return formatCiphertext(version, sealed);
    } finally {
      key.fill(0);
    }
  }

  function decryptBytes(tenantId: string, name: string, ciphertext: string, context: Buffer | undefined): Buffer {
    const row = usableKey(tenantId, name);
    const parsed = parseCiphertext(ciphertext);
    if (!parsed || parsed.version > row.latest_version) throw new InvalidCiphertextError();
    if (parsed.version < row.min_decryption_version) {
      throw new KeyVersionDisabledError(row.name, parsed.version, row.min_decryption_version);
    }
    const stored = st.versionKey.get(tenantId, name, parsed.version);
    if (!stored) throw new KeyMaterialCorruptError(row.name, parsed.version);
    const key = unwrap(row, parsed.version, stored.wrapped_key);
    try {
      const plaintext = open(key, parsed.sealed, ciphertextAad(tenantId, name, parsed.version, context));
      if (plaintext === undefined) throw new InvalidCiphertextError();
      return plaintext;
    } finally {
      key.fill(0);
    }
  }

  const createKey = db.transaction((tenantId: string, name: string): KeyMetadata => {
    checkTenantId(tenantId);
    checkKeyName(name);
    if (!st.tenantExists.get(tenantId)) throw new NotFoundError('no such tenant', { tenant_id: tenantId });
    if (st.keyByName.get(tenantId, name)) throw new KeyConflictError(name);
    const at = now();
    st.insertKey.run(tenantId, name, at, at);
    addVersion(tenantId, name, 1, at);
    return toMetadata(findKey(tenantId, name));
  });

  const rotate = db.transaction((tenantId: string, name: string): KeyMetadata => {
    rotateRow(notDestroyed(findKey(tenantId, name)));
    return toMetadata(findKey(tenantId, name));
  });

  const configure = db.transaction((tenantId: string, name: string, config: KeyConfig): KeyMetadata => {
    const row = notDestroyed(findKey(tenantId, name));
    if (typeof config !== 'object' || config === null) throw new InvalidRequestError('invalid key configuration');
    const minDecryption =
      checkVersionSetting(config.min_decryption_version, '/min_decryption_version', row.latest_version) ??
      row.min_decryption_version;
    const minEncryption =
      checkVersionSetting(config.min_encryption_version, '/min_encryption_version', row.latest_version) ??
      row.min_encryption_version;
    st.setMinVersions.run(minDecryption, minEncryption, tenantId, name);
    return toMetadata(findKey(tenantId, name));
  });

  const setDisabled = db.transaction((tenantId: string, name: string, disabled: boolean): KeyMetadata => {
    const row = notDestroyed(findKey(tenantId, name));
    if ((row.disabled_at !== null) !== disabled) st.setDisabled.run(disabled ? now() : null, tenantId, name);
    return toMetadata(findKey(tenantId, name));
  });

  const destroyRows = db.transaction((tenantId: string, name: string): void => {
    st.blankVersions.run(tenantId, name);
    st.deleteVersions.run(tenantId, name);
    st.setDestroyed.run(now(), tenantId, name);
  });

  /** Tells the owner of cached key-derived state (the field sealer's subject keys) that a key changed. */
  function changed(tenantId: string, name: string, metadata: KeyMetadata): KeyMetadata {
    deps.onKeyChanged?.(tenantId, name);
    return metadata;
  }

  return {
    createKey,
    getKey: (tenantId, name) => toMetadata(findKey(tenantId, name)),
    listKeys(tenantId) {
      checkTenantId(tenantId);
      return st.keysOfTenant.all(tenantId).map(toMetadata);
    },
    rotate: (tenantId, name) => changed(tenantId, name, rotate(tenantId, name)),
    configure: (tenantId, name, config) => changed(tenantId, name, configure(tenantId, name, config)),

    encrypt(tenantId, name, plaintext, context, keyVersion) {
      return encryptBytes(tenantId, name, checkBytes(plaintext, '/plaintext'), checkContext(context), keyVersion);
    },

    decrypt(tenantId, name, ciphertext, context) {
      return decryptBytes(tenantId, name, ciphertext, checkContext(context));
    },

    rewrap(tenantId, name, ciphertext, context) {
      const checked = checkContext(context);
      const plaintext = decryptBytes(tenantId, name, ciphertext, checked);
      try {
        return encryptBytes(tenantId, name, plaintext, checked);
      } finally {
        plaintext.fill(0);
      }
    },

    dataKey(tenantId, name, options: DataKeyOptions = {}): DataKeyResult {
      const context = checkContext(options.context);
      const plaintext = random(KEY_BYTES) as DataKey;
      const ciphertext = encryptBytes(tenantId, name, plaintext, context);
      if (options.wrappedOnly) {
        plaintext.fill(0);
        return { ciphertext };
      }
      return { ciphertext, plaintext };
    },

    disable: (tenantId, name) => changed(tenantId, name, setDisabled(tenantId, name, true)),
    enable: (tenantId, name) => changed(tenantId, name, setDisabled(tenantId, name, false)),

    destroy(tenantId, name, confirmation) {
      const row = findKey(tenantId, name);
      if (confirmation !== name) {
        throw new InvalidRequestError('to destroy a key, confirm by giving its name', [
          { path: '/confirmation', problem: 'must equal the key name' },
        ]);
      }
      if (row.destroyed_at !== null) return toMetadata(row);
      // secure_delete zeroes the freed cells and pages instead of leaving the (KEK-wrapped) material
      // behind in free space; the checkpoint then moves the zeroed pages out of the WAL into the file.
      const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
      db.pragma('secure_delete = ON');
      try {
        destroyRows(tenantId, name);
      } finally {
        db.pragma(`secure_delete = ${secureDelete ? 'ON' : 'OFF'}`);
      }
      if (!db.inTransaction) db.pragma('wal_checkpoint(TRUNCATE)');
      return changed(tenantId, name, toMetadata(findKey(tenantId, name)));
    },
  };
}
