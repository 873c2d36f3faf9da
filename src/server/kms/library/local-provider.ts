import { associatedData } from '../keyring/aead.js';
import { parseCiphertext } from '../keyring/ciphertext.js';
import type { Keyring, KeyMetadata } from '../keyring/index.js';
import { InvalidCiphertextError } from './errors.js';
import type { KeyProvider, KmsKey, LocalKmsConfig } from './types.js';

// Keyring context for wrapped data keys: a ciphertext the transit API made with the same key for
// other data cannot be passed off as a data key, nor a data key decrypted through the transit API.
const DATA_KEY_CONTEXT = associatedData('allsource/kms/envelope-data-key/v1', []);

function toKey(meta: KeyMetadata): KmsKey {
  return {
    keyId: meta.name,
    version: meta.latest_version,
    provider: 'local',
    purpose: 'encryption',
    algorithm: 'aes-256-gcm',
    createdAt: meta.created_at,
  };
}

/**
 * Provider keys in the store's keyring (one tenant): each version is an AES-256 key kept encrypted
 * under the keyring KEK; the keyring counts its uses, rotates before the GCM limit, and honours
 * min_decryption_version, disable and destroy.
 */
export function localProvider(config: LocalKmsConfig): KeyProvider {
  const { keyring, tenantId }: { keyring: Keyring; tenantId: string } = config;
  return {
    name: 'local',
    createKey: (keyId) => toKey(keyring.createKey(tenantId, keyId)),
    rotateKey: (keyId) => toKey(keyring.rotate(tenantId, keyId)),
    wrapDataKey(keyId, dataKey) {
      const wrapped = keyring.encrypt(tenantId, keyId, dataKey, DATA_KEY_CONTEXT);
      const parsed = parseCiphertext(wrapped);
      if (!parsed) throw new Error('the keyring returned a malformed ciphertext');
      return { version: parsed.version, wrapped };
    },
    unwrapDataKey(keyId, version, wrapped) {
      // The version is in clear twice (envelope and `as:v<N>:`); they must agree, and the keyring's
      // associated data then authenticates it.
      if (parseCiphertext(wrapped)?.version !== version) throw new InvalidCiphertextError();
      return keyring.decrypt(tenantId, keyId, wrapped, DATA_KEY_CONTEXT);
    },
    close() {
      // The keyring's database belongs to the caller.
    },
  };
}
