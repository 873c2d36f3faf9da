import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { associatedData, NONCE_BYTES, open, seal } from './keyring/aead.js';
import type { DerivedKey } from './master-key.js';

/**
 * Ed25519 signing keys held by the KMS (the audit trail signs its checkpoints with one). The
 * private key is stored only wrapped: AES-256-GCM under HKDF(master key, 'allsource/audit'),
 * bound to the key id, so a wrapped key moved to another id does not open. Never log key material.
 */
const LABEL = 'allsource/audit-signing-key';

export interface NewSigningKey {
  keyId: string;
  /** SPKI DER, base64: safe to publish (checkpoint files may be verified with it elsewhere). */
  publicKey: string;
  wrappedPrivate: Buffer;
  privateKey: KeyObject;
}

export function generateSigningKey(kek: DerivedKey, keyId: string): NewSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    wrappedPrivate: wrapSigningKey(kek, keyId, privateKey),
    privateKey,
  };
}

export function wrapSigningKey(kek: DerivedKey, keyId: string, privateKey: KeyObject): Buffer {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  try {
    return seal(kek, randomBytes(NONCE_BYTES), der, associatedData(LABEL, [keyId]));
  } finally {
    der.fill(0);
  }
}

/** The private key, or undefined when the wrapping does not open under this KEK. */
export function unwrapSigningKey(kek: DerivedKey, keyId: string, wrapped: Buffer): KeyObject | undefined {
  const der = open(kek, wrapped, associatedData(LABEL, [keyId]));
  if (der === undefined) return undefined;
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

export function publicKeyOf(spkiBase64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
}
