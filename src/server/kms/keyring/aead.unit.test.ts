import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { associatedData, open, seal } from './aead.js';
import { formatCiphertext, parseCiphertext } from './ciphertext.js';

describe('keyring AEAD', () => {
  const key = randomBytes(32);
  const aad = associatedData('label', ['acme', 'orders', '1', Buffer.alloc(0)]);

  it('round-trips and fails on any other key or associated data', () => {
    const sealed = seal(key, randomBytes(12), Buffer.from('hello'), aad);
    expect(sealed.length).toBe(12 + 5 + 16);
    expect(open(key, sealed, aad)?.toString()).toBe('hello');
    expect(open(randomBytes(32), sealed, aad)).toBeUndefined();
    expect(open(key, sealed, associatedData('label', ['acme', 'orders', '2', Buffer.alloc(0)]))).toBeUndefined();
  });

  it('enforces the 16-byte tag: a truncated tag never authenticates', () => {
    const sealed = seal(key, randomBytes(12), Buffer.from('hello'), aad);
    for (let cut = 1; cut <= 12; cut++) expect(open(key, sealed.subarray(0, sealed.length - cut), aad)).toBeUndefined();
    expect(open(key, Buffer.alloc(27), aad)).toBeUndefined();
  });

  it('encodes associated data without ambiguity between field boundaries', () => {
    expect(associatedData('l', ['a|b', 'c']).equals(associatedData('l', ['a', 'b|c']))).toBe(false);
    expect(associatedData('l', ['ab', '']).equals(associatedData('l', ['a', 'b']))).toBe(false);
  });
});

describe('ciphertext format', () => {
  it('parses what it formats', () => {
    const sealed = randomBytes(40);
    const text = formatCiphertext(7, sealed);
    expect(text).toMatch(/^as:v7:[A-Za-z0-9+/]+=*$/);
    expect(parseCiphertext(text)).toEqual({ version: 7, sealed });
  });

  it.each([
    '',
    'as:v1:',
    'as:v0:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'as:v01:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'as:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=', // non-canonical padding bits
    'as:v1:AAAA AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'as:v1:AAAA', // shorter than nonce + tag
    'vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'as:v99999999999:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  ])('refuses %j', (text) => {
    expect(parseCiphertext(text)).toBeUndefined();
  });

  it('refuses what is not a string', () => {
    expect(parseCiphertext(undefined)).toBeUndefined();
    expect(parseCiphertext(42)).toBeUndefined();
  });
});
