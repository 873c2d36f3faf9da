import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { associatedData } from '../keyring/aead.js';
import { generateMasterKey, MASTER_KEY_BYTES, type MasterKey } from '../master-key.js';
import { renameDurably, shredFile, writeFileAtomic } from '../atomic-file.js';
import type { MasterKeyProtector, PendingKeySlot } from '../protectors.js';
import { Pkcs11Error } from './errors.js';
import { type ObjectHandle, type Pkcs11Session, type Pkcs11TokenOptions, withPkcs11Session } from './session.js';
import { formatWrappedMasterKey, parseWrappedMasterKey, type WrappedMasterKey } from './wrapped-file.js';

/** Configuration of the PKCS#11 protector. `pin` is a secret: it is never logged nor put in an error. */
export interface Pkcs11ProtectorOptions extends Pkcs11TokenOptions {
  /** Label of the AES-256 key inside the token that wraps the master key (created on first run). */
  keyLabel: string;
  /** Where the wrapped master key (JSON) lives; keep it out of the data directory, like a key file. */
  wrappedKeyFile: string;
}

/**
 * The protector, with a synchronous `load`: it satisfies MasterKeyProtector whether that interface's
 * `load` returns a key or a promise of one.
 */
export interface Pkcs11Protector extends MasterKeyProtector {
  load(options: { firstRun: boolean }): MasterKey;
  /** True when the wrapped key file exists (so `load` will not create a key). */
  exists(): boolean;
  /** `<wrappedKeyFile>.pending`: a new master key wrapped by the same token key, for rotate-master. */
  readonly pending: PendingKeySlot;
}

const WRAP_LABEL = 'allsource/pkcs11/master-key/v1';

function wrapAad(keyLabel: string): Buffer {
  return associatedData(WRAP_LABEL, [keyLabel]);
}

/**
 * Protects the master key with a non-extractable AES-256 key inside a PKCS#11 token: the token
 * encrypts the master key (CKM_AES_GCM) and only the wrapped form is written to disk. Without the
 * token and its PIN the file is useless; without the file the token key alone cannot give the
 * master key back, so back the file up.
 *
 * `load` is synchronous, which satisfies both a synchronous and a promise-returning `load` contract.
 *
 * @example
 * const protector = pkcs11Protector({
 *   module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'allsource', pin: process.env.PIN!,
 *   keyLabel: 'allsource-master', wrappedKeyFile: '/home/me/.config/allsource/master-key.pkcs11.json',
 * });
 * const masterKey = protector.load({ firstRun: true });
 */
export function pkcs11Protector(options: Pkcs11ProtectorOptions): Pkcs11Protector {
  const { tokenLabel, keyLabel, wrappedKeyFile } = options;
  return {
    description: `PKCS#11 token "${tokenLabel}" key "${keyLabel}", wrapped key file ${wrappedKeyFile}`,
    exists: () => existsSync(wrappedKeyFile),
    pending: pendingSlot(options),
    load({ firstRun }) {
      const text = readWrappedFile(wrappedKeyFile);
      if (text !== undefined) return unwrapMasterKey(options, text);
      if (!firstRun) {
        throw new Pkcs11Error(
          'wrapped_key_missing',
          `the database exists but its wrapped master key file ${wrappedKeyFile} is missing: restore it from a backup`,
        );
      }
      return createMasterKey(options);
    },
  };
}

/** The file's text, or undefined when it does not exist. */
function readWrappedFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new Pkcs11Error(
      'wrapped_key_invalid',
      `the wrapped master key file ${path} cannot be read (${code ?? 'error'})`,
    );
  }
}

