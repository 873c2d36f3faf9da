import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../../errors/index.js';
import {
  InvalidCiphertextError,
  InvalidRequestError,
  KeyConflictError,
  KmsClosedError,
  NotFoundError,
} from '../errors.js';
import { createFieldEncryption, type EncryptedField } from '../field-encryption.js';
import type { EnvelopeCiphertext, KmsManager } from '../types.js';

/**
 * Test support: behaviour every KmsManager provider must show, as plain checks (node:assert) so
 * that the local suite and the SoftHSM2 suite run the very same contract. Not part of the public API.
 */
export interface KmsFixture {
  kms: KmsManager;
  /** Another manager of the same provider with its own keys (another tenant, another token). */
  foreign: KmsManager;
  /** Closes `kms` and opens a new manager over the same keys (a restart). */
  reopen(): Promise<KmsManager>;
}

type Check = (fx: KmsFixture) => Promise<void>;

export async function rejectsWith(promise: Promise<unknown>, type: abstract new (...args: never[]) => DomainError) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return true;
  });
}

const flipChar = (text: string, i: number) =>
  text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 0x01) + text.slice(i + 1);

const STRING_FIELDS = ['wrappedDataKey', 'iv', 'ciphertext', 'tag'] as const;

/** Every one-character change of every field, and every structural change, fails the same way. */
async function assertTamperEvident(kms: KmsManager, envelope: EnvelopeCiphertext, context?: Uint8Array) {
  const options = context ? { context } : undefined;
  for (const field of STRING_FIELDS) {
    const text = envelope[field];
    const step = Math.max(1, Math.floor(text.length / 24));
    for (let i = 0; i < text.length; i += step) {
      await rejectsWith(
        kms.envelopeDecrypt({ ...envelope, [field]: flipChar(text, i) }, options),
        InvalidCiphertextError,
      );
    }
    await rejectsWith(
      kms.envelopeDecrypt({ ...envelope, [field]: flipChar(text, text.length - 1) }, options),
      InvalidCiphertextError,
    );
  }
  const broken: unknown[] = [
    { ...envelope, keyVersion: envelope.keyVersion + 1 },
    { ...envelope, keyVersion: 0 },
    { ...envelope, keyVersion: '1' },
    { ...envelope, provider: envelope.provider === 'local' ? 'pkcs11' : 'local' },
    { ...envelope, format: 'allsource/envelope/v2' },
    { ...envelope, algorithm: 'aes-128-gcm' },
    { ...envelope, ciphertext: `${envelope.ciphertext}AAAA` },
    { ...envelope, keyId: '../etc' },
    { ...envelope, tag: undefined },
    null,
    'text',
    [],
  ];
  for (const value of broken) {
    await rejectsWith(kms.envelopeDecrypt(value as EnvelopeCiphertext, options), InvalidCiphertextError);
  }
}

