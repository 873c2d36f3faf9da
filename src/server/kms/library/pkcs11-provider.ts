import { randomBytes } from 'node:crypto';
import { associatedData, NONCE_BYTES } from '../keyring/aead.js';
import { decodeBase64 } from '../pkcs11/base64.js';
import { Pkcs11Session } from '../pkcs11/session.js';
import { InvalidCiphertextError, KeyConflictError, NotFoundError } from './errors.js';
import type { KeyProvider, KmsKey, Pkcs11KmsConfig } from './types.js';

const WRAP_LABEL = 'allsource/kms/pkcs11/data-key/v1';
const DATA_KEY_BYTES = 32;

/** Token label of one version of a key. Key ids cannot contain `/` (checkKeyName), so labels never collide. */
export function versionLabel(keyId: string, version: number): string {
  return `${keyId}/v${version}`;
}

function toKey(keyId: string, version: number): KmsKey {
  return { keyId, version, provider: 'pkcs11', purpose: 'encryption', algorithm: 'aes-256-gcm' };
}

/**
 * Provider keys inside a PKCS#11 token: every version is its own non-extractable, sensitive AES-256
 * token key labelled `<keyId>/v<N>`. Data keys are wrapped by C_Encrypt with CKM_AES_GCM, their
 * associated data binding key id and version. One logged-in session lives until close().
 *
 * Unlike the local keyring, the token does not count GCM operations: rotate well before 2^32
 * wrappings under one version.
 */
export function pkcs11Provider(config: Pkcs11KmsConfig): KeyProvider {
  const session = Pkcs11Session.open(config);
  // Versions are only ever added, so a known latest version is a safe starting point for the probe.
  const knownLatest = new Map<string, number>();

  function latestVersion(keyId: string): number {
    let version = knownLatest.get(keyId) ?? 0;
    while (session.findSecretKey(versionLabel(keyId, version + 1)) !== undefined) version += 1;
    if (version === 0) throw new NotFoundError(`no key named ${JSON.stringify(keyId)}`, { name: keyId });
    knownLatest.set(keyId, version);
    return version;
  }

  function addVersion(keyId: string, version: number): KmsKey {
    const label = versionLabel(keyId, version);
    session.assertKeyIsProtected(session.generateAesKey(label), label);
    knownLatest.set(keyId, version);
    return toKey(keyId, version);
  }

  function versionKey(keyId: string, version: number) {
    const label = versionLabel(keyId, version);
    const key = session.findSecretKey(label);
    if (key !== undefined) return key;
    // A version the key never had, or a key that does not exist: an unknown version is a bad
    // ciphertext (as in the keyring), an unknown key is not found.
    if (session.findSecretKey(versionLabel(keyId, 1)) === undefined) {
      throw new NotFoundError(`no key named ${JSON.stringify(keyId)}`, { name: keyId });
    }
    throw new InvalidCiphertextError();
  }

  const aad = (keyId: string, version: number) => associatedData(WRAP_LABEL, [keyId, String(version)]);

  return {
    name: 'pkcs11',
    createKey(keyId) {
      if (session.findSecretKey(versionLabel(keyId, 1)) !== undefined) throw new KeyConflictError(keyId);
      return addVersion(keyId, 1);
    },
    rotateKey: (keyId) => addVersion(keyId, latestVersion(keyId) + 1),
    wrapDataKey(keyId, dataKey) {
      const version = latestVersion(keyId);
      const iv = randomBytes(NONCE_BYTES);
      const sealed = session.encryptAesGcm(versionKey(keyId, version), iv, aad(keyId, version), dataKey);
      return { version, wrapped: Buffer.concat([iv, sealed]).toString('base64') };
    },
    unwrapDataKey(keyId, version, wrapped) {
      const bytes = decodeBase64(wrapped, NONCE_BYTES + DATA_KEY_BYTES + 16);
      if (bytes === undefined) throw new InvalidCiphertextError();
      const key = versionKey(keyId, version);
      const iv = bytes.subarray(0, NONCE_BYTES);
      const dataKey = session.decryptAesGcm(key, iv, aad(keyId, version), bytes.subarray(NONCE_BYTES));
      if (dataKey === undefined || dataKey.length !== DATA_KEY_BYTES) {
        dataKey?.fill(0);
        throw new InvalidCiphertextError();
      }
      return dataKey;
    },
    close: () => session.close(),
  };
}
