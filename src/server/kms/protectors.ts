import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readPrivateFile, renameDurably, shredFile, writeFileAtomic } from './atomic-file.js';
import { generateMasterKey, MasterKeyError, parseMasterKeyHex, type MasterKey } from './master-key.js';

/** The protectors `key_protector` can name, plus the OS keychain, which the desktop app injects. */
export type ProtectorKind = 'env' | 'file' | 'passphrase' | 'pkcs11' | 'keychain';

export interface LoadOptions {
  /**
   * True when no database exists yet: only then may a protector create a new key, because a new
   * key cannot open an existing database.
   */
  firstRun: boolean;
  /** What a person typed (the passphrase), for protectors with `needsSecret`. Never logged. */
  secret?: string;
}

/**
 * Where the master key comes from. Every protector (environment, key file, passphrase, PKCS#11,
 * OS keychain) implements this interface; the rest of the server only sees a MasterKey. Only
 * `description` and `load` are required, so a protector written elsewhere (PKCS#11) plugs in as is.
 */
export interface MasterKeyProtector {
  /** Short, secret-free description for logs: "environment ALLSOURCE_MASTER_KEY", "key file /…". */
  readonly description: string;
  readonly kind?: ProtectorKind;
  /**
   * True when `load` needs a secret from a person (a passphrase). Without one the server starts
   * locked and waits for an unlock.
   */
  readonly needsSecret?: boolean;
  /** Returns the master key; the caller zeroes it when done. */
  load(options: LoadOptions): MasterKey | Promise<MasterKey>;
  /** True when the protected key is already stored (so `load` will not create one). */
  exists?(): boolean;
  /**
   * Where `allsource keys rotate-master` stages the next master key until the re-keyed database
   * is in place. Absent when the protector cannot take a new key (the environment).
   */
  readonly pending?: PendingKeySlot;
}

/** The second slot of a protector, used only while a master-key rotation is in progress. */
export interface PendingKeySlot {
  readonly description: string;
  exists(): boolean;
  /** The staged key, unlocked with the same secret as the current one. */
  load(secret?: string): MasterKey | Promise<MasterKey>;
  /** Stages `key` durably (atomic write), protected the same way as the current key. */
  write(key: MasterKey, secret?: string): void | Promise<void>;
  /** Atomically makes the staged key the current one (a rename). */
  commit(): void;
  /** Overwrites and removes the staged key. */
  discard(): void;
}

/** `ALLSOURCE_MASTER_KEY`: 64 hex characters, supplied by the environment (CI, containers, tests). */
export function environmentProtector(hex: string): MasterKeyProtector {
  return {
    kind: 'env',
    description: 'environment ALLSOURCE_MASTER_KEY',
    load: () => parseMasterKeyHex(hex, 'ALLSOURCE_MASTER_KEY'),
    exists: () => true,
  };
}

function readKeyFile(path: string): MasterKey | undefined {
  const text = readPrivateFile(path, 'master key file', (message) => new MasterKeyError(message));
  return text === undefined ? undefined : parseMasterKeyHex(text, `master key file ${path}`);
}

/**
 * A 0600 file holding the key as hex, kept in the config folder and never in the data
 * directory, so that copying the data directory does not copy its key.
 */
export function keyFileProtector(path: string): MasterKeyProtector {
  const pendingPath = `${path}.pending`;
  return {
    kind: 'file',
    description: `key file ${path}`,
    exists: () => existsSync(path),
    load({ firstRun }) {
      const key = readKeyFile(path);
      if (key !== undefined) return key;
      if (!firstRun) {
        throw new MasterKeyError(
          `the database exists but its master key file ${path} is missing: restore it, or set ALLSOURCE_MASTER_KEY`,
        );
      }
      return createKeyFile(path);
    },
    pending: {
      description: `key file ${pendingPath}`,
      exists: () => existsSync(pendingPath),
      load() {
        const key = readKeyFile(pendingPath);
        if (key === undefined) throw new MasterKeyError(`the staged master key file ${pendingPath} is missing`);
        return key;
      },
      write: (key) => writeFileAtomic(pendingPath, `${key.toString('hex')}\n`),
      commit: () => renameDurably(pendingPath, path),
      discard: () => shredFile(pendingPath),
    },
  };
}

/** Writes a new key file (never over an existing one) holding `key`, or a new random key. */
export function createKeyFile(path: string, key: MasterKey = generateMasterKey()): MasterKey {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' fails if another process created the file meanwhile, rather than overwriting its key.
    writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new MasterKeyError(`cannot create the master key file ${path} (${code})`);
  }
  return key;
}