export const kmsContract: Record<string, Check> = {
  async 'creates keys with version 1 and refuses duplicates, bad names, purposes and algorithms'({ kms }) {
    const key = await kms.createKey('orders');
    assert.equal(key.keyId, 'orders');
    assert.equal(key.version, 1);
    assert.equal(key.provider, kms.provider);
    assert.equal(key.purpose, 'encryption');
    assert.equal(key.algorithm, 'aes-256-gcm');
    await rejectsWith(kms.createKey('orders'), KeyConflictError);
    for (const bad of ['', 'a/b', 'with space', 'x'.repeat(129)])
      await rejectsWith(kms.createKey(bad), InvalidRequestError);
    await rejectsWith(kms.createKey('k2', 'signing' as 'encryption'), InvalidRequestError);
    await rejectsWith(kms.createKey('k3', 'encryption', 'aes-128-cbc' as 'aes-256-gcm'), InvalidRequestError);
    await rejectsWith(kms.rotateKey('missing'), NotFoundError);
    await rejectsWith(kms.envelopeEncrypt('missing', Buffer.from('x')), NotFoundError);
  },

  async 'round-trips empty, small, large and Uint8Array plaintexts through JSON'({ kms }) {
    await kms.createKey('orders');
    const backing = new Uint8Array(64).map((_, i) => i);
    const inputs = [new Uint8Array(0), Buffer.from('hello'), randomBytes(200_000), backing.subarray(10, 20)];
    for (const plaintext of inputs) {
      const envelope = await kms.envelopeEncrypt('orders', plaintext);
      assert.equal(envelope.keyId, 'orders');
      assert.equal(envelope.keyVersion, 1);
      assert.equal(envelope.provider, kms.provider);
      const copy = JSON.parse(JSON.stringify(envelope)) as EnvelopeCiphertext;
      assert.deepEqual(Buffer.from(await kms.envelopeDecrypt(copy)), Buffer.from(plaintext));
    }
    const secret = 'a very recognisable secret value';
    const one = await kms.envelopeEncrypt('orders', Buffer.from(secret));
    const two = await kms.envelopeEncrypt('orders', Buffer.from(secret));
    assert.ok(!JSON.stringify(one).includes(secret));
    assert.ok(!JSON.stringify(one).includes(Buffer.from(secret).toString('base64')));
    // A fresh data key and IV every time.
    assert.notEqual(one.wrappedDataKey, two.wrappedDataKey);
    assert.notEqual(one.iv, two.iv);
    assert.notEqual(one.ciphertext, two.ciphertext);
  },

  async 'binds the context: decryption needs the same bytes'({ kms }) {
    await kms.createKey('orders');
    const context = Buffer.from('record-42');
    const envelope = await kms.envelopeEncrypt('orders', Buffer.from('data'), { context });
    assert.equal(Buffer.from(await kms.envelopeDecrypt(envelope, { context })).toString(), 'data');
    await rejectsWith(kms.envelopeDecrypt(envelope), InvalidCiphertextError);
    await rejectsWith(kms.envelopeDecrypt(envelope, { context: Buffer.from('record-43') }), InvalidCiphertextError);
    const plain = await kms.envelopeEncrypt('orders', Buffer.from('data'));
    await rejectsWith(kms.envelopeDecrypt(plain, { context }), InvalidCiphertextError);
  },

  async 'detects any changed byte or field of an envelope'({ kms }) {
    await kms.createKey('orders');
    await assertTamperEvident(kms, await kms.envelopeEncrypt('orders', Buffer.from('payload bytes')));
    const context = Buffer.from('ctx');
    await assertTamperEvident(kms, await kms.envelopeEncrypt('orders', Buffer.from('payload'), { context }), context);
  },

  async 'refuses an envelope moved to another key, or to another tenant or token'({ kms, foreign }) {
    await kms.createKey('orders');
    await kms.createKey('billing');
    await foreign.createKey('orders');
    const envelope = await kms.envelopeEncrypt('orders', Buffer.from('data'));
    await rejectsWith(kms.envelopeDecrypt({ ...envelope, keyId: 'billing' }), InvalidCiphertextError);
    await rejectsWith(kms.envelopeDecrypt({ ...envelope, keyId: 'nothing' }), NotFoundError);
    // Same key name elsewhere is another key.
    await rejectsWith(foreign.envelopeDecrypt(envelope), InvalidCiphertextError);
    // A data key wrapped by one key, spliced into an envelope of another, does not open it.
    const billing = await kms.envelopeEncrypt('billing', Buffer.from('data'));
    await rejectsWith(
      kms.envelopeDecrypt({ ...billing, wrappedDataKey: envelope.wrappedDataKey }),
      InvalidCiphertextError,
    );
    await rejectsWith(
      kms.envelopeDecrypt({ ...envelope, wrappedDataKey: billing.wrappedDataKey }),
      InvalidCiphertextError,
    );
  },

  async 'rotates: new envelopes use the new version, old ones still decrypt, also after a restart'(fx) {
    const { kms } = fx;
    await kms.createKey('orders');
    const v1 = await kms.envelopeEncrypt('orders', Buffer.from('one'));
    const rotated = await kms.rotateKey('orders');
    assert.equal(rotated.version, 2);
    const v2 = await kms.envelopeEncrypt('orders', Buffer.from('two'));
    assert.equal(v2.keyVersion, 2);
    assert.equal((await kms.rotateKey('orders')).version, 3);
    const v3 = await kms.envelopeEncrypt('orders', Buffer.from('three'));
    assert.equal(v3.keyVersion, 3);
    // The version is authenticated: v1 relabelled as v2 does not decrypt.
    await rejectsWith(kms.envelopeDecrypt({ ...v1, keyVersion: 2 }), InvalidCiphertextError);
    const again = await fx.reopen();
    assert.equal(Buffer.from(await again.envelopeDecrypt(v1)).toString(), 'one');
    assert.equal(Buffer.from(await again.envelopeDecrypt(v2)).toString(), 'two');
    assert.equal(Buffer.from(await again.envelopeDecrypt(v3)).toString(), 'three');
    assert.equal((await again.envelopeEncrypt('orders', Buffer.from('x'))).keyVersion, 3);
    await rejectsWith(again.envelopeDecrypt({ ...v3, keyVersion: 4 }), InvalidCiphertextError);
  },

  async 'refuses non-bytes plaintext and context, and everything after close'({ kms }) {
    await kms.createKey('orders');
    await rejectsWith(kms.envelopeEncrypt('orders', 'text' as unknown as Uint8Array), InvalidRequestError);
    await rejectsWith(
      kms.envelopeEncrypt('orders', Buffer.from('x'), { context: 'c' as unknown as Uint8Array }),
      InvalidRequestError,
    );
    const envelope = await kms.envelopeEncrypt('orders', Buffer.from('x'));
    await kms.close();
    await kms.close();
    await rejectsWith(kms.envelopeDecrypt(envelope), KmsClosedError);
    await rejectsWith(kms.envelopeEncrypt('orders', Buffer.from('x')), KmsClosedError);
    await rejectsWith(kms.createKey('more'), KmsClosedError);
    await rejectsWith(kms.rotateKey('orders'), KmsClosedError);
  },
};

