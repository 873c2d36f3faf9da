import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../errors/index.js';
import { InvalidCiphertextError, KeyVersionDisabledError } from '../keyring/index.js';
import { createKmsManager } from './kms-manager.js';
import { kmsContract, rejectsWith } from './testing/contract.js';
import { createLocalKmsFixture, type LocalKmsFixture } from './testing/local.js';

let fx: LocalKmsFixture;
beforeEach(() => {
  fx = createLocalKmsFixture();
});
afterEach(() => fx.close());

describe('KmsManager (local provider)', () => {
  for (const [name, check] of Object.entries(kmsContract)) it(name, () => check(fx));

  it('reports the keyring metadata, and keys live in the keyring of its tenant', async () => {
    const key = await fx.kms.createKey('orders');
    expect(key).toEqual({
      keyId: 'orders',
      version: 1,
      provider: 'local',
      purpose: 'encryption',
      algorithm: 'aes-256-gcm',
      createdAt: '2026-03-01T12:00:00.000Z',
    });
    expect(fx.harness.keyring.getKey('acme', 'orders').latest_version).toBe(1);
    expect(fx.harness.keyring.listKeys('globex')).toEqual([]);
    await fx.kms.rotateKey('orders');
    expect(fx.harness.keyring.getKey('acme', 'orders').latest_version).toBe(2);
  });

  it('wraps data keys under a context of their own: the transit API cannot unwrap them', async () => {
    const { keyring } = fx.harness;
    await fx.kms.createKey('orders');
    const envelope = await fx.kms.envelopeEncrypt('orders', Buffer.from('data'));
    expect(envelope.wrappedDataKey).toMatch(/^as:v1:/);
    expect(() => keyring.decrypt('acme', 'orders', envelope.wrappedDataKey)).toThrow(InvalidCiphertextError);
    // Nor is a transit ciphertext of the same key accepted as a wrapped data key.
    const transit = keyring.encrypt('acme', 'orders', Buffer.alloc(32, 1));
    await rejectsWith(fx.kms.envelopeDecrypt({ ...envelope, wrappedDataKey: transit }), InvalidCiphertextError);
  });

  it('honours the keyring min_decryption_version', async () => {
    await fx.kms.createKey('orders');
    const v1 = await fx.kms.envelopeEncrypt('orders', Buffer.from('one'));
    await fx.kms.rotateKey('orders');
    fx.harness.keyring.configure('acme', 'orders', { min_decryption_version: 2 });
    await rejectsWith(fx.kms.envelopeDecrypt(v1), KeyVersionDisabledError);
  });

  it('refuses an unknown provider', () => {
    expect(() => createKmsManager({ provider: 'aws' } as never)).toThrow(InvalidRequestError);
  });
});