function unwrapMasterKey(options: Pkcs11ProtectorOptions, text: string): MasterKey {
  const { tokenLabel, keyLabel, wrappedKeyFile } = options;
  const wrapped = parseWrappedMasterKey(text);
  if (wrapped === undefined) {
    throw new Pkcs11Error('wrapped_key_invalid', `the wrapped master key file ${wrappedKeyFile} is damaged`);
  }
  if (wrapped.keyLabel !== keyLabel) {
    throw new Pkcs11Error(
      'wrapped_key_invalid',
      `the wrapped master key file ${wrappedKeyFile} was made with token key "${wrapped.keyLabel}", not "${keyLabel}"`,
    );
  }
  return withPkcs11Session(options, (session) => {
    const key = session.findSecretKey(keyLabel);
    if (key === undefined) {
      throw new Pkcs11Error(
        'key_missing',
        `the PKCS#11 token "${tokenLabel}" has no key labelled "${keyLabel}", which the master key in ${wrappedKeyFile} needs`,
      );
    }
    session.assertKeyIsProtected(key, keyLabel);
    return openWrapped(session, key, wrapped, wrappedKeyFile);
  });
}

function openWrapped(session: Pkcs11Session, key: ObjectHandle, wrapped: WrappedMasterKey, path: string): MasterKey {
  const plain = session.decryptAesGcm(key, wrapped.iv, wrapAad(wrapped.keyLabel), wrapped.sealed);
  if (plain === undefined || plain.length !== MASTER_KEY_BYTES) {
    plain?.fill(0);
    throw new Pkcs11Error(
      'wrapped_key_invalid',
      `the wrapped master key file ${path} does not decrypt under token key "${wrapped.keyLabel}": it was changed, or belongs to another key`,
    );
  }
  return plain as MasterKey;
}

/** First run: the token key (made if absent), a new master key, and the file, which is never overwritten. */
function createMasterKey(options: Pkcs11ProtectorOptions): MasterKey {
  const { keyLabel, wrappedKeyFile } = options;
  const masterKey = generateMasterKey();
  try {
    const iv = randomBytes(12);
    const sealed = withPkcs11Session(options, (session) => {
      const key = session.findSecretKey(keyLabel) ?? session.generateAesKey(keyLabel);
      session.assertKeyIsProtected(key, keyLabel);
      return session.encryptAesGcm(key, iv, wrapAad(keyLabel), masterKey);
    });
    writeWrappedFile(wrappedKeyFile, formatWrappedMasterKey(keyLabel, iv, sealed));
    return masterKey;
  } catch (error) {
    masterKey.fill(0);
    throw error;
  }
}

function writeWrappedFile(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' fails if another process wrote the file meanwhile, rather than replacing its master key.
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new Pkcs11Error('wrapped_key_write_failed', `cannot create the wrapped master key file ${path} (${code})`);
  }
}

/**
 * The staged key of a master-key rotation: wrapped by the same token key into a file beside the
 * current one, then renamed over it once the database has been re-keyed (see kms/rotation).
 */
function pendingSlot(options: Pkcs11ProtectorOptions): PendingKeySlot {
  const { keyLabel, tokenLabel, wrappedKeyFile } = options;
  const pendingPath = `${wrappedKeyFile}.pending`;
  return {
    description: `wrapped key file ${pendingPath}`,
    exists: () => existsSync(pendingPath),
    load() {
      const text = readWrappedFile(pendingPath);
      if (text === undefined) {
        throw new Pkcs11Error('wrapped_key_missing', `the staged wrapped master key file ${pendingPath} is missing`);
      }
      return unwrapMasterKey({ ...options, wrappedKeyFile: pendingPath }, text);
    },
    write(key) {
      const iv = randomBytes(12);
      const sealed = withPkcs11Session(options, (session) => {
        const tokenKey = session.findSecretKey(keyLabel);
        if (tokenKey === undefined) {
          throw new Pkcs11Error('key_missing', `the PKCS#11 token "${tokenLabel}" has no key labelled "${keyLabel}"`);
        }
        session.assertKeyIsProtected(tokenKey, keyLabel);
        return session.encryptAesGcm(tokenKey, iv, wrapAad(keyLabel), key);
      });
      writeFileAtomic(pendingPath, formatWrappedMasterKey(keyLabel, iv, sealed));
    },
    commit: () => renameDurably(pendingPath, wrappedKeyFile),
    discard: () => shredFile(pendingPath),
  };
}
