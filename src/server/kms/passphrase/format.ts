import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { associatedData, open, seal, NONCE_BYTES, TAG_BYTES } from '../keyring/aead.js';
import { MASTER_KEY_BYTES, MasterKeyError, type MasterKey } from '../master-key.js';
import { WrongPassphraseError } from './errors.js';
import { MAX_PASSPHRASE_LENGTH, normalizePassphrase } from './policy.js';

export const PASSPHRASE_FILE_FORMAT = 'allsource.master-key.passphrase';
export const PASSPHRASE_FILE_VERSION = 1;

/** argon2id cost. Stored in each file, so raising the defaults later does not break old files. */
export interface KdfParams {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

/** About 0.2 s on the reference machine (measured); OWASP's argon2id minimum is 19 MiB, t=2. */
export const DEFAULT_KDF: KdfParams = { memoryKib: 65_536, iterations: 3, parallelism: 1 };

const SALT_BYTES = 16;
const LABEL = 'allsource/master-key/passphrase/v1';

/** The JSON on disk. Base64 everywhere; `ciphertext` is the AES-256-GCM ciphertext followed by its 16-byte tag. */
export interface PassphraseFile {
  format: typeof PASSPHRASE_FILE_FORMAT;
  version: typeof PASSPHRASE_FILE_VERSION;
  kdf: { algorithm: 'argon2id'; memory_kib: number; iterations: number; parallelism: number; salt: string };
  cipher: { algorithm: 'aes-256-gcm'; iv: string; ciphertext: string };
}

/** Binds the ciphertext to the format and the KDF parameters: editing the header fails the tag. */
function aad(file: Pick<PassphraseFile, 'kdf'>): Buffer {
  const { memory_kib, iterations, parallelism, salt } = file.kdf;
  return associatedData(LABEL, [String(memory_kib), String(iterations), String(parallelism), salt]);
}

async function deriveKek(passphrase: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  const input = Buffer.from(normalizePassphrase(passphrase), 'utf8');
  try {
    return await argon2.hash(input, {
      type: argon2.argon2id,
      raw: true,
      salt,
      hashLength: 32,
      memoryCost: params.memoryKib,
      timeCost: params.iterations,
      parallelism: params.parallelism,
    });
  } finally {
    input.fill(0);
  }
}

/** Wraps `masterKey` under argon2id(passphrase, fresh salt) with AES-256-GCM and a fresh IV. */
export async function wrapWithPassphrase(
  masterKey: MasterKey,
  passphrase: string,
  params: KdfParams = DEFAULT_KDF,
): Promise<PassphraseFile> {
  const salt = randomBytes(SALT_BYTES);
  const kek = await deriveKek(passphrase, salt, params);
  const kdf = {
    algorithm: 'argon2id' as const,
    memory_kib: params.memoryKib,
    iterations: params.iterations,
    parallelism: params.parallelism,
    salt: salt.toString('base64'),
  };
  try {
    const sealed = seal(kek, randomBytes(NONCE_BYTES), masterKey, aad({ kdf }));
    return {
      format: PASSPHRASE_FILE_FORMAT,
      version: PASSPHRASE_FILE_VERSION,
      kdf,
      cipher: {
        algorithm: 'aes-256-gcm',
        iv: sealed.subarray(0, NONCE_BYTES).toString('base64'),
        ciphertext: sealed.subarray(NONCE_BYTES).toString('base64'),
      },
    };
  } finally {
    kek.fill(0);
  }
}

/**
 * The master key, or WrongPassphraseError. A wrong passphrase costs the same argon2 run as a
 * right one and is detected only by the GCM tag, so timing says nothing about how close it was.
 */
export async function unwrapWithPassphrase(file: PassphraseFile, passphrase: string): Promise<MasterKey> {
  if (passphrase.length === 0 || [...passphrase].length > MAX_PASSPHRASE_LENGTH) throw new WrongPassphraseError();
  const params = { memoryKib: file.kdf.memory_kib, iterations: file.kdf.iterations, parallelism: file.kdf.parallelism };
  const kek = await deriveKek(passphrase, Buffer.from(file.kdf.salt, 'base64'), params);
  try {
    const sealed = Buffer.concat([
      Buffer.from(file.cipher.iv, 'base64'),
      Buffer.from(file.cipher.ciphertext, 'base64'),
    ]);
    const key = open(kek, sealed, aad(file));
    if (key === undefined) throw new WrongPassphraseError();
    if (key.length !== MASTER_KEY_BYTES) {
      key.fill(0);
      throw new WrongPassphraseError();
    }
    return key as MasterKey;
  } finally {
    kek.fill(0);
  }
}

export function serializePassphraseFile(file: PassphraseFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isBase64(value: unknown, bytes?: number): value is string {
  return (
    typeof value === 'string' &&
    BASE64.test(value) &&
    (bytes === undefined || Buffer.from(value, 'base64').length === bytes)
  );
}

function intIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Parses and checks the file. The KDF bounds stop a tampered file from asking for terabytes of
 * memory; `source` names the file in the error.
 */
export function parsePassphraseFile(text: string, source: string): PassphraseFile {
  const damaged = (why: string): never => {
    throw new MasterKeyError(`the passphrase file ${source} is damaged (${why}): restore it from a backup`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return damaged('not JSON');
  }
  const file = raw as Partial<PassphraseFile> | null;
  if (typeof file !== 'object' || file === null) return damaged('not an object');
  if (file.format !== PASSPHRASE_FILE_FORMAT) return damaged('unknown format');
  if (file.version !== PASSPHRASE_FILE_VERSION) return damaged(`unsupported version ${String(file.version)}`);
  const kdf = file.kdf;
  if (
    typeof kdf !== 'object' ||
    kdf === null ||
    kdf.algorithm !== 'argon2id' ||
    !intIn(kdf.memory_kib, 8 * 1024, 4 * 1024 * 1024) ||
    !intIn(kdf.iterations, 1, 64) ||
    !intIn(kdf.parallelism, 1, 16) ||
    !isBase64(kdf.salt, SALT_BYTES)
  ) {
    return damaged('bad kdf parameters');
  }
  const cipher = file.cipher;
  if (
    typeof cipher !== 'object' ||
    cipher === null ||
    cipher.algorithm !== 'aes-256-gcm' ||
    !isBase64(cipher.iv, NONCE_BYTES) ||
    !isBase64(cipher.ciphertext, MASTER_KEY_BYTES + TAG_BYTES)
  ) {
    return damaged('bad cipher fields');
  }
  return file as PassphraseFile;
}
