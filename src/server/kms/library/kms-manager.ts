import { randomBytes } from 'node:crypto';
import { KEY_BYTES, NONCE_BYTES } from '../keyring/aead.js';
import { checkKeyName } from '../keyring/names.js';
import { openEnvelope, parseEnvelope, sealEnvelope } from './envelope.js';
import { InvalidCiphertextError, InvalidRequestError, KmsClosedError } from './errors.js';
import { localProvider } from './local-provider.js';
import { pkcs11Provider } from './pkcs11-provider.js';
import type { EnvelopeOptions, KeyProvider, KmsConfig, KmsKeyAlgorithm, KmsKeyPurpose, KmsManager } from './types.js';

function checkBytes(value: unknown, path: string): Buffer {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidRequestError(`${path.slice(1)} must be bytes`, [{ path, problem: 'must be a Uint8Array' }]);
  }
  // A view, not a copy: the caller's plaintext is not duplicated in memory.
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function checkContext(options: EnvelopeOptions | undefined): Uint8Array | undefined {
  return options?.context === undefined ? undefined : checkBytes(options.context, '/context');
}

/**
 * The seed's KmsManager with a `local` provider (the store's keyring, one tenant) or a `pkcs11`
 * provider (keys inside a token). Envelope encryption: each call makes a fresh AES-256-GCM data
 * key, encrypts the data locally, and has the provider key wrap the data key.
 *
 * Opening the PKCS#11 session happens here, so a wrong PIN or a missing token throws Pkcs11Error now.
 *
 * @example
 * const kms = createKmsManager({ provider: 'local', keyring, tenantId: 'acme' });
 * const key = await kms.createKey('orders');
 * const envelope = await kms.envelopeEncrypt(key.keyId, Buffer.from('secret'));
 * const plaintext = await kms.envelopeDecrypt(envelope);
 * await kms.rotateKey(key.keyId); // envelope still decrypts
 * await kms.close();
 */
export function createKmsManager(config: KmsConfig): KmsManager {
  let provider: KeyProvider | undefined;
  switch (config?.provider) {
    case 'local':
      provider = localProvider(config);
      break;
    case 'pkcs11':
      provider = pkcs11Provider(config);
      break;
    default:
      throw new InvalidRequestError('unknown KMS provider', [
        { path: '/provider', problem: 'must be local or pkcs11' },
      ]);
  }
  const name = provider.name;

  const live = (): KeyProvider => {
    if (provider === undefined) throw new KmsClosedError();
    return provider;
  };

  return {
    provider: name,

    async createKey(
      keyName: string,
      purpose: KmsKeyPurpose = 'encryption',
      algorithm: KmsKeyAlgorithm = 'aes-256-gcm',
    ) {
      if (purpose !== 'encryption') {
        throw new InvalidRequestError('unsupported key purpose', [{ path: '/purpose', problem: 'must be encryption' }]);
      }
      if (algorithm !== 'aes-256-gcm') {
        throw new InvalidRequestError('unsupported key algorithm', [
          { path: '/algorithm', problem: 'must be aes-256-gcm' },
        ]);
      }
      return live().createKey(checkKeyName(keyName));
    },

    async envelopeEncrypt(keyId, plaintext, options) {
      const p = live();
      checkKeyName(keyId);
      const data = checkBytes(plaintext, '/plaintext');
      const context = checkContext(options);
      const dataKey = randomBytes(KEY_BYTES);
      try {
        const { version, wrapped } = p.wrapDataKey(keyId, dataKey);
        return sealEnvelope(
          dataKey,
          randomBytes(NONCE_BYTES),
          data,
          { provider: name, keyId, keyVersion: version, context },
          wrapped,
        );
      } finally {
        dataKey.fill(0);
      }
    },

    async envelopeDecrypt(envelope, options) {
      const p = live();
      const context = checkContext(options);
      const parsed = parseEnvelope(envelope);
      // An envelope from the other provider, or with a key id no key can have, is not ours.
      if (parsed.provider !== name || !/^[a-zA-Z0-9._-]{1,128}$/.test(parsed.keyId)) throw new InvalidCiphertextError();
      const dataKey = p.unwrapDataKey(parsed.keyId, parsed.keyVersion, parsed.wrappedDataKey);
      try {
        return openEnvelope(dataKey, parsed, context);
      } finally {
        dataKey.fill(0);
      }
    },

    async rotateKey(keyId) {
      return live().rotateKey(checkKeyName(keyId));
    },

    async close() {
      const p = provider;
      provider = undefined;
      p?.close();
    },
  };
}
