import { existsSync } from 'node:fs';
import { readPrivateFile, renameDurably, shredFile, writeFileAtomic } from '../atomic-file.js';
import { generateMasterKey, MasterKeyError, type MasterKey } from '../master-key.js';
import type { MasterKeyProtector, PendingKeySlot } from '../protectors.js';
import { PassphraseRequiredError } from './errors.js';
import {
  DEFAULT_KDF,
  parsePassphraseFile,
  serializePassphraseFile,
  unwrapWithPassphrase,
  wrapWithPassphrase,
  type KdfParams,
} from './format.js';
import { checkNewPassphrase } from './policy.js';

export interface PassphraseProtector extends MasterKeyProtector {
  readonly kind: 'passphrase';
  readonly needsSecret: true;
  readonly file: string;
  readonly pending: PendingKeySlot;
  exists(): boolean;
  load(options: { firstRun: boolean; secret?: string }): Promise<MasterKey>;
}

function readPassphraseFile(path: string) {
  const text = readPrivateFile(path, 'the passphrase file', (message) => new MasterKeyError(message));
  return text === undefined ? undefined : parsePassphraseFile(text, path);
}

function requireSecret(secret: string | undefined): string {
  if (secret === undefined)
    throw new PassphraseRequiredError('the master key is protected by a passphrase: none was given');
  return secret;
}

/** Wraps `masterKey` under `passphrase` and writes it to `path` atomically (0600). */
export async function writePassphraseFile(
  path: string,
  masterKey: MasterKey,
  passphrase: string,
  kdf: KdfParams = DEFAULT_KDF,
): Promise<void> {
  const file = await wrapWithPassphrase(masterKey, passphrase, kdf);
  writeFileAtomic(path, serializePassphraseFile(file));
}

/**
 * The master key wrapped under argon2id(passphrase) with AES-256-GCM, in a 0600 JSON file in the
 * config folder. `load` needs the passphrase as `secret`; a wrong one throws WrongPassphraseError
 * and changes nothing. On a first run with no file, `load` makes a new master key and the file,
 * after checking the passphrase against the policy.
 */
export function passphraseProtector(path: string, options: { kdf?: KdfParams } = {}): PassphraseProtector {
  const kdf = options.kdf ?? DEFAULT_KDF;
  const pendingPath = `${path}.pending`;
  return {
    kind: 'passphrase',
    needsSecret: true,
    file: path,
    description: `passphrase file ${path}`,
    exists: () => existsSync(path),
    async load({ firstRun, secret }) {
      const passphrase = requireSecret(secret);
      const file = readPassphraseFile(path);
      if (file !== undefined) return unwrapWithPassphrase(file, passphrase);
      if (!firstRun) {
        throw new MasterKeyError(
          `the database exists but its passphrase file ${path} is missing: restore it from a backup`,
        );
      }
      checkNewPassphrase(passphrase);
      const key = generateMasterKey();
      try {
        await writePassphraseFile(path, key, passphrase, kdf);
      } catch (error) {
        key.fill(0);
        if (error instanceof MasterKeyError) throw error;
        throw new MasterKeyError(
          `cannot write the passphrase file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      return key;
    },
    pending: {
      description: `passphrase file ${pendingPath}`,
      exists: () => existsSync(pendingPath),
      async load(secret) {
        const file = readPassphraseFile(pendingPath);
        if (file === undefined) throw new MasterKeyError(`the staged passphrase file ${pendingPath} is missing`);
        return unwrapWithPassphrase(file, requireSecret(secret));
      },
      // The staged key is wrapped under the same passphrase (new salt and IV): rotating the master
      // key does not change what the operator types.
      write: (key, secret) => writePassphraseFile(pendingPath, key, requireSecret(secret), kdf),
      commit: () => renameDurably(pendingPath, path),
      discard: () => shredFile(pendingPath),
    },
  };
}

/**
 * Rewraps the master key under a new passphrase; the database is not touched. The old passphrase
 * is checked first (WrongPassphraseError: the file is unchanged), then the new one against the
 * policy, then the file is replaced atomically, so a crash leaves the old or the new file whole.
 */
export async function changePassphrase(
  path: string,
  oldPassphrase: string,
  newPassphrase: string,
  kdf: KdfParams = DEFAULT_KDF,
): Promise<void> {
  const file = readPassphraseFile(path);
  if (file === undefined) throw new MasterKeyError(`there is no passphrase file at ${path}`);
  const key = await unwrapWithPassphrase(file, oldPassphrase);
  try {
    checkNewPassphrase(newPassphrase);
    await writePassphraseFile(path, key, newPassphrase, kdf);
  } finally {
    key.fill(0);
  }
}