export const fieldEncryptionContract: Record<string, Check> = {
  async 'encrypts strings to JSON that names the field, and decrypts them'({ kms }) {
    await kms.createKey('pii');
    const fields = createFieldEncryption({ kms, keyId: 'pii' });
    for (const value of ['123-45-6789', '', 'Zoë — 東京 🔐', 'x'.repeat(10_000)]) {
      const encrypted = await fields.encryptString(value, 'ssn');
      assert.equal(encrypted.fieldName, 'ssn');
      assert.equal(encrypted.envelope.keyId, 'pii');
      const json = JSON.stringify(encrypted);
      if (value.length > 0) assert.ok(!json.includes(value));
      assert.equal(await fields.decryptString(JSON.parse(json) as EncryptedField), value);
      assert.equal(await fields.decryptString(encrypted, 'ssn'), value);
    }
    await rejectsWith(fields.encryptString(42 as unknown as string, 'ssn'), InvalidRequestError);
    await rejectsWith(fields.encryptString('x', ''), InvalidRequestError);
  },

  async 'refuses a value moved to another field, another key, or changed'({ kms }) {
    await kms.createKey('pii');
    await kms.createKey('other');
    const fields = createFieldEncryption({ kms, keyId: 'pii' });
    const encrypted = await fields.encryptString('secret', 'ssn');
    await rejectsWith(fields.decryptString(encrypted, 'email'), InvalidCiphertextError);
    await rejectsWith(fields.decryptString({ ...encrypted, fieldName: 'email' }), InvalidCiphertextError);
    const otherFields = createFieldEncryption({ kms, keyId: 'other' });
    await rejectsWith(otherFields.decryptString(encrypted), InvalidCiphertextError);
    await rejectsWith(
      otherFields.decryptString({ ...encrypted, envelope: { ...encrypted.envelope, keyId: 'other' } }),
      InvalidCiphertextError,
    );
    const { envelope } = encrypted;
    await rejectsWith(
      fields.decryptString({ ...encrypted, envelope: { ...envelope, ciphertext: flipChar(envelope.ciphertext, 0) } }),
      InvalidCiphertextError,
    );
    for (const bad of [null, {}, { ...encrypted, format: 'v0' }, { ...encrypted, envelope: null }]) {
      await rejectsWith(fields.decryptString(bad as EncryptedField), InvalidCiphertextError);
    }
    // Bytes that authenticate but are not UTF-8 were not made by encryptString.
    const raw = await kms.envelopeEncrypt('pii', Buffer.from([0xff, 0xfe]), {
      context: Buffer.from('not the field context'),
    });
    await rejectsWith(fields.decryptString({ ...encrypted, envelope: raw }), InvalidCiphertextError);
  },

  async 'rotates keys: new values use the new version, old values still decrypt'(fx) {
    await fx.kms.createKey('pii');
    const fields = createFieldEncryption({ kms: fx.kms, keyId: 'pii' });
    const old = await fields.encryptString('before', 'ssn');
    const rotated = await fields.rotateKeys();
    assert.equal(rotated.version, 2);
    const fresh = await fields.encryptString('after', 'ssn');
    assert.equal(old.envelope.keyVersion, 1);
    assert.equal(fresh.envelope.keyVersion, 2);
    assert.equal(await fields.decryptString(old), 'before');
    const reopened = createFieldEncryption({ kms: await fx.reopen(), keyId: 'pii' });
    assert.equal(await reopened.decryptString(old, 'ssn'), 'before');
    assert.equal(await reopened.decryptString(fresh, 'ssn'), 'after');
  },
};
