import { associatedData, KEY_BYTES, NONCE_BYTES, open, seal, TAG_BYTES } from '../keyring/aead.js';
import { decodeBase64 } from '../pkcs11/base64.js';
import { InvalidCiphertextError } from './errors.js';
import type { EnvelopeCiphertext, KmsProvider } from './types.js';

export const ENVELOPE_FORMAT = 'allsource/envelope/v1';
const DATA_LABEL = 'allsource/kms/envelope-data/v1';
const NO_CONTEXT = Buffer.alloc(0);
const PROVIDERS: readonly string[] = ['local', 'pkcs11'];

/** What is bound to the data: which provider key and version wrapped its data key, and the caller's context. */
export interface EnvelopeBinding {
  provider: KmsProvider;
  keyId: string;
  keyVersion: number;
  context?: Uint8Array;
}

function dataAad(binding: EnvelopeBinding): Buffer {
  const context = binding.context ? Buffer.from(binding.context) : NO_CONTEXT;
  return associatedData(DATA_LABEL, [binding.provider, binding.keyId, String(binding.keyVersion), context]);
}

/** Encrypts `plaintext` under `dataKey` (AES-256-GCM, fresh 12-byte IV) and assembles the envelope. */
export function sealEnvelope(
  dataKey: Buffer,
  iv: Buffer,
  plaintext: Buffer,
  binding: EnvelopeBinding,
  wrappedDataKey: string,
): EnvelopeCiphertext {
  const sealed = seal(dataKey, iv, plaintext, dataAad(binding));
  return {
    format: ENVELOPE_FORMAT,
    provider: binding.provider,
    keyId: binding.keyId,
    keyVersion: binding.keyVersion,
    algorithm: 'aes-256-gcm',
    wrappedDataKey,
    iv: iv.toString('base64'),
    ciphertext: sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES).toString('base64'),
    tag: sealed.subarray(sealed.length - TAG_BYTES).toString('base64'),
  };
}

/** An envelope whose fields have the right types and lengths; its bytes are not yet authenticated. */
export interface ParsedEnvelope extends EnvelopeBinding {
  wrappedDataKey: string;
  sealed: Buffer;
}

/**
 * Checks an envelope's shape strictly (untrusted JSON), or throws InvalidCiphertextError: one error
 * for every defect, as the keyring does, so that nothing helps an attacker tell them apart.
 */
export function parseEnvelope(value: unknown): ParsedEnvelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidCiphertextError();
  const e = value as Partial<Record<keyof EnvelopeCiphertext, unknown>>;
  const version = e.keyVersion;
  if (
    e.format !== ENVELOPE_FORMAT ||
    e.algorithm !== 'aes-256-gcm' ||
    typeof e.provider !== 'string' ||
    !PROVIDERS.includes(e.provider) ||
    typeof e.keyId !== 'string' ||
    typeof version !== 'number' ||
    !Number.isSafeInteger(version) ||
    version < 1 ||
    typeof e.wrappedDataKey !== 'string'
  ) {
    throw new InvalidCiphertextError();
  }
  const iv = decodeBase64(e.iv, NONCE_BYTES);
  const body = decodeBase64(e.ciphertext);
  const tag = decodeBase64(e.tag, TAG_BYTES);
  if (!iv || !body || !tag) throw new InvalidCiphertextError();
  return {
    provider: e.provider as KmsProvider,
    keyId: e.keyId,
    keyVersion: version,
    wrappedDataKey: e.wrappedDataKey,
    sealed: Buffer.concat([iv, body, tag]),
  };
}

/** Decrypts a parsed envelope with its unwrapped data key, or throws InvalidCiphertextError. */
export function openEnvelope(dataKey: Buffer, parsed: ParsedEnvelope, context: Uint8Array | undefined): Buffer {
  if (dataKey.length !== KEY_BYTES) throw new InvalidCiphertextError();
  const plaintext = open(dataKey, parsed.sealed, dataAad({ ...parsed, context }));
  if (plaintext === undefined) throw new InvalidCiphertextError();
  return plaintext;
}
