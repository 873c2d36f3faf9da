import { existsSync, readFileSync } from 'node:fs';
import { renameDurably, shredFile, writeFileAtomic } from './atomic-file.js';
import { generateMasterKey, MasterKeyError, parseMasterKeyHex, type MasterKey } from './master-key.js';
import type { MasterKeyProtector, PendingKeySlot } from './protectors.js';

/**
 * The part of Electron's `safeStorage` the keychain protector needs. The desktop main process
 * passes `safeStorage` itself; the server never imports Electron.
 */
export interface SecretStorage {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only. 'basic_text' means no keychain at all (a hard-coded key), which is refused. */
  getSelectedStorageBackend?(): string;
}

function checkStorage(storage: SecretStorage): void {
  if (!storage.isEncryptionAvailable()) {
    throw new MasterKeyError('the OS keychain is not available: use the passphrase or key file protector');
  }
  if (storage.getSelectedStorageBackend?.() === 'basic_text') {
    throw new MasterKeyError(
      'the OS keychain backend is basic_text, which protects nothing: install a secret service (GNOME Keyring, KWallet) or use the passphrase protector',
    );
  }
}

function slot(storage: SecretStorage, path: string): Omit<PendingKeySlot, 'commit' | 'discard'> {
  return {
    description: `OS keychain, wrapped key file ${path}`,
    exists: () => existsSync(path),
    load() {
      checkStorage(storage);
      let encrypted: Buffer;
      try {
        encrypted = readFileSync(path);
      } catch (error) {
        throw new MasterKeyError(
          `the keychain-wrapped key file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      let hex: string;
      try {
        hex = storage.decryptString(encrypted);
      } catch {
        throw new MasterKeyError(`the OS keychain cannot decrypt ${path}: it was made by another user or machine`);
      }
      return parseMasterKeyHex(hex, `the keychain-wrapped key file ${path}`);
    },
    write(key: MasterKey) {
      checkStorage(storage);
      writeFileAtomic(path, storage.encryptString(key.toString('hex')));
    },
  };
}

/**
 * The master key encrypted by the OS keychain (Electron safeStorage: Keychain on macOS, DPAPI on
 * Windows, libsecret/kwallet on Linux), stored as a 0600 file in the config folder. The seam for
 * the desktop app: it builds this with `safeStorage` and passes it as `AppOptions.protector`.
 */
export function keychainProtector(storage: SecretStorage, path: string): MasterKeyProtector {
  const current = slot(storage, path);
  const pendingPath = `${path}.pending`;
  const pending = slot(storage, pendingPath);
  return {
    kind: 'keychain',
    description: current.description,
    exists: current.exists,
    load({ firstRun }) {
      if (current.exists()) return current.load() as MasterKey;
      if (!firstRun) {
        throw new MasterKeyError(`the database exists but its keychain-wrapped key file ${path} is missing`);
      }
      const key = generateMasterKey();
      current.write(key);
      return key;
    },
    pending: {
      ...pending,
      commit: () => renameDurably(pendingPath, path),
      discard: () => shredFile(pendingPath),
    },
  };
}
