import type { Keyring } from '../keyring/index.js';

/** Where provider keys live: the local keyring (inside the encrypted database) or a PKCS#11 token. */
export type KmsProvider = 'local' | 'pkcs11';
/** The seed's KeyPurpose; only encryption keys exist here. */
export type KmsKeyPurpose = 'encryption';
/** The seed's KeyAlgorithm; only AES-256-GCM exists here. */
export type KmsKeyAlgorithm = 'aes-256-gcm';

/** A provider key as the manager reports it: metadata only, never key material. */
export interface KmsKey {
  keyId: string;
  /** The latest version: new envelopes use it, older versions still decrypt. */
  version: number;
  provider: KmsProvider;
  purpose: KmsKeyPurpose;
  algorithm: KmsKeyAlgorithm;
  /** ISO 8601, when the provider records it (the local keyring does, a token does not). */
  createdAt?: string;
}

/**
 * Envelope encryption's output, plain JSON: the data was encrypted locally with a fresh AES-256-GCM
 * data key, and the data key was wrapped by version `keyVersion` of provider key `keyId`.
 * Associated data binds provider, key id, version and the caller's context, so an envelope edited
 * or moved to another key does not decrypt.
 */
export interface EnvelopeCiphertext {
  format: 'allsource/envelope/v1';
  provider: KmsProvider;
  keyId: string;
  keyVersion: number;
  algorithm: KmsKeyAlgorithm;
  /** The data key wrapped by the provider key: `as:v<N>:…` (local) or base64 iv ‖ ciphertext ‖ tag (pkcs11). */
  wrappedDataKey: string;
  /** base64, 12 bytes. */
  iv: string;
  /** base64. */
  ciphertext: string;
  /** base64, 16 bytes. */
  tag: string;
}

export interface EnvelopeOptions {
  /** Extra associated data (e.g. a record or field id): decryption needs the same bytes. */
  context?: Uint8Array;
}

/** The seed's KmsManager, in TypeScript: every method is async, like the seed's. */
export interface KmsManager {
  readonly provider: KmsProvider;
  /** Creates a key with version 1. Names: 1 to 128 of letters, digits, `.`, `_`, `-`. */
  createKey(name: string, purpose?: KmsKeyPurpose, algorithm?: KmsKeyAlgorithm): Promise<KmsKey>;
  envelopeEncrypt(keyId: string, plaintext: Uint8Array, options?: EnvelopeOptions): Promise<EnvelopeCiphertext>;
  envelopeDecrypt(envelope: EnvelopeCiphertext, options?: EnvelopeOptions): Promise<Uint8Array>;
  /** Adds a version; new envelopes use it, envelopes under older versions still decrypt. */
  rotateKey(keyId: string): Promise<KmsKey>;
  /** Releases the provider (the token session); later calls fail with KmsClosedError. Idempotent. */
  close(): Promise<void>;
}

/** Keys in the store's own keyring, for one tenant. The caller owns (and closes) the keyring's database. */
export interface LocalKmsConfig {
  provider: 'local';
  keyring: Keyring;
  tenantId: string;
}

/** Keys inside a PKCS#11 token. `pin` is a secret: it is only ever given to C_Login. */
export interface Pkcs11KmsConfig {
  provider: 'pkcs11';
  module: string;
  tokenLabel: string;
  pin: string;
}

export type KmsConfig = LocalKmsConfig | Pkcs11KmsConfig;

/**
 * What a provider does for the manager, synchronously: hold versioned keys and wrap data keys.
 * Data itself is always encrypted by the manager, locally.
 */
export interface KeyProvider {
  readonly name: KmsProvider;
  createKey(keyId: string): KmsKey;
  rotateKey(keyId: string): KmsKey;
  /** Wraps a 32-byte data key under the latest version. */
  wrapDataKey(keyId: string, dataKey: Buffer): { version: number; wrapped: string };
  /** The data key, or InvalidCiphertextError when `wrapped` is not from this key and version. The caller zeroes it. */
  unwrapDataKey(keyId: string, version: number, wrapped: string): Buffer;
  close(): void;
}
