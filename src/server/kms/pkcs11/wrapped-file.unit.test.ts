import { describe, expect, it } from 'vitest';
import { formatWrappedMasterKey, parseWrappedMasterKey } from './wrapped-file.js';

describe('wrapped master key file', () => {
  it('round-trips and parses strictly', () => {
    const iv = Buffer.alloc(12, 1);
    const sealed = Buffer.alloc(48, 2);
    const text = formatWrappedMasterKey('master', iv, sealed);
    expect(parseWrappedMasterKey(text)).toEqual({ keyLabel: 'master', iv, sealed });
    const file = JSON.parse(text);
    for (const bad of [
      '',
      '[]',
      'null',
      JSON.stringify({ ...file, format: 'other' }),
      JSON.stringify({ ...file, key_label: '' }),
      JSON.stringify({ ...file, iv: Buffer.alloc(16).toString('base64') }),
      JSON.stringify({ ...file, ciphertext: Buffer.alloc(47).toString('base64') }),
    ]) {
      expect(parseWrappedMasterKey(bad)).toBeUndefined();
    }
  });
});
