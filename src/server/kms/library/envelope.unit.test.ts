import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64 } from '../pkcs11/base64.js';
import { openEnvelope, parseEnvelope, sealEnvelope } from './envelope.js';
import { InvalidCiphertextError } from './errors.js';

const binding = { provider: 'local' as const, keyId: 'orders', keyVersion: 3 };

describe('envelopes', () => {
  it('seal and open with the same data key, binding and context', () => {
    const key = randomBytes(32);
    const context = Buffer.from('ctx');
    const envelope = sealEnvelope(key, randomBytes(12), Buffer.from('hello'), { ...binding, context }, 'as:v3:x');
    expect(envelope).toMatchObject({ format: 'allsource/envelope/v1', keyId: 'orders', keyVersion: 3 });
    expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);
    const parsed = parseEnvelope(JSON.parse(JSON.stringify(envelope)));
    expect(openEnvelope(key, parsed, context).toString()).toBe('hello');
    expect(() => openEnvelope(key, parsed, undefined)).toThrow(InvalidCiphertextError);
    expect(() => openEnvelope(randomBytes(32), parsed, context)).toThrow(InvalidCiphertextError);
    expect(() => openEnvelope(key, { ...parsed, keyId: 'other' }, context)).toThrow(InvalidCiphertextError);
    expect(() => openEnvelope(key, { ...parsed, keyVersion: 2 }, context)).toThrow(InvalidCiphertextError);
    expect(() => openEnvelope(key, { ...parsed, provider: 'pkcs11' }, context)).toThrow(InvalidCiphertextError);
    expect(() => openEnvelope(key.subarray(0, 16), parsed, context)).toThrow(InvalidCiphertextError);
  });

  it('parse strictly: wrong types, lengths or non-canonical base64 are invalid', () => {
    const envelope = sealEnvelope(randomBytes(32), randomBytes(12), Buffer.from('x'), binding, 'w');
    expect(parseEnvelope(envelope).keyVersion).toBe(3);
    for (const bad of [
      { ...envelope, iv: randomBytes(11).toString('base64') },
      { ...envelope, tag: randomBytes(12).toString('base64') },
      { ...envelope, keyVersion: 1.5 },
      { ...envelope, keyVersion: -1 },
      { ...envelope, keyId: 7 },
      { ...envelope, wrappedDataKey: null },
      { ...envelope, provider: 'aws' },
      { ...envelope, ciphertext: `${envelope.ciphertext} ` },
      undefined,
    ]) {
      expect(() => parseEnvelope(bad)).toThrow(InvalidCiphertextError);
    }
  });

  it('decode only canonical base64 of the expected length', () => {
    expect(decodeBase64('aGk=')?.toString()).toBe('hi');
    expect(decodeBase64('aGk=', 2)?.toString()).toBe('hi');
    expect(decodeBase64('aGk=', 3)).toBeUndefined();
    expect(decodeBase64('aGl=')).toBeUndefined(); // same bytes, non-canonical padding bits
    expect(decodeBase64('aGk')).toBeUndefined();
    expect(decodeBase64('a-k=')).toBeUndefined();
    expect(decodeBase64(42)).toBeUndefined();
    expect(decodeBase64('')?.length).toBe(0);
  });
});
